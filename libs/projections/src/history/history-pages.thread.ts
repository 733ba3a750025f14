import Database from 'better-sqlite3';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { csvCells, CsvDbRow, csvPageText } from './csv-cells';
import { ItemColumns, itemsPageOf } from './history-items';
import { ACTIVE_VERSION_SQL, resolveActiveTables } from './active-tables';
import type { HistoryPageReply, HistoryPageRequest, HistoryThreadData } from './history-page-threads';

/** How long a page query waits for a lock before it fails (the request then answers an error). */
const HISTORY_THREAD_BUSY_TIMEOUT_MS = 5_000;
/** Prepared page statements kept (one per filter shape). */
const HISTORY_THREAD_STATEMENTS = 50;

/**
 * A history thread: reads a page of the history from the SQLite read models itself (read-only),
 * or takes the rows read elsewhere (PostgreSQL), and writes it as CSV bytes (csv-stringify) or as
 * the JSON of its items. Only the text goes back to the event loop (CSV bytes moved, not copied).
 */
const { file, nice } = (workerData as { payload: HistoryThreadData }).payload;
// Linux: a thread is a task of its own (/proc/thread-self), whose priority can be lowered. The
// ledger's lowerThreadPriority does the same; importing the ledger library here would load all of it.
if (nice !== undefined) {
  try {
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), nice);
  } catch {
    // not Linux, or not allowed: the same priority as the event loop
  }
}
const db = file === undefined ? undefined : new Database(file, { readonly: true, fileMustExist: true });
db?.pragma(`busy_timeout = ${HISTORY_THREAD_BUSY_TIMEOUT_MS}`);
const statements = new Map<string, Database.Statement>();
const activeVersion = db?.prepare(ACTIVE_VERSION_SQL).pluck();

/** The page statement of `sql` (its active tables resolved), prepared once per text among the last HISTORY_THREAD_STATEMENTS. */
function statementOf(sql: string): Database.Statement {
  let statement = statements.get(sql);
  if (statement) statements.delete(sql);
  else statement = db!.prepare(sql).raw(true);
  statements.set(sql, statement);
  if (statements.size > HISTORY_THREAD_STATEMENTS) statements.delete(statements.keys().next().value as string);
  return statement;
}

/** The tables' active versions and the page, read in one read transaction: a rebuild's swap of versions falls before or after both. */
const readPage = db?.transaction((sql: string, params: readonly unknown[]) => {
  const resolved = resolveActiveTables(sql, (projector) => activeVersion!.get(projector) as number | undefined);
  return statementOf(resolved).all(...params);
});

function rowsOf<Row>(request: HistoryPageRequest): Row[] {
  if (request.rows) return request.rows as Row[];
  return readPage!(request.sql, request.params) as Row[];
}

function answer(request: HistoryPageRequest): void {
  if (request.kind === 'items') {
    parentPort!.postMessage({ id: request.id, ...itemsPageOf(rowsOf<ItemColumns>(request), request.limit) } satisfies HistoryPageReply);
    return;
  }
  const rows = rowsOf<CsvDbRow>(request);
  const lastRow = rows[rows.length - 1];
  const last = lastRow === undefined ? null : { occurredAt: lastRow[0], rowId: Number(lastRow[9]) };
  const bytes = new TextEncoder().encode(csvPageText(rows.map(csvCells), request.header));
  parentPort!.postMessage({ id: request.id, bytes, rows: rows.length, last } satisfies HistoryPageReply, [bytes.buffer]);
}

parentPort!.on('message', (request: HistoryPageRequest | 'close') => {
  if (request === 'close') {
    db?.close();
    parentPort!.close();
    return;
  }
  try {
    answer(request);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, failed: String(error) } satisfies HistoryPageReply);
  }
});
