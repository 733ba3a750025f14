import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { ReadModelStore } from '../read-model-store';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import { projectedSeed, readModelStoreFactory } from '../testing/projection-fixtures';
import { CsvCells, HistoryFilter, HistoryItem, HistoryQueries } from './history.query';

/** What the CSV export must hold for a row of the JSON history: the same movement, column by column. */
const cellsOf = (item: HistoryItem): CsvCells => [
  item.occurredAt,
  item.feature,
  item.action,
  item.description,
  item.credits,
  item.dataRequested,
  item.userId,
  item.creditType,
  item.units,
];

async function historyWalk(queries: HistoryQueries, filter: HistoryFilter): Promise<CsvCells[]> {
  const rows: CsvCells[] = [];
  let cursor;
  for (;;) {
    const page = await queries.page(filter, 500, cursor);
    rows.push(...page.items.map(cellsOf));
    const last = page.items[page.items.length - 1];
    if (!page.nextCursor || !last) return rows;
    cursor = { occurredAt: last.occurredAt, rowId: last.rowId };
  }
}

async function csvExport(queries: HistoryQueries, filter: HistoryFilter, pageRows: number): Promise<CsvCells[]> {
  const rows: CsvCells[] = [];
  for await (const page of queries.csvRows(filter, pageRows)) rows.push(...page);
  return rows;
}

describe.each(['sqlite', 'postgres'] as const)('the CSV export reads the same rows as the history, on %s', (kind) => {
  const stores = readModelStoreFactory(kind);
  const logDir = mkdtempSync(join(tmpdir(), 'ledger-csv-log-'));
  const log = SqliteEventStore.open(logDir);
  let readModels: ReadModelStore;
  let account: string;
  let member: string;

  beforeAll(async () => {
    ({ readModels, account, member } = await projectedSeed(stores, log, { accounts: 4, events: 1_500, seed: 5, months: 2, start: '2026-01-01T00:00:00Z' }));
  }, 120_000);
  afterAll(async () => {
    await stores.closeAll();
    await log.close();
    rmSync(logDir, { recursive: true, force: true });
  });

  it.each([
    ['every row', {}],
    ['refunds hidden, one member', { includeRefunds: false, userId: 'member' }],
    ['one feature', { feature: 'people_search' }],
  ])('%s: across page boundaries, in order, with numbers as numbers', async (_label, narrowing) => {
    const { userId, ...rest } = narrowing as Partial<HistoryFilter>;
    const filter: HistoryFilter = { accountId: account, includeRefunds: true, ...rest, ...(userId ? { userId: member } : {}) };
    const queries = new HistoryQueries(readModels);
    const expected = await historyWalk(queries, filter);
    const exported = await csvExport(queries, filter, 7);
    expect(exported).toEqual(expected);
    for (const row of exported) {
      expect(typeof row[4]).toBe('number');
      if (row[8] !== null) expect(typeof row[8]).toBe('number');
    }
    if (Object.keys(narrowing).length === 0) expect(exported.some((row) => row[4] < 0)).toBe(true); // refunds are in it
  });

  if (kind === 'sqlite') {
    it('reads the same through the reader threads of a serving store', async () => {
      const dir = dirname((readModels as SqliteReadModelStore).db.name);
      const serving = SqliteReadModelStore.open(dir, { readerThreads: 2 });
      try {
        const filter: HistoryFilter = { accountId: account, includeRefunds: true };
        expect(await csvExport(new HistoryQueries(serving), filter, 50)).toEqual(await historyWalk(new HistoryQueries(readModels), filter));
      } finally {
        await serving.close();
      }
    });
  }
});
