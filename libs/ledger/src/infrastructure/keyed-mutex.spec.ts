import { KeyedMutex } from './keyed-mutex';

describe('KeyedMutex', () => {
  it('runs work of one key one at a time, in order, and other keys concurrently', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const job = (key: string, n: number, ms: number) =>
      mutex.run(key, async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        log.push(`${key}${n}:start`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`${key}${n}:end`);
        running--;
        return n;
      });
    const results = await Promise.all([job('a', 1, 20), job('a', 2, 1), job('b', 1, 5), job('a', 3, 1)]);
    expect(results).toEqual([1, 2, 1, 3]);
    const a = log.filter((l) => l.startsWith('a'));
    expect(a).toEqual(['a1:start', 'a1:end', 'a2:start', 'a2:end', 'a3:start', 'a3:end']);
    expect(maxRunning).toBe(2); // a and b overlapped
    expect(mutex.activeKeys).toBe(0);
  });

  it('keeps going after a failure or a synchronous throw', async () => {
    const mutex = new KeyedMutex();
    await expect(mutex.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      mutex.run('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(mutex.run('k', async () => 42)).resolves.toBe(42);
    expect(mutex.activeKeys).toBe(0);
  });
});

describe('KeyedMutex.acquire', () => {
  it('queues tasks of one key until each releases it, behind and ahead of promise work in arrival order', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    let releaseFirst!: () => void;
    mutex.acquire('k', () => {
      log.push('first');
      releaseFirst = () => mutex.release('k');
    });
    const read = mutex.run('k', async () => log.push('read'));
    mutex.acquire('k', () => {
      log.push('second');
      mutex.release('k'); // released at once: the next one runs
    });
    mutex.acquire('other', () => log.push('other'));
    expect(log).toEqual(['first', 'other']);
    releaseFirst();
    await read;
    expect(log).toEqual(['first', 'other', 'read', 'second']);
    mutex.release('other');
    expect(mutex.activeKeys).toBe(0);
  });
});
