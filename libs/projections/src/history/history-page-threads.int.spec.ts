import { stringify } from 'csv-stringify';
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { ReadModelStore } from '../read-model-store';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import { projectedSeed, readModelStoreFactory } from '../testing/projection-fixtures';
import { CSV_COLUMNS, CSV_OPTIONS } from './csv-cells';
import { HistoryPageThreads } from './history-page-threads';
import { HistoryFilter, HistoryQueries } from './history.query';

/** The export as it was streamed before the CSV threads: every row through one streaming csv-stringify. */
async function streamedExport(queries: HistoryQueries, filter: HistoryFilter, pageRows: number): Promise<Buffer> {
  const csv = stringify({ ...CSV_OPTIONS, columns: CSV_COLUMNS });
  const chunks: Buffer[] = [];
  csv.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = once(csv, 'end');
  for await (const page of queries.csvRows(filter, pageRows)) for (const row of page) csv.write(row);
  csv.end();
  await ended;
  return Buffer.concat(chunks);
}

async function threadedExport(queries: HistoryQueries, filter: HistoryFilter, pageRows: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const bytes of queries.csvBytes(filter, pageRows)) chunks.push(bytes);
  return Buffer.concat(chunks);
}

describe.each(['sqlite', 'postgres'] as const)(
  'history pages written in a thread: the CSV export gives the bytes of the streamed export, JSON pages the text of the page objects, on %s',
  (kind) => {
    const stores = readModelStoreFactory(kind);
    const logDir = mkdtempSync(join(tmpdir(), 'ledger-csv-threads-'));
    const log = SqliteEventStore.open(logDir);
    let readModels: ReadModelStore;
    let account: string;
    let member: string;

    beforeAll(async () => {
      ({ readModels, account, member } = await projectedSeed(stores, log, { accounts: 3, events: 1_200, seed: 17, months: 2, start: '2026-01-01T00:00:00Z' }));
    }, 120_000);
    afterAll(async () => {
      await stores.closeAll();
      await log.close();
      rmSync(logDir, { recursive: true, force: true });
    });

    it.each([
      ['every row, pages of 7', { includeRefunds: true }, 7],
      ['every row, one page', { includeRefunds: true }, 5_000],
      ['refunds hidden, pages of 50', { includeRefunds: false }, 50],
      ['nothing matches: the header alone', { includeRefunds: true, feature: 'no-such-feature' }, 7],
    ])('%s', async (_label, narrowing, pageRows) => {
      const filter: HistoryFilter = { accountId: account, ...narrowing };
      const queries = new HistoryQueries(readModels);
      const threaded = await threadedExport(queries, filter, pageRows);
      expect(threaded.equals(await streamedExport(queries, filter, pageRows))).toBe(true);
      expect(threaded.toString('utf8').split('\r\n').length).toBeGreaterThan(1);
    });

    it('idle CSV threads do not keep the process alive (a CLI or a bench run ends when its work does)', async () => {
      const ports = () => process.getActiveResourcesInfo().filter((resource) => resource === 'MessagePort').length;
      const before = ports();
      await threadedExport(new HistoryQueries(readModels), { accountId: account, includeRefunds: true }, 50);
      expect(ports()).toBe(before);
    });

    it('the threads serve the export; once closed, their threads have exited and the export is formatted here, the same bytes', async () => {
      const filter: HistoryFilter = { accountId: account, includeRefunds: true };
      const queries = new HistoryQueries(readModels);
      const threads = queries.pageThreads();
      expect(queries.pageThreads()).toBe(threads); // started once
      const before = await threadedExport(queries, filter, 50);
      await queries.close();
      expect(threads.broken).toBe(true);
      const after = await threadedExport(queries, filter, 50);
      expect(after.equals(before)).toBe(true);
      expect(after.equals(await streamedExport(queries, filter, 50))).toBe(true);
    });

    if (kind === 'sqlite') {
      it('reads the pages in the thread from a serving store file', async () => {
        const serving = SqliteReadModelStore.open(dirname((readModels as SqliteReadModelStore).db.name), { readerThreads: 1 });
        try {
          const filter: HistoryFilter = { accountId: account, includeRefunds: true };
          const readsHere = jest.spyOn(serving, 'allArrays');
          const formattedHere = jest.spyOn(HistoryPageThreads.prototype as unknown as { csvHere: () => unknown }, 'csvHere');
          const threaded = await threadedExport(new HistoryQueries(serving), filter, 100);
          expect(threaded.equals(await streamedExport(new HistoryQueries(readModels), filter, 100))).toBe(true);
          // Neither read nor formatted on the event loop.
          expect(readsHere).not.toHaveBeenCalled();
          expect(formattedHere).not.toHaveBeenCalled();
          formattedHere.mockRestore();
        } finally {
          await serving.close();
        }
      });

      it('writes the JSON pages in a thread from a serving store file: nothing read on the event loop, the same text', async () => {
        const serving = SqliteReadModelStore.open(dirname((readModels as SqliteReadModelStore).db.name), { readerThreads: 1 });
        const queries = new HistoryQueries(serving);
        try {
          const readsHere = jest.spyOn(serving, 'allArrays');
          const json = await queries.pageJson({ accountId: account, includeRefunds: true }, 50);
          expect(readsHere).not.toHaveBeenCalled();
          readsHere.mockRestore();
          expect(json).toBe(JSON.stringify(await queries.page({ accountId: account, includeRefunds: true }, 50)));
        } finally {
          await queries.close();
          await serving.close();
        }
      });
    }

    it.each<[string, Partial<HistoryFilter>, number]>([
      ['every movement, first page', { includeRefunds: true }, 50],
      ['a member, no refunds, with holds', { includeRefunds: false, includeHolds: true, userId: 'member' }, 20],
      ['a window of time', { includeRefunds: true, from: '2026-01-15T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' }, 7],
      ['nothing matches', { includeRefunds: true, feature: 'no_such_feature' }, 10],
    ])('JSON pages (%s) are the text of the pages as objects, cursor by cursor to the end', async (_label, narrowing, limit) => {
      const queries = new HistoryQueries(readModels);
      const filter = { accountId: account, includeRefunds: true, ...narrowing, ...(narrowing.userId ? { userId: member } : {}) };
      try {
        let cursor;
        for (let pages = 0; pages < 200; pages++) {
          const page = await queries.page(filter, limit, cursor);
          expect(await queries.pageJson(filter, limit, cursor)).toBe(JSON.stringify(page));
          const last = page.items[page.items.length - 1];
          if (!page.nextCursor || !last) break;
          cursor = { occurredAt: last.occurredAt, rowId: last.rowId };
        }
      } finally {
        await queries.close();
      }
    });
  },
);
