import Database from 'better-sqlite3';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { csvCells, CsvDbRow, csvPageText } from './csv-cells';
import type { CsvPageReply, CsvPageRequest } from './csv-page-threads';

/** How long a page query waits for a lock before it fails (the export then answers an error). */
const CSV_THREAD_BUSY_TIMEOUT_MS = 5_000;
/** This thread's nice value: under contention the event loop (nice 0) gets the CPU first. */
const CSV_THREAD_NICE = 10;
/** Prepared page statements kept (one per filter shape). */
const CSV_THREAD_STATEMENTS = 50;

/**
 * A CSV thread: reads a page of the export from the SQLite read models itself (read-only), or takes
 * the rows read elsewhere (PostgreSQL), and formats it to CSV bytes with csv-stringify. Only the
 * bytes go back to the event loop, moved rather than copied.
 */
// Linux: a thread is a task of its own (/proc/thread-self), whose priority can be lowered. The
// ledger's lowerThreadPriority does the same; importing the ledger library here would load all of it.
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), CSV_THREAD_NICE);
} catch {
  // not Linux, or not allowed: the same priority as the event loop
}
const { file } = (workerData as { payload: { file?: string } }).payload;
const db = file === undefined ? undefined : new Database(file, { readonly: true, fileMustExist: true });
db?.pragma(`busy_timeout = ${CSV_THREAD_BUSY_TIMEOUT_MS}`);
const statements = new Map<string, Database.Statement>();

function rowsOf(request: CsvPageRequest): CsvDbRow[] {
  if (request.rows) return request.rows;
  let statement = statements.get(request.sql);
  if (statement) statements.delete(request.sql);
  else statement = db!.prepare(request.sql).raw(true);
  statements.set(request.sql, statement);
  if (statements.size > CSV_THREAD_STATEMENTS) statements.delete(statements.keys().next().value as string);
  return statement.all(...request.params) as CsvDbRow[];
}

parentPort!.on('message', (request: CsvPageRequest | 'close') => {
  if (request === 'close') {
    db?.close();
    parentPort!.close();
    return;
  }
  try {
    const rows = rowsOf(request);
    const lastRow = rows[rows.length - 1];
    const last = lastRow === undefined ? null : { occurredAt: lastRow[0], rowId: Number(lastRow[9]) };
    const bytes = new TextEncoder().encode(csvPageText(rows.map(csvCells), request.header));
    parentPort!.postMessage({ id: request.id, bytes, rows: rows.length, last } satisfies CsvPageReply, [bytes.buffer]);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, failed: String(error) } satisfies CsvPageReply);
  }
});
