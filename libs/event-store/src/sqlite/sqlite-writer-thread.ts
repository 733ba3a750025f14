/*
 * The SQLite writer, run in its own worker thread so that fsyncs never stall the event loop that
 * decides commands: while it commits one group, the next group queues up. Started from
 * `writerThreadSource()` with `eval: true`, so the functions below that run in the thread must
 * stay self-contained (no imports, no outer variables but each other): they are shipped as source
 * text, together. Only types may be shared with the module.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
type WriterRow = [eventId: string, type: string, data: string, metadata: string];
interface AppendMessage {
  type: 'append';
  id: number;
  streamId: string;
  expectedRevision: number;
  rows: WriterRow[];
}
type Outcome =
  | { id: number; ok: true; nextExpectedRevision: number; positions: number[] }
  | { id: number; ok: false; error: Record<string, unknown> & { name: string; message: string } };
type WriterDatabase = import('better-sqlite3').Database;

/** Opens the writer's connection: WAL, an fsync at every commit, the lock wait of the readers. */
function openWriterDatabase(workerData: { file: string; driverPath: string; busyTimeoutMs: number; walAutocheckpointPages: number }): WriterDatabase {
  const Database = require(workerData.driverPath) as typeof import('better-sqlite3');
  const db = new Database(workerData.file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL'); // fsync the WAL at every commit: an ack means on disk
  db.pragma(`busy_timeout = ${workerData.busyTimeoutMs}`);
  // Checkpoints run in their own thread; this is only the backstop if that thread falls far behind.
  db.pragma(`wal_autocheckpoint = ${workerData.walAutocheckpointPages}`);
  return db;
}

/** Checks and writes one append inside the group's transaction: all of it or none. */
function createAppendOne(db: WriterDatabase): (append: AppendMessage) => Outcome {
  const insert = db.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const lastRevision = db.prepare('SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1').pluck();
  const eventsFrom = db.prepare('SELECT event_id, position FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?');
  return (append) => {
    const current = (lastRevision.get(append.streamId) as number | undefined) ?? -1;
    if (current !== append.expectedRevision) {
      // A retry of an append that is already stored finds its own events right after its
      // expected revision: answer with the first result instead of a conflict.
      const stored =
        append.expectedRevision < current
          ? (eventsFrom.all(append.streamId, append.expectedRevision + 1, append.rows.length) as { event_id: string; position: number }[])
          : [];
      if (stored.length === append.rows.length && stored.every((storedEvent, index) => storedEvent.event_id === append.rows[index][0])) {
        return {
          id: append.id,
          ok: true,
          nextExpectedRevision: append.expectedRevision + append.rows.length,
          positions: stored.map((storedEvent) => storedEvent.position),
        };
      }
      return {
        id: append.id,
        ok: false,
        error: {
          name: 'WrongExpectedRevisionError',
          message: 'wrong expected revision',
          streamId: append.streamId,
          expectedRevision: append.expectedRevision,
          actualRevision: current,
        },
      };
    }
    const positions: number[] = [];
    let revision = current;
    for (const [eventId, type, data, metadata] of append.rows) {
      revision++;
      positions.push(Number(insert.run(append.streamId, revision, eventId, type, data, metadata).lastInsertRowid));
    }
    return { id: append.id, ok: true, nextExpectedRevision: revision, positions };
  };
}

/**
 * The group commit: appends queue up while a group commits, then go together in one IMMEDIATE
 * transaction (one fsync). `post` sends the outcomes to the main thread.
 */
function createGroupCommitter(db: WriterDatabase, limits: { maxAppendsPerCommit: number; maxEventsPerCommit: number }, post: (message: unknown) => void) {
  const appendOne = createAppendOne(db);
  /** Test-only: commits to fail after their rows are written (see SqliteEventStore.injectCommitFailures). */
  let injectedFailures = 0;
  const commitGroup = db.transaction((group: AppendMessage[], out: Outcome[]) => {
    for (const append of group) out.push(appendOne(append));
    if (injectedFailures > 0) {
      injectedFailures--;
      // As SQLite reports a failed write: the transaction rolls back, nothing of the group is stored.
      throw Object.assign(new Error('disk I/O error (injected)'), { code: 'SQLITE_IOERR' });
    }
  });
  let queue: AppendMessage[] = [];
  let scheduled = false;

  function takeGroup(): AppendMessage[] {
    let events = 0;
    let taken = 0;
    while (taken < queue.length && taken < limits.maxAppendsPerCommit) {
      events += queue[taken].rows.length;
      if (taken > 0 && events > limits.maxEventsPerCommit) break;
      taken++;
    }
    const group = queue.slice(0, taken);
    queue = queue.slice(taken);
    return group;
  }

  function flush(): void {
    scheduled = false;
    while (queue.length > 0) {
      const group = takeGroup();
      const out: Outcome[] = [];
      try {
        commitGroup.immediate(group, out);
      } catch (failure) {
        // The commit itself failed (disk full, I/O error, lock timeout): nothing of the group is stored.
        const error = {
          name: 'Error',
          message: `commit failed: ${failure instanceof Error ? failure.message : String(failure)}`,
          code: (failure as { code?: unknown } | null)?.code,
        };
        post({ type: 'committed', results: group.map((append) => ({ id: append.id, ok: false, error })), commits: 0 });
        continue;
      }
      post({ type: 'committed', results: out, commits: 1 });
      // Let messages that arrived during the fsync join the next group.
      if (queue.length > 0) {
        scheduled = true;
        setImmediate(flush);
        return;
      }
    }
  }

  function enqueue(append: AppendMessage): void {
    queue.push(append);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  }

  return { enqueue, flush, injectFailures: (count: number) => (injectedFailures += count) };
}

export function writerThreadMain(): void {
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const db = openWriterDatabase(workerData);
  const post = (message: unknown) => parentPort!.postMessage(message);
  const committer = createGroupCommitter(db, workerData, post);
  parentPort!.on('message', (message: AppendMessage | { type: 'close' } | { type: 'inject-commit-failures'; count: number }) => {
    if (message.type === 'append') return committer.enqueue(message);
    // Only a store opened with faultInjection (tests) ever sends this; the writer ignores it otherwise.
    if (message.type === 'inject-commit-failures') return void (workerData.faultInjection === true && committer.injectFailures(message.count));
    committer.flush();
    db.close();
    post({ type: 'closed' });
  });
  post({
    type: 'ready',
    journalMode: db.pragma('journal_mode', { simple: true }),
    synchronous: db.pragma('synchronous', { simple: true }),
  });
}

/** The writer's source: its helpers first (declared in the same script), then the entry point, called. */
export function writerThreadSource(): string {
  const helpers = [openWriterDatabase, createAppendOne, createGroupCommitter].map((helper) => helper.toString());
  return `${helpers.join('\n')}\n(${writerThreadMain.toString()})();`;
}

/**
 * Checkpoints the WAL into the database file from a third thread, so that neither the writer nor
 * the event loop ever stalls on it. PASSIVE never blocks the writer; the writer restarts the WAL
 * from the top once a checkpoint has caught up. Self-contained for the same reason as the writer.
 */
export function checkpointerThreadMain(): void {
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const Database = require(workerData.driverPath) as typeof import('better-sqlite3');
  const db = new Database(workerData.file);
  db.pragma(`busy_timeout = ${workerData.busyTimeoutMs}`);
  const timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      /* busy: the next tick tries again */
    }
  }, workerData.intervalMs);
  parentPort!.on('message', () => {
    clearInterval(timer);
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      /* a final checkpoint is an optimisation; SQLite recovers from the WAL either way */
    }
    db.close();
    parentPort!.postMessage('closed');
  });
}

export function checkpointerThreadSource(): string {
  return `(${checkpointerThreadMain.toString()})();`;
}
