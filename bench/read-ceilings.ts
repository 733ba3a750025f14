import Database from 'better-sqlite3';
import { stringify } from 'csv-stringify';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CSV_COLUMNS, CSV_OPTIONS, HOLD_KINDS } from '@credit-ledger/projections';
import { nowMs } from './stats';

/**
 * The read side's ceilings, measured in the same run as the figures they bound:
 * - replay: a bare better-sqlite3 insert of the same history rows into a fresh file (same table,
 *   same pragmas, one transaction per 5,000 rows, the indexes built after), i.e. the cost of
 *   writing the main read model's rows with nothing decided, decoded or aggregated; and the same
 *   for the rows of every read model (a floor, not the goal's ceiling);
 * - CSV: a SELECT of the same rows as the export, through csv-stringify with the export's options,
 *   into a sink that drops the bytes (no HTTP, no paging, no backpressure from a client).
 */
export interface Ceiling {
  readonly rows: number;
  readonly seconds: number;
}

const INSERT_BATCH_ROWS = 5_000;

/** Copies `table`'s rows into a new file `dir/ceiling.sqlite`, then builds its indexes there. */
export function replayInsertCeiling(source: Database.Database, table: string, dir: string): Ceiling {
  return bareInsert(source, [table], dir);
}

/**
 * Copies the rows of every read-model table (`tables`) into a new file, each table in its own
 * stored order (the primary key's), then builds their indexes: what writing the replay's final
 * rows costs with nothing decided, decoded or aggregated. A floor for the whole replay, printed
 * next to the one-table ceiling to say how much of the gap is rows the replay must write anyway.
 */
export function replayAllTablesFloor(source: Database.Database, tables: readonly string[], dir: string): Ceiling {
  return bareInsert(source, tables, dir);
}

function bareInsert(source: Database.Database, tables: readonly string[], dir: string): Ceiling {
  const schema = tables.flatMap(
    (table) => source.prepare('SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL').all(table) as { type: string; sql: string }[],
  );
  const file = join(dir, 'ceiling.sqlite');
  const target = new Database(file);
  try {
    target.pragma('journal_mode = WAL');
    target.pragma('synchronous = NORMAL');
    target.pragma('cache_size = -65536');
    for (const entry of schema.filter((item) => item.type === 'table')) target.exec(entry.sql);
    const started = nowMs();
    let rows = 0;
    for (const table of tables) rows += copyRows(source, target, table);
    for (const entry of schema.filter((item) => item.type === 'index')) target.exec(entry.sql);
    return { rows, seconds: (nowMs() - started) / 1000 };
  } finally {
    target.close();
    rmSync(file, { force: true });
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
  }
}

/** Inserts `table`'s rows from `source` into `target`, INSERT_BATCH_ROWS per transaction; returns the rows copied. */
function copyRows(source: Database.Database, target: Database.Database, table: string): number {
  const columns = (source.prepare(`SELECT * FROM ${table} LIMIT 1`).columns() as { name: string }[]).length;
  const insert = target.prepare(`INSERT INTO ${table} VALUES (${Array.from({ length: columns }, () => '?').join(', ')})`);
  const insertBatch = target.transaction((batch: unknown[][]) => {
    for (const row of batch) insert.run(row);
  });
  // Read from the source as the replay reads the log: a batch at a time, never the whole table in memory.
  let rows = 0;
  let batch: unknown[][] = [];
  for (const row of source.prepare(`SELECT * FROM ${table}`).raw(true).iterate() as Iterable<unknown[]>) {
    batch.push(row);
    if (batch.length === INSERT_BATCH_ROWS) {
      insertBatch(batch);
      rows += batch.length;
      batch = [];
    }
  }
  insertBatch(batch);
  return rows + batch.length;
}

/** The account's CSV rows, newest first, selected in one statement and stringified into nothing. */
export async function csvStringifyCeiling(source: Database.Database, table: string, accountId: string): Promise<Ceiling> {
  const started = nowMs();
  const select = source
    .prepare(
      'SELECT occurred_at, feature, action, description, credits, data_requested, user_id, credit_type, units ' +
        `FROM ${table} WHERE account_id = ? AND kind NOT IN (${HOLD_KINDS.map((kind) => `'${kind}'`).join(', ')}) ORDER BY occurred_at DESC, row_id DESC`,
    )
    .raw(true);
  let rows = 0;
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const csv = stringify({ ...CSV_OPTIONS, columns: CSV_COLUMNS });
  const done = pipeline(csv, sink);
  for (const row of select.iterate(accountId) as Iterable<unknown[]>) {
    rows++;
    if (!csv.write(row)) await new Promise((resolve) => csv.once('drain', resolve));
  }
  csv.end();
  await done;
  return { rows, seconds: (nowMs() - started) / 1000 };
}
