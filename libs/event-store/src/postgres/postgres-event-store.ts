import { EventEmitter } from 'node:events';
import { Client, ClientConfig, Pool } from 'pg';
import { catchUpSubscription } from '../catch-up-subscription';
import { StoredRow, decodeRows } from '../decode-rows';
import {
  AppendResult,
  BatchHandler,
  EventStore,
  EventToAppend,
  InvalidAppendError,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  WrongExpectedRevisionError,
  clampPageSize,
  validateAppend,
} from '../event-store.port';
import { MigrationReport, migratePostgres } from './postgres-migrations';

/** Appends that share one transaction and one WAL flush at most. */
export const PG_MAX_APPENDS_PER_GROUP_COMMIT = 2_000;
/** Events per group commit at most (a single larger append still commits alone). */
export const PG_MAX_EVENTS_PER_GROUP_COMMIT = 20_000;
/** A group that hit a unique violation (a writer that bypassed the head lock) is retried this often. */
export const PG_MAX_GROUP_RETRIES = 3;
export const PG_DEFAULT_READ_POOL_SIZE = 8;
export const PG_MAX_READ_POOL_SIZE = 64;
export const PG_CONNECT_TIMEOUT_MS = 10_000;
/** No statement of ours may run longer; a stuck server surfaces as an error, not a hang. */
export const PG_STATEMENT_TIMEOUT_MS = 60_000;
/** NOTIFY channel that carries the new head position after every commit. */
export const PG_NOTIFY_CHANNEL = 'ledger_events';
/** Safety-net poll while LISTEN is connected (a lost notification costs at most this). */
export const PG_NOTIFY_SAFETY_POLL_MS = 2_000;
/** Poll interval while the LISTEN connection is down (the fallback). */
export const PG_FALLBACK_POLL_INTERVAL_MS = 250;
export const PG_LISTEN_RECONNECT_DELAY_MS = 500;
export const PG_MIGRATION_COMPONENT = 'event_store';

/**
 * The global position is commit-ordered: every writer takes the one-row `ledger_event_log_head`
 * lock (SELECT … FOR UPDATE) before it numbers its events, and holds it until COMMIT. PostgreSQL
 * makes a transaction visible before it releases its locks, so the next writer can only number
 * (and commit) after the previous one is visible: positions become visible strictly in order,
 * with no gaps (a rolled-back group rolls its head update back too). A subscriber reading
 * `position > checkpoint` therefore never skips an event that commits later with a smaller one —
 * the failure a plain bigserial has under concurrent transactions.
 *
 * Stored events are never changed: a trigger refuses UPDATE, DELETE and TRUNCATE.
 */
