import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { moduleThread } from '../../infrastructure/module-thread';
import { balancesWithForecastView } from '../../views/balances.view';

/** Fold threads per process: the heavy-read limit lets 4 run at once, and the machine's other core serves the event loop. */
export const AS_OF_FOLD_THREADS = 2;

export interface AsOfFoldRequest {
  readonly id: number;
  readonly accountId: string;
  /** An ISO instant (normalised by the caller). */
  readonly asOf: string;
}

export type AsOfFoldReply =
  | { readonly id: number; readonly open: false }
  | {
      readonly id: number;
      readonly open: true;
      readonly revision: number;
      readonly position: number;
      readonly view: ReturnType<typeof balancesWithForecastView>;
    }
  | { readonly id: number; readonly failed: string };

export type AsOfFoldAnswer = Exclude<AsOfFoldReply, { failed: string }>;

interface FoldThread {
  readonly worker: Worker;
  inFlight: number;
}

/**
 * `GET …/balances?asOf=` on a SQLite store, off the event loop: threads that read the account's
 * events from the file and fold them, returning only the balances view. An account always goes to
 * the same thread, whose snapshots then serve its next requests. A thread that fails answers
 * `undefined` from then on: the caller folds on the event loop instead (same code, same answer).
 */
export class AsOfFoldThreads {
  private readonly threads: FoldThread[] = [];
  private readonly pending = new Map<number, { resolve: (reply: AsOfFoldAnswer | undefined) => void; thread: FoldThread }>();
  private nextId = 1;
  private broken = false;

  constructor(file: string, threads = AS_OF_FOLD_THREADS) {
    for (let index = 0; index < threads; index++) {
      const worker = moduleThread(join(__dirname, 'as-of-fold.thread'), { workerData: { file } });
      worker.on('message', (reply: AsOfFoldReply) => this.settle(reply));
      worker.on('error', () => this.fail());
      // After the listeners: adding a 'message' listener refs the worker's port again.
      worker.unref();
      this.threads.push({ worker, inFlight: 0 });
    }
  }

  /** The fold's answer, or `undefined` when no thread could give it (fold on the event loop then). */
  fold(accountId: string, asOf: string): Promise<AsOfFoldAnswer | undefined> {
    if (this.broken) return Promise.resolve(undefined);
    const thread = this.threads[hashOf(accountId) % this.threads.length];
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, thread });
      if (thread.inFlight++ === 0) thread.worker.ref(); // a fold in flight keeps the process alive, an idle thread does not
      thread.worker.postMessage({ id, accountId, asOf } satisfies AsOfFoldRequest);
    });
  }

  private settle(reply: AsOfFoldReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (--waiting.thread.inFlight === 0) waiting.thread.worker.unref();
    waiting.resolve('failed' in reply ? undefined : reply);
  }

  private fail(): void {
    this.broken = true;
    for (const waiting of this.pending.values()) waiting.resolve(undefined);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.fail();
    await Promise.all(
      this.threads.map(({ worker }) => {
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        worker.ref();
        worker.postMessage('close');
        return exited;
      }),
    );
  }
}

/** A small stable hash of an account id (FNV-1a), to keep an account on one thread. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}
