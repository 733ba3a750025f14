import { Worker } from 'node:worker_threads';
import { checkpointerThreadSource } from './sqlite-writer-thread';

/**
 * Copies a SQLite file's WAL into the database from a thread of its own, every `intervalMs`
 * (PASSIVE: it never waits for readers or writers). A connection that keeps SQLite's automatic
 * checkpoint would run it inside a COMMIT now and then, syncing the files on the event loop; with
 * this thread it only needs a high `wal_autocheckpoint` as a backstop. Durability is the same:
 * checkpoints move committed pages, they commit nothing.
 */
export class SqliteCheckpointer {
  private exited = false;

  private constructor(private readonly thread: Worker) {
    thread.once('exit', () => (this.exited = true));
  }

  static start(file: string, intervalMs: number, busyTimeoutMs: number): SqliteCheckpointer {
    const thread = new Worker(checkpointerThreadSource(), {
      eval: true,
      workerData: { file, driverPath: require.resolve('better-sqlite3'), busyTimeoutMs, intervalMs },
    });
    thread.on('error', () => undefined); // an optimisation: the connection's autocheckpoint backs it up
    thread.unref();
    return new SqliteCheckpointer(thread);
  }

  /** A last TRUNCATE checkpoint, then the thread ends. */
  async close(): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      this.thread.once('message', () => resolve());
      this.thread.once('exit', () => resolve());
      this.thread.postMessage('close');
    });
    await this.thread.terminate();
  }
}
