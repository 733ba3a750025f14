/**
 * The SQLite writer, run in its own worker thread so that fsyncs never stall the event loop that
 * decides commands: while it commits one group, the next group queues up. Started from
 * `writerThreadSource()` with `eval: true`, so this function must stay self-contained (no imports,
 * no outer variables): it is shipped as source text.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export function writerThreadMain(): void {
  type Row = [eventId: string, type: string, data: string, metadata: string];
  interface AppendMessage {
    type: 'append';
    id: number;
    streamId: string;
    expectedRevision: number;
    rows: Row[];
  }
  type Outcome =
    | { id: number; ok: true; nextExpectedRevision: number; positions: number[] }
    | { id: number; ok: false; error: Record<string, unknown> & { name: string; message: string } };

  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const Database = require(workerData.driverPath) as typeof import('better-sqlite3');
  const db = new Database(workerData.file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL'); // fsync the WAL at every commit: an ack means on disk
  db.pragma(`busy_timeout = ${workerData.busyTimeoutMs}`);
  // Checkpoints run in their own thread; this is only the backstop if that thread falls far behind.
  db.pragma(`wal_autocheckpoint = ${workerData.walAutocheckpointPages}`);
  const insert = db.prepare('INSERT INTO events (stream_id, revision, event_id, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const lastRevision = db.prepare('SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1').pluck();
  const eventsFrom = db.prepare('SELECT event_id, position FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?');

  let queue: AppendMessage[] = [];
  let scheduled = false;

  function appendOne(a: AppendMessage): Outcome {
    const current = (lastRevision.get(a.streamId) as number | undefined) ?? -1;
    if (current !== a.expectedRevision) {
      // A retry of an append that is already stored finds its own events right after its
      // expected revision: answer with the first result instead of a conflict.
      const stored = a.expectedRevision < current ? (eventsFrom.all(a.streamId, a.expectedRevision + 1, a.rows.length) as { event_id: string; position: number }[]) : [];
      if (stored.length === a.rows.length && stored.every((e, i) => e.event_id === a.rows[i][0])) {
        return { id: a.id, ok: true, nextExpectedRevision: a.expectedRevision + a.rows.length, positions: stored.map((e) => e.position) };
      }
      return {
        id: a.id,
        ok: false,
        error: { name: 'WrongExpectedRevisionError', message: 'wrong expected revision', streamId: a.streamId, expectedRevision: a.expectedRevision, actualRevision: current },
      };
    }
    const positions: number[] = [];
    let revision = current;
    for (const [eventId, type, data, metadata] of a.rows) {
      revision++;
      positions.push(Number(insert.run(a.streamId, revision, eventId, type, data, metadata).lastInsertRowid));
    }
    return { id: a.id, ok: true, nextExpectedRevision: revision, positions };
  }

  const commitGroup = db.transaction((group: AppendMessage[], out: Outcome[]) => {
    for (const a of group) out.push(appendOne(a));
  });

  function takeGroup(): AppendMessage[] {
    let events = 0;
    let n = 0;
    while (n < queue.length && n < workerData.maxAppendsPerCommit) {
      events += queue[n].rows.length;
      if (n > 0 && events > workerData.maxEventsPerCommit) break;
      n++;
    }
    const group = queue.slice(0, n);
    queue = queue.slice(n);
    return group;
  }

  function flush(): void {
    scheduled = false;
    while (queue.length > 0) {
      const group = takeGroup();
      const out: Outcome[] = [];
      try {
        commitGroup.immediate(group, out);
      } catch (e) {
        // The commit itself failed (disk full, I/O error, lock timeout): nothing of the group is stored.
        const error = { name: 'Error', message: `commit failed: ${e instanceof Error ? e.message : String(e)}`, code: (e as { code?: unknown } | null)?.code };
        parentPort!.postMessage({ type: 'committed', results: group.map((a) => ({ id: a.id, ok: false, error })), commits: 0 });
        continue;
      }
      parentPort!.postMessage({ type: 'committed', results: out, commits: 1 });
      // Let messages that arrived during the fsync join the next group.
      if (queue.length > 0) {
        scheduled = true;
        setImmediate(flush);
        return;
      }
    }
  }

  parentPort!.on('message', (m: AppendMessage | { type: 'close' }) => {
    if (m.type === 'append') {
      queue.push(m);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return;
    }
    flush();
    db.close();
    parentPort!.postMessage({ type: 'closed' });
  });
  parentPort!.postMessage({
    type: 'ready',
    journalMode: db.pragma('journal_mode', { simple: true }),
    synchronous: db.pragma('synchronous', { simple: true }),
  });
}

export function writerThreadSource(): string {
  return `(${writerThreadMain.toString()})();`;
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
