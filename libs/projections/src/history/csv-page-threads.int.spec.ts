import { stringify } from 'csv-stringify';
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { seedHistory } from '../ops/seed';
import { ProjectionRunner } from '../projection-runner';
import { ReadModelStore } from '../read-model-store';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import { readModelStoreFactory } from '../testing/projection-fixtures';
import { CSV_COLUMNS, CSV_OPTIONS } from './csv-cells';
import { CsvPageThreads } from './csv-page-threads';
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

describe.each(['sqlite', 'postgres'] as const)('the CSV export formatted in a thread gives the bytes of the streamed export, on %s', (kind) => {
  const stores = readModelStoreFactory(kind);
  const logDir = mkdtempSync(join(tmpdir(), 'ledger-csv-threads-'));
  const log = SqliteEventStore.open(logDir);
  let readModels: ReadModelStore;
  let account: string;

  beforeAll(async () => {
    await seedHistory(log, { accounts: 3, events: 1_200, seed: 17, months: 2, start: '2026-01-01T00:00:00Z' });
    readModels = await stores.open();
    await (await ProjectionRunner.create(readModels)).catchUp(log);
    [{ account }] = await readModels.all<{ account: string }>(
      `SELECT account_id AS account FROM ${await readModels.activeTable('history', 'history')} GROUP BY account_id ORDER BY COUNT(*) DESC LIMIT 1`,
    );
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
    const threads = queries.csvPageThreads();
    expect(queries.csvPageThreads()).toBe(threads); // started once
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
        const formattedHere = jest.spyOn(CsvPageThreads.prototype as unknown as { here: () => unknown }, 'here');
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
  }
});
