/**
 * One queue per key: work for the same key runs one at a time, in arrival order; other keys run
 * concurrently. Commands of one account are serialized in this process so that they never race
 * each other for the same expected revision (which would be a retry storm), while appends of
 * different accounts still share a group commit. A plain queue per key, not a promise chain:
 * this sits on the hot path of every command.
 */
export class KeyedMutex {
  private readonly queues = new Map<string, (() => void)[]>();

  /**
   * Runs `task` once the key is free (now, if it is), behind the tasks queued before it. The task
   * owns the key until it calls `release(key)`, exactly once: the command path's callback form,
   * with no promise of its own.
   */
  acquire(key: string, task: () => void): void {
    const queue = this.queues.get(key);
    if (queue) queue.push(task);
    else {
      this.queues.set(key, []);
      task();
    }
  }

  /** Hands the key to the next task queued for it, or frees it. */
  release(key: string): void {
    const queue = this.queues.get(key);
    const next = queue?.shift();
    if (next) next();
    else this.queues.delete(key);
  }

  /** `work` once the key is free; the key is released when its promise settles (or it throws). */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.acquire(key, () => {
        let running: Promise<T>;
        try {
          running = work();
        } catch (e) {
          running = Promise.reject(e);
        }
        running.then(
          (value) => {
            this.release(key);
            resolve(value);
          },
          (error: unknown) => {
            this.release(key);
            reject(error);
          },
        );
      });
    });
  }

  get activeKeys(): number {
    return this.queues.size;
  }
}
