/*
 * The SQLite writer, run in its own worker thread so that fsyncs never stall the event loop that
 * decides commands: while it commits one group, the next group queues up. Started from
 * `writerThreadSource()` with `eval: true`, so the functions below that run in the thread must
 * stay self-contained (no imports, no outer variables but each other): they are shipped as source
 * text, together. Only types may be shared with the module.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
type WriterRow = [eventId: string, type: string, data: string, metadata: string, recordedAtJson: string, schemaVersionJson: string];
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
/** The global log's end inside a group: the last position and its hash as lowercase hex (null: none yet, or hashing off). */
interface ChainCursor {
  position: number;
  hashHex: string | null;
}
/** An event's hash from the parts the main thread serialized canonically (see `createChainHasher`). */
type ChainHasher = (
  streamIdJson: string,
  revision: number,
  position: number,
  row: WriterRow,
  previousAccountHashHex: string,
  previousGlobalHashHex: string,
) => string;
/** What the writer remembers of a stream it appended to: its last revision and that event's hash (hex). */
interface StreamHeads {
  revisionOf(streamId: string): number;
  hashOf(streamId: string, revision: number): string | null;
  remember(streamId: string, revision: number, hashHex: string | null): void;
  forget(): void;
}

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

/**
 * The event's hash (docs/audit.md): SHA-256 over its canonical JSON, assembled from the parts the
 * main thread serialized canonically. Must give exactly what `canonicalEventText` gives. Hashes
 * come and go as lowercase hex (what the text holds, and what SQLite's unhex() stores as bytes):
 * no Buffer per event.
 */
