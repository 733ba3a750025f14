/* eslint-disable @typescript-eslint/no-require-imports */
import { Worker } from 'node:worker_threads';

/** Reader threads per SQLite file: two, so that one long query never queues a short one behind it. */
export const SQLITE_READER_THREADS = 2;
/** Prepared statements a reader thread keeps (least recently used dropped first). */
const READER_STATEMENT_CACHE_SIZE = 200;

interface ReadRequest {
  readonly id: number;
  readonly sql: string;
  readonly params: readonly unknown[];
  /** Rows as arrays in the SELECT's column order rather than objects: no per-row keys to build and copy. */
  readonly arrays: boolean;
}

interface ReaderSlot {
  readonly worker: Worker;
  inFlight: number;
}

type ReadReply = { id: number; rows: unknown[] } | { id: number; error: { message: string; code?: string } };

/**
 * A reader thread: its own read-only connection to the file (WAL: readers never block the writer
 * and always see whole commits). Shipped as source text with `eval: true`, so it is
 * self-contained. BLOB columns are sent back as lowercase hex strings: a Buffer crosses a thread
 * boundary as a plain Uint8Array.
 */
function readerThreadMain(): void {
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const Database = require(workerData.driverPath) as typeof import('better-sqlite3');
  const db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  db.pragma(`busy_timeout = ${workerData.busyTimeoutMs}`);
  const statements = new Map<string, import('better-sqlite3').Statement>();
  // One cached statement per SQL text and row shape (raw mode is a property of the statement).
  const statementOf = (sql: string, arrays: boolean) => {
    const key = arrays ? `arrays:${sql}` : sql;
    let statement = statements.get(key);
    if (statement) statements.delete(key);
    else statement = db.prepare(sql).raw(arrays);
    statements.set(key, statement);
    if (statements.size > workerData.statementCacheSize) statements.delete(statements.keys().next().value as string);
    return statement;
  };
  parentPort!.on('message', (request: { id: number; sql: string; params: unknown[]; arrays: boolean } | 'close') => {
    if (request === 'close') {
      db.close();
      parentPort!.close();
      return;
    }
    try {
      const rows = statementOf(request.sql, request.arrays).all(...request.params) as Record<string, unknown>[];
      for (const row of rows) {
        for (const column in row) {
          const value = row[column];
          if (Buffer.isBuffer(value)) row[column] = value.toString('hex');
        }
      }
      parentPort!.postMessage({ id: request.id, rows });
    } catch (error) {
      const failure = error as { message?: string; code?: string };
      parentPort!.postMessage({ id: request.id, error: { message: String(failure.message ?? error), code: failure.code } });
    }
  });
}

/** A read failed in a reader thread: the message and SQLite's code, as the synchronous driver would throw them. */
export class SqliteReadError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SqliteError';
  }
}

/**
 * Runs read queries of one SQLite file in reader threads, so that a long scan (a year of usage,
 * an account's whole stream) never stalls the event loop that answers every other request. Each
 * query goes to the thread with the fewest queries in flight.
 */
export class SqliteReaderPool {
  private readonly workers: ReaderSlot[] = [];
  private readonly pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (error: Error) => void; slot: ReaderSlot }>();
  private nextId = 1;
  private failure: Error | undefined;

  constructor(file: string, busyTimeoutMs: number, threads = SQLITE_READER_THREADS) {
    const workerData = { file, driverPath: require.resolve('better-sqlite3'), busyTimeoutMs, statementCacheSize: READER_STATEMENT_CACHE_SIZE };
    for (let index = 0; index < threads; index++) {
      const worker = new Worker(`(${readerThreadMain.toString()})();`, { eval: true, workerData });
      worker.unref();
      worker.on('message', (reply: ReadReply) => this.settle(reply));
      worker.on('error', (error) => this.fail(error));
      this.workers.push({ worker, inFlight: 0 });
    }
  }

  all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.read<T>({ id: this.nextId++, sql, params, arrays: false });
  }

  /** The rows as arrays, in the SELECT's column order. */
  allArrays<T extends readonly unknown[]>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.read<T>({ id: this.nextId++, sql, params, arrays: true });
  }

  private read<T>(request: ReadRequest): Promise<T[]> {
    if (this.failure) return Promise.reject(this.failure);
    let slot = this.workers[0];
    for (const candidate of this.workers) if (candidate.inFlight < slot.inFlight) slot = candidate;
    return new Promise<T[]>((resolve, reject) => {
      this.pending.set(request.id, { resolve: resolve as (rows: unknown[]) => void, reject, slot });
      slot.inFlight++;
      if (slot.inFlight === 1) slot.worker.ref(); // a read in flight keeps the process alive, an idle pool does not
      slot.worker.postMessage(request);
    });
  }

  private settle(reply: ReadReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    waiting.slot.inFlight--;
    if (waiting.slot.inFlight === 0) waiting.slot.worker.unref();
    if ('error' in reply) waiting.reject(new SqliteReadError(reply.error.message, reply.error.code));
    else waiting.resolve(reply.rows);
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.failure ??= new Error('SQLite reader pool is closed');
    await Promise.all(
      this.workers.map(({ worker }) => {
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        worker.ref(); // an idle reader is unref'd: waiting for its exit must keep the process alive
        worker.postMessage('close');
        return exited;
      }),
    );
  }
}
