import { Worker } from 'node:worker_threads';
import { moduleThread } from './module-thread';

interface RequestThread {
  readonly worker: Worker;
  inFlight: number;
  /** The thread has ended (closed, or it stopped by itself): nothing to wait for at close. */
  exited: boolean;
}

/**
 * A few worker threads (each running `modulePath` through `moduleThread`) answering requests by
 * id: `{id, ...request}` in, `{id, ...}` out. A thread with a request in flight keeps the process
 * alive, an idle one does not. A thread that fails settles every waiting request with `undefined`,
 * and so does every later request: the caller then does the work itself.
 */
export class RequestThreads<Request extends object, Reply extends { readonly id: number }> {
  private readonly threads: RequestThread[] = [];
  private readonly pending = new Map<number, { resolve: (reply: Reply | undefined) => void; thread: RequestThread }>();
  private nextId = 1;
  private failed = false;

  constructor(modulePath: string, workerData: unknown, count: number) {
    for (let index = 0; index < count; index++) {
      const worker = moduleThread(modulePath, { workerData });
      const thread: RequestThread = { worker, inFlight: 0, exited: false };
      worker.on('message', (reply: Reply) => this.settle(reply));
      worker.on('error', () => this.fail());
      // A thread that stops without an error (or after one) answers nothing more.
      worker.on('exit', () => {
        thread.exited = true;
        this.fail();
      });
      // After the listeners: adding a 'message' listener refs the worker's port again.
      worker.unref();
      this.threads.push(thread);
    }
  }

  get size(): number {
    return this.threads.length;
  }

  get broken(): boolean {
    return this.failed;
  }

  /** Sends `request` to thread `index` (default: the least busy); `undefined` once a thread failed. */
  request(request: Request, index?: number): Promise<Reply | undefined> {
    if (this.failed) return Promise.resolve(undefined);
    let thread = index === undefined ? this.threads[0] : this.threads[index];
    if (index === undefined) for (const candidate of this.threads) if (candidate.inFlight < thread.inFlight) thread = candidate;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, thread });
      if (thread.inFlight++ === 0) thread.worker.ref();
      thread.worker.postMessage({ ...request, id });
    });
  }

  /** Asks each thread still running to end (it must answer the message 'close' by leaving), and waits until they have. */
  async close(): Promise<void> {
    this.fail();
    await Promise.all(
      this.threads
        .filter((thread) => !thread.exited)
        .map(({ worker }) => {
          const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
          worker.ref();
          worker.postMessage('close');
          return exited;
        }),
    );
  }

  private settle(reply: Reply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (--waiting.thread.inFlight === 0) waiting.thread.worker.unref();
    waiting.resolve(reply);
  }

  private fail(): void {
    this.failed = true;
    for (const waiting of this.pending.values()) waiting.resolve(undefined);
    this.pending.clear();
  }
}
