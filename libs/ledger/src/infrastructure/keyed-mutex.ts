/**
 * One queue per key: work for the same key runs one at a time, in arrival order; other keys run
 * concurrently. Commands of one account are serialized in this process so that they never race
 * each other for the same expected revision (which would be a retry storm), while appends of
 * different accounts still share a group commit. A plain queue per key, not a promise chain:
 * this sits on the hot path of every command.
 */
export class KeyedMutex {
  private readonly queues = new Map<string, (() => void)[]>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const task = () => {
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
      };
      const queue = this.queues.get(key);
      if (queue) queue.push(task);
      else {
        this.queues.set(key, []);
        task();
      }
    });
  }

  private release(key: string): void {
    const queue = this.queues.get(key);
    const next = queue?.shift();
    if (next) next();
    else this.queues.delete(key);
  }

  get activeKeys(): number {
    return this.queues.size;
  }
}