function createChainHasher(): { hashEvent: ChainHasher; jsonString: (text: string) => string } {
  const { hash } = require('node:crypto') as { hash: (algorithm: string, text: string) => string };
  // JSON.stringify escapes only these (and lone surrogates): a string without any of them is
  // written as itself in quotes, which is cheaper than a call to JSON.stringify per field.
  // eslint-disable-next-line no-control-regex
  const needsEscape = /["\\\u0000-\u001f\ud800-\udfff]/;
  const jsonString = (text: string) => (needsEscape.test(text) ? JSON.stringify(text) : `"${text}"`);
  const hashEvent: ChainHasher = (streamIdJson, revision, position, row, previousAccountHashHex, previousGlobalHashHex) =>
    hash(
      'sha256',
      `{"data":${row[2]},"eventId":${jsonString(row[0])},"metadata":${row[3]},"position":${position},` +
        `"previousAccountHash":"${previousAccountHashHex}","previousGlobalHash":"${previousGlobalHashHex}",` +
        `"recordedAt":${row[4]},"revision":${revision},"schemaVersion":${row[5]},"streamId":${streamIdJson},"type":${jsonString(row[1])}}`,
    );
  return { hashEvent, jsonString };
}

/**
 * Each stream's last revision, read from the (stream, revision) index alone, and the hash of the
 * event there, remembered from the writer's own appends so that the table row is not read again.
 * A remembered hash is used only at the revision it belongs to (another process may have appended
 * since), and all are dropped when a commit fails (its rows were rolled back).
 */
function createStreamHeads(db: WriterDatabase, maxStreams: number): StreamHeads {
  const lastRevision = db.prepare('SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1').pluck();
  const hashAt = db.prepare('SELECT lower(hex(hash)) FROM events WHERE stream_id = ? AND revision = ?').pluck();
  const heads = new Map<string, { revision: number; hashHex: string | null }>();
  return {
    revisionOf: (streamId) => (lastRevision.get(streamId) as number | undefined) ?? -1,
    hashOf(streamId, revision) {
      if (revision < 0) return null;
      const head = heads.get(streamId);
      if (head !== undefined && head.revision === revision) return head.hashHex;
      return (hashAt.get(streamId, revision) as string | null | undefined) ?? null;
    },
    remember(streamId, revision, hashHex) {
      const head = heads.get(streamId);
      if (head !== undefined) {
        head.revision = revision;
        head.hashHex = hashHex;
        return;
      }
      heads.set(streamId, { revision, hashHex });
      if (heads.size > maxStreams) heads.delete(heads.keys().next().value as string);
    },
    forget: () => heads.clear(),
  };
}

/** An append whose expected revision is behind: its first result if it is a retry, else a conflict. */
function createRetryCheck(db: WriterDatabase): (append: AppendMessage, current: number) => Outcome {
  const eventsFrom = db.prepare('SELECT event_id, position FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?');
  return (append, current) => {
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
  };
}

/**
 * Checks and writes one append inside the group's transaction: all of it or none. Positions are
 * numbered here (the cursor), so each event's hash can cover its position and link to the hash
 * before it. The hash columns are bound as hex and stored as bytes by unhex().
 */
function createAppendOne(db: WriterDatabase, hashing: boolean, heads: StreamHeads): (append: AppendMessage, cursor: ChainCursor) => Outcome {
  const insert = db.prepare(
    'INSERT INTO events (position, stream_id, revision, event_id, type, data, metadata, hash, previous_account_hash, previous_hash) VALUES (?, ?, ?, ?, ?, ?, ?, unhex(?), unhex(?), unhex(?))',
  );
  const retryCheck = createRetryCheck(db);
  const { hashEvent, jsonString } = createChainHasher();
  const genesisHex = '0'.repeat(64);
  return (append, cursor) => {
    const current = heads.revisionOf(append.streamId);
    if (current !== append.expectedRevision) return retryCheck(append, current);
    const positions: number[] = [];
    let revision = current;
    let accountHashHex = (hashing ? heads.hashOf(append.streamId, current) : null) ?? genesisHex;
    const streamIdJson = hashing ? jsonString(append.streamId) : '';
    for (const row of append.rows) {
      revision++;
      const position = cursor.position + 1;
      const previousGlobalHex = cursor.hashHex ?? genesisHex;
      const hashHex = hashing ? hashEvent(streamIdJson, revision, position, row, accountHashHex, previousGlobalHex) : null;
      insert.run(position, append.streamId, revision, row[0], row[1], row[2], row[3], hashHex, accountHashHex, previousGlobalHex);
      positions.push(position);
      cursor.position = position;
      cursor.hashHex = hashHex;
      accountHashHex = hashHex ?? genesisHex;
    }
    heads.remember(append.streamId, revision, cursor.hashHex);
    return { id: append.id, ok: true, nextExpectedRevision: revision, positions };
  };
}

/** Where the global log ends when a group starts, and the head record moved when it commits. */
function createChainCursor(db: WriterDatabase, hashing: boolean) {
  const lastEvent = db.prepare('SELECT position, lower(hex(hash)) AS hashHex FROM events ORDER BY position DESC LIMIT 1');
  const moveHead = db.prepare('UPDATE event_chain_head SET position = ?, hash = unhex(?) WHERE id = 1');
  return {
    open(): ChainCursor {
      const last = lastEvent.get() as { position: number; hashHex: string | null } | undefined;
      if (hashing && last && last.hashHex === null) throw new Error('the hash chain is not filled in yet (run `credit-ledger migrate`)');
      return { position: last?.position ?? 0, hashHex: last?.hashHex ?? null };
    },
    close(cursor: ChainCursor, start: number): void {
      if (cursor.position !== start) moveHead.run(cursor.position, cursor.hashHex);
    },
  };
}

/**
 * The group commit: appends queue up while a group commits, then go together in one IMMEDIATE
 * transaction (one fsync). `post` sends the outcomes to the main thread.
 */
function createGroupCommitter(
  db: WriterDatabase,
  limits: { maxAppendsPerCommit: number; maxEventsPerCommit: number; maxCachedStreamHeads: number; hashing: boolean },
  post: (message: unknown) => void,
) {
  const heads = createStreamHeads(db, limits.maxCachedStreamHeads);
  const appendOne = createAppendOne(db, limits.hashing, heads);
  const chain = createChainCursor(db, limits.hashing);
  /** Test-only: commits to fail after their rows are written (see SqliteEventStore.injectCommitFailures). */
  let injectedFailures = 0;
  const commitGroup = db.transaction((group: AppendMessage[], out: Outcome[]) => {
    const cursor = chain.open();
    const start = cursor.position;
    for (const append of group) out.push(appendOne(append, cursor));
    chain.close(cursor, start);
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
        // The commit itself failed (disk full, I/O error, lock timeout): nothing of the group is stored,
        // so neither is what the writer remembered of its streams.
        heads.forget();
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
  type Message = { type: 'appends'; appends: AppendMessage[] } | { type: 'close' } | { type: 'inject-commit-failures'; count: number };
  parentPort!.on('message', (message: Message) => {
    // The main thread sends the appends of one turn of its event loop together.
    if (message.type === 'appends') return message.appends.forEach(committer.enqueue);
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
  const helpers = [openWriterDatabase, createChainHasher, createStreamHeads, createRetryCheck, createAppendOne, createChainCursor, createGroupCommitter].map(
    (helper) => helper.toString(),
  );
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