export const PG_EVENT_STORE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE ledger_events (
     position   bigint PRIMARY KEY,
     stream_id  text   NOT NULL,
     revision   bigint NOT NULL,
     event_id   text   NOT NULL,
     type       text   NOT NULL,
     data       json   NOT NULL,
     metadata   json   NOT NULL,
     CONSTRAINT ledger_events_stream_revision UNIQUE (stream_id, revision)
   );
   CREATE TABLE ledger_event_log_head (
     id       smallint PRIMARY KEY CHECK (id = 1),
     position bigint   NOT NULL
   );
   INSERT INTO ledger_event_log_head (id, position) VALUES (1, 0);
   CREATE FUNCTION ledger_events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     RAISE EXCEPTION 'ledger_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
   END $$;
   CREATE TRIGGER ledger_events_no_update_delete BEFORE UPDATE OR DELETE ON ledger_events
     FOR EACH ROW EXECUTE FUNCTION ledger_events_are_immutable();
   CREATE TRIGGER ledger_events_no_truncate BEFORE TRUNCATE ON ledger_events
     FOR EACH STATEMENT EXECUTE FUNCTION ledger_events_are_immutable();`,
];

export interface PostgresEventStoreOptions {
  readonly readPoolSize?: number;
  /** Apply pending migrations on connect (default true); false = refuse to start on an old schema. */
  readonly migrate?: boolean;
  readonly applicationName?: string;
}

export interface PostgresEventStoreStats {
  readonly appends: number;
  readonly commits: number;
  readonly events: number;
}

export interface PostgresDurability {
  readonly fsync: string;
  readonly synchronousCommit: string;
}

interface PendingAppend {
  readonly streamId: string;
  readonly expectedRevision: number;
  readonly eventIds: readonly string[];
  readonly types: readonly string[];
  readonly data: readonly string[];
  readonly metadata: readonly string[];
  readonly resolve: (r: AppendResult) => void;
  readonly reject: (e: unknown) => void;
}

/** Several appends committed in one transaction, all or nothing (store copy). */
interface AtomicBatch {
  readonly atomic: true;
  readonly appends: PendingAppend[];
}

type QueueItem = PendingAppend | AtomicBatch;

export interface StreamAppend {
  readonly streamId: string;
  readonly expectedRevision: number;
  readonly events: readonly EventToAppend[];
}

type Decision =
  | { readonly kind: 'write'; readonly result: AppendResult }
  | { readonly kind: 'conflict'; readonly actualRevision: number }
  | { readonly kind: 'retry-check'; readonly actualRevision: number };

interface EventRow {
  position: string;
  stream_id: string;
  revision: string;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
}

const SELECT_COLUMNS = 'position, stream_id, revision, event_id, type, data::text AS data, metadata::text AS metadata';

/**
 * PostgreSQL event store. Appends queue up while a commit is in flight and go together in the next
 * transaction on one writer connection (group commit: one WAL flush for the group), each append
 * checked and applied all or nothing. synchronous_commit is forced on for the writer: nothing is
 * acknowledged before its commit is flushed. Live subscribers are woken by NOTIFY, with polling as
 * the fallback when the LISTEN connection is down.
 */
export class PostgresEventStore implements EventStore {
  private readonly reads: Pool;
  private writer: Client | undefined;
  private listener: Client | undefined;
  private listenerConnecting: Promise<void> | undefined;
  private listenerWanted = false;
  private queue: QueueItem[] = [];
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly committed = new EventEmitter();
  private counters = { appends: 0, commits: 0, events: 0 };

  private constructor(
    private readonly clientConfig: ClientConfig,
    readPoolSize: number,
    readonly migration: MigrationReport | undefined,
  ) {
    this.reads = new Pool({ ...clientConfig, max: readPoolSize });
    this.reads.on('error', () => undefined); // an idle client's lost connection; the pool replaces it
    this.committed.setMaxListeners(0);
  }

  static async connect(url: string, options: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
    const readPoolSize = options.readPoolSize ?? PG_DEFAULT_READ_POOL_SIZE;
    if (!Number.isSafeInteger(readPoolSize) || readPoolSize < 1 || readPoolSize > PG_MAX_READ_POOL_SIZE) {
      throw new RangeError(`readPoolSize must be 1..${PG_MAX_READ_POOL_SIZE}`);
    }
    const clientConfig: ClientConfig = {
      connectionString: url,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
      statement_timeout: PG_STATEMENT_TIMEOUT_MS,
      application_name: options.applicationName ?? 'credit-ledger',
    };
    const setup = new Client(clientConfig);
    await setup.connect();
    let migration: MigrationReport | undefined;
    try {
      if (options.migrate ?? true) {
        migration = await migratePostgres(setup, PG_MIGRATION_COMPONENT, PG_EVENT_STORE_MIGRATIONS);
      } else {
        await assertSchemaCurrent(setup);
      }
    } finally {
      await setup.end();
    }
    return new PostgresEventStore(clientConfig, readPoolSize, migration);
  }

  stats(): PostgresEventStoreStats {
    return { ...this.counters };
  }

  /** The server's durability settings as the writer connection sees them. */
  async durability(): Promise<PostgresDurability> {
    const writer = await this.writerClient();
    const fsync = await writer.query<{ fsync: string }>('SHOW fsync');
    const sync = await writer.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
    return { fsync: fsync.rows[0].fsync, synchronousCommit: sync.rows[0].synchronous_commit };
  }

  /** `notify` while the LISTEN connection is up, `polling` otherwise (and before any subscription). */
  liveMode(): 'notify' | 'polling' {
    return this.listener ? 'notify' : 'polling';
  }

  append(streamId: string, expectedRevision: number, events: readonly EventToAppend[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    let pending: Omit<PendingAppend, 'resolve' | 'reject'>;
    try {
      pending = prepareAppend(streamId, expectedRevision, events);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ ...pending, resolve, reject });
      this.kick();
    });
  }

  /**
   * Appends to several streams in ONE transaction, in the order given: all are written or none
   * (the first conflict fails the whole batch). Used by `store copy`, so an interrupted copy always
   * leaves the target holding an exact prefix of the source.
   */
  appendAtomically(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    const total = appends.reduce((n, a) => n + a.events.length, 0);
    if (appends.length === 0 || appends.length > PG_MAX_APPENDS_PER_GROUP_COMMIT || total > PG_MAX_EVENTS_PER_GROUP_COMMIT) {
      return Promise.reject(new InvalidAppendError(`an atomic batch carries 1..${PG_MAX_APPENDS_PER_GROUP_COMMIT} appends and at most ${PG_MAX_EVENTS_PER_GROUP_COMMIT} events`));
    }
    let prepared: Omit<PendingAppend, 'resolve' | 'reject'>[];
    try {
      prepared = appends.map((a) => prepareAppend(a.streamId, a.expectedRevision, a.events));
      const streams = new Set<string>();
      for (const a of appends) {
        // Each stream once per batch keeps the revision check simple and the batch unambiguous.
        if (streams.has(a.streamId)) throw new InvalidAppendError(`stream ${a.streamId} appears twice in one atomic batch`);
        streams.add(a.streamId);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<AppendResult[]>((resolve, reject) => {
      const results: AppendResult[] = new Array(prepared.length);
      let left = prepared.length;
      let failed = false;
      const members = prepared.map((p, i) => ({
        ...p,
        resolve: (r: AppendResult) => {
          results[i] = r;
          if (--left === 0 && !failed) resolve(results);
        },
        reject: (e: unknown) => {
          if (!failed) reject(e);
          failed = true;
        },
      }));
      this.queue.push({ atomic: true, appends: members });
      this.kick();
    });
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const { group, atomic } = this.takeGroup();
      try {
        await this.commitGroupWithRetry(group, atomic);
      } catch (e) {
        for (const p of group) p.reject(e);
      }
    }
  }

  /** The appends queued so far, up to the limits; an atomic batch always commits alone. */
  private takeGroup(): { group: PendingAppend[]; atomic: boolean } {
    const first = this.queue[0];
    if ('atomic' in first) {
      this.queue.shift();
      return { group: first.appends, atomic: true };
    }
    let events = 0;
    let n = 0;
    while (n < this.queue.length && n < PG_MAX_APPENDS_PER_GROUP_COMMIT) {
      const item = this.queue[n];
      if ('atomic' in item) break;
      const size = item.eventIds.length;
      if (n > 0 && events + size > PG_MAX_EVENTS_PER_GROUP_COMMIT) break;
      events += size;
      n++;
    }
    return { group: this.queue.splice(0, n) as PendingAppend[], atomic: false };
  }

  private async commitGroupWithRetry(group: PendingAppend[], atomic: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.commitGroup(group, atomic);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== '23505' || attempt >= PG_MAX_GROUP_RETRIES) throw e;
      }
    }
  }

  /** One transaction: lock the head, check every append, insert the accepted ones, move the head, notify. */
  private async commitGroup(group: PendingAppend[], atomic: boolean): Promise<void> {
    const client = await this.writerClient();
    try {
      // One round trip for both (simple protocol, no parameters). The stream heads are read by the
      // NEXT statement, so their snapshot is taken after the lock is held: never stale.
      const opened = (await client.query('BEGIN; SELECT position FROM ledger_event_log_head WHERE id = 1 FOR UPDATE')) as unknown as { rows: { position: string }[] }[];
      let head = Number(opened[1].rows[0].position);
      const streams = [...new Set(group.map((p) => p.streamId))];
      const current = new Map<string, number>();
      const revs = await client.query<{ stream_id: string; revision: string | null }>({
        name: 'ledger_stream_heads',
        text: `SELECT s.stream_id,
                      (SELECT e.revision FROM ledger_events e WHERE e.stream_id = s.stream_id ORDER BY e.revision DESC LIMIT 1) AS revision
                 FROM unnest($1::text[]) AS s(stream_id)`,
        values: [streams],
      });
      for (const r of revs.rows) current.set(r.stream_id, r.revision === null ? -1 : Number(r.revision));

      const insert = { positions: [] as number[], streams: [] as string[], revisions: [] as number[], ids: [] as string[], types: [] as string[], data: [] as string[], metadata: [] as string[] };
      // Events written by this group, so a retry queued in the same group is recognised too.
      const inGroup = new Map<string, { eventId: string; position: number }>();
      const decisions: Decision[] = group.map((p) => {
        const actual = current.get(p.streamId) ?? -1;
        if (actual === p.expectedRevision) {
          const positions: number[] = [];
          for (let i = 0; i < p.eventIds.length; i++) {
            const position = ++head;
            const revision = p.expectedRevision + 1 + i;
            positions.push(position);
            insert.positions.push(position);
            insert.streams.push(p.streamId);
            insert.revisions.push(revision);
            insert.ids.push(p.eventIds[i]);
            insert.types.push(p.types[i]);
            insert.data.push(p.data[i]);
            insert.metadata.push(p.metadata[i]);
            inGroup.set(`${revision}\u0000${p.streamId}`, { eventId: p.eventIds[i], position });
          }
          current.set(p.streamId, p.expectedRevision + p.eventIds.length);
          return { kind: 'write', result: { nextExpectedRevision: p.expectedRevision + p.eventIds.length, positions } };
        }
        // Ahead of the expected revision: either a retry of an append already stored, or a conflict.
        return actual > p.expectedRevision ? { kind: 'retry-check', actualRevision: actual } : { kind: 'conflict', actualRevision: actual };
      });

      const checks = group.map((p, i) => ({ p, d: decisions[i] })).filter((x) => x.d.kind === 'retry-check');
      const stored = new Map<string, { eventId: string; position: number }>();
      if (checks.length > 0) {
        const found = await client.query<{ stream_id: string; revision: string; event_id: string; position: string }>({
          name: 'ledger_retry_check',
          text: `SELECT e.stream_id, e.revision, e.event_id, e.position
                   FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS c(stream_id, after_revision, last_revision)
                   JOIN ledger_events e ON e.stream_id = c.stream_id AND e.revision > c.after_revision AND e.revision <= c.last_revision`,
          values: [checks.map((c) => c.p.streamId), checks.map((c) => c.p.expectedRevision), checks.map((c) => c.p.expectedRevision + c.p.eventIds.length)],
        });
        for (const r of found.rows) stored.set(`${r.revision}\u0000${r.stream_id}`, { eventId: r.event_id, position: Number(r.position) });
      }
      for (const { p, d } of checks) {
        const positions: number[] = [];
        for (let i = 0; i < p.eventIds.length; i++) {
          const key = `${p.expectedRevision + 1 + i}\u0000${p.streamId}`;
          const at = stored.get(key) ?? inGroup.get(key);
          if (!at || at.eventId !== p.eventIds[i]) break;
          positions.push(at.position);
        }
        decisions[group.indexOf(p)] =
          positions.length === p.eventIds.length
            ? { kind: 'write', result: { nextExpectedRevision: p.expectedRevision + p.eventIds.length, positions } }
            : { kind: 'conflict', actualRevision: (d as { actualRevision: number }).actualRevision };
      }

      if (atomic) {
        const refused = decisions.findIndex((d) => d.kind !== 'write');
        if (refused >= 0) {
          const p = group[refused];
          throw new WrongExpectedRevisionError(p.streamId, p.expectedRevision, (decisions[refused] as { actualRevision: number }).actualRevision);
        }
      }
      if (insert.positions.length > 0) {
        await client.query({
          name: 'ledger_insert_group',
          text: `WITH inserted AS (
                   INSERT INTO ledger_events (position, stream_id, revision, event_id, type, data, metadata)
                   SELECT x.position, x.stream_id, x.revision, x.event_id, x.type, x.data::json, x.metadata::json
                     FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
                          AS x(position, stream_id, revision, event_id, type, data, metadata)
                 ), moved AS (
                   UPDATE ledger_event_log_head SET position = $8::bigint WHERE id = 1
                 )
                 SELECT pg_notify('${PG_NOTIFY_CHANNEL}', ($8::bigint)::text)`,
          values: [insert.positions, insert.streams, insert.revisions, insert.ids, insert.types, insert.data, insert.metadata, head],
        });
      }
      await client.query('COMMIT');
      this.counters.commits++;
      group.forEach((p, i) => {
        const d = decisions[i];
        if (d.kind === 'write') {
          this.counters.appends++;
          this.counters.events += p.eventIds.length;
          p.resolve(d.result);
        } else {
          p.reject(new WrongExpectedRevisionError(p.streamId, p.expectedRevision, d.actualRevision));
        }
      });
      if (insert.positions.length > 0) this.committed.emit('committed', head);
    } catch (e) {
      await client.query('ROLLBACK').catch(() => this.dropWriter(client));
      throw e;
    }
  }

  private async writerClient(): Promise<Client> {
    if (this.writer) return this.writer;
    const client = new Client(this.clientConfig);
    client.on('error', () => this.dropWriter(client));
    await client.connect();
    // Never acknowledge before the commit record is flushed, whatever the server's default.
    await client.query('SET synchronous_commit = on');
    this.writer = client;
    return client;
  }

  private dropWriter(client: Client): void {
    if (this.writer === client) this.writer = undefined;
    client.end().catch(() => undefined);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const limit = clampPageSize(options.limit);
    const from = options.fromRevision ?? 0;
    const { rows } =
      options.afterPosition === undefined
        ? await this.reads.query<EventRow>({
            name: 'ledger_read_stream',
            text: `SELECT ${SELECT_COLUMNS} FROM ledger_events WHERE stream_id = $1 AND revision >= $2 ORDER BY revision LIMIT $3`,
            values: [streamId, from, limit],
          })
        : await this.reads.query<EventRow>({
            name: 'ledger_read_stream_after',
            text: `SELECT ${SELECT_COLUMNS} FROM ledger_events WHERE stream_id = $1 AND revision >= $2 AND position > $3 ORDER BY revision LIMIT $4`,
            values: [streamId, from, options.afterPosition, limit],
          });
    return decodeRows(rows.map(toStored));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { rows } = await this.reads.query<EventRow>({
      name: 'ledger_read_all',
      text: `SELECT ${SELECT_COLUMNS} FROM ledger_events WHERE position > $1 ORDER BY position LIMIT $2`,
      values: [options.after ?? 0, clampPageSize(options.limit)],
    });
    return decodeRows(rows.map(toStored));
  }

  async headPosition(): Promise<number> {
    const { rows } = await this.reads.query<{ position: string }>({ name: 'ledger_head', text: 'SELECT position FROM ledger_event_log_head WHERE id = 1' });
    return Number(rows[0].position);
  }

  subscribeToAll(options: SubscribeOptions, handler: BatchHandler): Subscription {
    this.listenerWanted = true;
    void this.ensureListener();
    return catchUpSubscription(
      (after, limit) => this.readAll({ after, limit }),
      {
        waitForEventsAfter: (position, stopped) =>
          new Promise<void>((resolve) => {
            const finish = () => {
              clearTimeout(timer);
              this.committed.off('committed', onCommit);
              resolve();
            };
            const onCommit = (head: number) => head > position && finish();
            const timer = setTimeout(finish, this.listener ? PG_NOTIFY_SAFETY_POLL_MS : PG_FALLBACK_POLL_INTERVAL_MS);
            this.committed.on('committed', onCommit);
            void stopped.then(finish);
          }),
      },
      options,
      handler,
    );
  }

  /** One LISTEN connection per store; reconnects after a loss while polling covers the gap. */
  private ensureListener(): Promise<void> {
    if (this.closed || !this.listenerWanted || this.listener) return Promise.resolve();
    if (this.listenerConnecting) return this.listenerConnecting;
    this.listenerConnecting = (async () => {
      const client = new Client(this.clientConfig);
      let gone = false;
      const lost = () => {
        if (gone) return;
        gone = true;
        if (this.listener === client) this.listener = undefined;
        client.end().catch(() => undefined);
        // Wake waiters so they re-arm with the fallback interval, then try again.
        this.committed.emit('committed', Number.MAX_SAFE_INTEGER);
        if (!this.closed) setTimeout(() => void this.ensureListener(), PG_LISTEN_RECONNECT_DELAY_MS).unref();
      };
      client.on('error', lost);
      client.on('notification', (msg) => {
        const head = Number(msg.payload);
        if (Number.isFinite(head)) this.committed.emit('committed', head);
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${PG_NOTIFY_CHANNEL}`);
        if (this.closed) {
          await client.end();
          return;
        }
        this.listener = client;
        client.on('end', lost);
        // Events committed while we were not listening: let waiters look.
        this.committed.emit('committed', Number.MAX_SAFE_INTEGER);
      } catch {
        lost();
      }
    })().finally(() => {
      this.listenerConnecting = undefined;
    });
    return this.listenerConnecting;
  }

  /** Backend pid of the LISTEN connection (tests cut it with pg_terminate_backend). */
  listenerProcessId(): number | undefined {
    return (this.listener as unknown as { processID?: number } | undefined)?.processID;
  }

  async ping(): Promise<void> {
    await this.reads.query('SELECT 1');
  }

  /** Answers queued appends, then closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.draining) await this.draining;
    const writer = this.writer;
    this.writer = undefined;
    const listener = this.listener;
    this.listener = undefined;
    if (this.listenerConnecting) await this.listenerConnecting.catch(() => undefined);
    await Promise.allSettled([writer?.end(), listener?.end(), this.reads.end()]);
  }
}

function prepareAppend(streamId: string, expectedRevision: number, events: readonly EventToAppend[]): Omit<PendingAppend, 'resolve' | 'reject'> {
  validateAppend(streamId, expectedRevision, events);
  // PostgreSQL text cannot hold NUL; refuse it here so one bad append never fails its group.
  if (streamId.includes('\0')) throw new InvalidAppendError('stream id must not contain NUL');
  for (const e of events) {
    if (typeof e.eventId !== 'string' || e.eventId.length === 0 || e.eventId.includes('\0')) throw new InvalidAppendError('event ids are non-empty strings without NUL');
    if (typeof e.type !== 'string' || e.type.length === 0 || e.type.includes('\0')) throw new InvalidAppendError('event types are non-empty strings without NUL');
  }
  // Serialized here, so a payload that cannot be stored fails alone.
  return {
    streamId,
    expectedRevision,
    eventIds: events.map((e) => e.eventId),
    types: events.map((e) => e.type),
    data: events.map((e) => jsonText(e.data)),
    metadata: events.map((e) => jsonText(e.metadata)),
  };
}

async function assertSchemaCurrent(client: Client): Promise<void> {
  const { rows } = await client
    .query<{ version: number }>('SELECT max(version) AS version FROM ledger_schema_migrations WHERE component = $1', [PG_MIGRATION_COMPONENT])
    .catch(() => ({ rows: [{ version: 0 }] }));
  const version = rows[0]?.version ?? 0;
  if (version !== PG_EVENT_STORE_MIGRATIONS.length) {
    throw new Error(`the database's event store schema is at version ${version ?? 0}, this program needs ${PG_EVENT_STORE_MIGRATIONS.length}: run \`credit-ledger migrate\``);
  }
}

function jsonText(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new InvalidAppendError('event data and metadata must be JSON values');
  return text;
}

function toStored(row: EventRow): StoredRow {
  return {
    position: Number(row.position),
    streamId: row.stream_id,
    revision: Number(row.revision),
    eventId: row.event_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
  };
}
