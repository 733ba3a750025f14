import { FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * After a change to the WAL, how long (ms) to look for the commit it belongs to. The frames are
 * written, then synced, and only then is the commit visible to readers: the change arrives before
 * the commit does, by about one fsync.
 */
export const COMMIT_SETTLE_STEPS_MS = [0, 1, 2, 4, 8, 16, 32, 64] as const;

/**
 * Tells when another process may have committed to a SQLite file: its write-ahead log changed
 * (inotify on Linux, through `fs.watch` on the directory, which survives the WAL being truncated or
 * recreated). A hint only: subscribers keep their poll as the safety net (a watch can be refused,
 * e.g. at the inotify limit, and network file systems report nothing).
 */
export class FileChangeSignal {
  private watcher: FSWatcher | undefined;
  private unavailable = false;
  private readonly listeners = new Set<() => void>();
  private readonly walName: string;

  constructor(private readonly databaseFile: string) {
    this.walName = `${basename(databaseFile)}-wal`;
  }

  /** Calls `listener` at each change of the WAL until the returned function is called. */
  listen(listener: () => void): () => void {
    this.start();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private start(): void {
    if (this.watcher || this.unavailable) return;
    try {
      // Not persistent: a watch never keeps the process alive.
      this.watcher = watch(dirname(this.databaseFile), { persistent: false }, (_event, name) => {
        if (name !== null && name !== this.walName) return;
        for (const listener of [...this.listeners]) listener();
      });
      this.watcher.on('error', () => this.close(true));
    } catch {
      this.unavailable = true;
    }
  }

  close(unavailable = false): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.unavailable ||= unavailable;
  }
}

/**
 * Looks for a head past `position` at each of COMMIT_SETTLE_STEPS_MS (the commit a WAL change
 * announces becomes visible about one fsync later); true as soon as there is one.
 */
export async function commitAfter(position: number, head: () => number | Promise<number>, cancelled: () => boolean): Promise<boolean> {
  for (const stepMs of COMMIT_SETTLE_STEPS_MS) {
    if (stepMs > 0) await new Promise((resolve) => setTimeout(resolve, stepMs));
    if (cancelled()) return false;
    if ((await head()) > position) return true;
  }
  return false;
}
