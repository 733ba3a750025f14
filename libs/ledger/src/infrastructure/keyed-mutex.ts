/**
 * One queue per key: work for the same key runs one at a time, in arrival order; other keys run
 * concurrently. Commands of one account are serialized in this process so that they never race
 * each other for the same expected revision (which would be a retry storm), while appends of
 * different accounts still share a group commit.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  get activeKeys(): number {
    return this.tails.size;
  }
}
