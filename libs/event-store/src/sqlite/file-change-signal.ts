import { EventEmitter } from 'node:events';
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

/** Where a subscriber of a SQLite log hears of new commits. */
export interface CommitSignals {
  /** Emits 'committed' with the new head after each commit this process knows of. */
  readonly committed: EventEmitter;
  /** Changes of the file's WAL: another process's commits. */
  readonly fileChanged: FileChangeSignal;
  readonly head: () => number;
  readonly closed: () => boolean;
  /** The safety net: resolve after this long whatever happened. */
  readonly pollIntervalMs: number;
}

/**
 * Resolves once a commit past `position` is known (a 'committed' head past it, or a WAL change
 * whose commit became visible), when `stopped` resolves, or after the poll interval.
 */
export function commitPast(position: number, stopped: Promise<void>, signals: CommitSignals): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false;
    let looking = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signals.committed.off('committed', onCommit);
      stopListening();
      resolve();
    };
    const onCommit = (head: number) => head > position && finish();
    // Another process's commit: its WAL changed; the commit is visible about one fsync later.
    const onFileChange = () => {
      if (looking || done) return;
      looking = true;
      commitAfter(position, signals.head, () => done || signals.closed()).then(
        (found) => {
          looking = false;
          if (found) finish();
        },
        () => (looking = false),
      );
    };
    const timer = setTimeout(finish, signals.pollIntervalMs);
    signals.committed.on('committed', onCommit);
    const stopListening = signals.fileChanged.listen(onFileChange);
    void stopped.then(finish);
  });
}
