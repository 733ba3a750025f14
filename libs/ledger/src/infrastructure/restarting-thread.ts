import { Worker } from 'node:worker_threads';
import { backoffMs, sleep } from '@credit-ledger/event-store';
import { moduleThread } from './module-thread';

/** What a restarting thread's owner hears. */
export interface RestartingThreadHandlers<Message> {
  /** A message of the thread; true when it says the thread is ready (`start` resolves, the restart pause starts over). */
  message(message: Message): boolean;
  /** The thread ended: why, and in how many ms it starts again (undefined: it was asked to stop). */
  ended(why: string, restartInMs: number | undefined): void;
}

/**
 * A `moduleThread` that is started again after a pause (doubling from `restartDelaysMs[0]`, capped
 * at `[1]`) whenever it ends by itself, until it is stopped. `start` resolves once the thread says
 * it is ready, or ended. The thread never keeps the process alive by itself.
 */
export class RestartingThread<Request, Message> {
  private worker: Worker | undefined;
  private stopping = false;
  private restarts = 0;
  private readonly wakers = new Set<() => void>();
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly modulePath: string,
    private readonly workerData: unknown,
    private readonly handlers: RestartingThreadHandlers<Message>,
    private readonly restartDelaysMs: readonly [initial: number, max: number],
    private readonly stopTimeoutMs: number,
    /** Names the thread in the reasons `ended` is given. */
    private readonly label: string,
  ) {}

  /** The running thread (for tests that end it abruptly). */
  get thread(): Worker | undefined {
    return this.worker;
  }

  post(request: Request): void {
    this.worker?.postMessage(request);
  }

  start(): Promise<void> {
    return new Promise<void>((ready) => {
      const worker = moduleThread(this.modulePath, { workerData: this.workerData });
      this.worker = worker;
      let failed: Error | undefined;
      worker.on('message', (message: Message) => {
        if (!this.handlers.message(message)) return;
        this.restarts = 0;
        ready();
      });
      worker.on('error', (error) => (failed = error));
      this.exited = new Promise<void>((exited) =>
        worker.on('exit', (code) => {
          this.worker = undefined;
          exited();
          ready();
          const why = failed ? `the ${this.label} thread failed: ${failed.message}` : `the ${this.label} thread exited (code ${code})`;
          if (this.stopping) return this.handlers.ended(why, undefined);
          const delayMs = backoffMs(++this.restarts, ...this.restartDelaysMs);
          this.handlers.ended(why, delayMs);
          void sleep(delayMs, this.wakers).then(() => (this.stopping ? undefined : this.start()));
        }),
      );
      // After the listeners (a 'message' listener refs the worker again).
      worker.unref();
    });
  }

  /** Sends `stopRequest` (the thread closes its files and ends), ending the thread after `stopTimeoutMs` at most. */
  async stop(stopRequest: Request): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakers) wake();
    const worker = this.worker;
    if (!worker) return;
    worker.postMessage(stopRequest);
    const timeout = setTimeout(() => void worker.terminate(), this.stopTimeoutMs);
    await this.exited;
    clearTimeout(timeout);
  }
}
