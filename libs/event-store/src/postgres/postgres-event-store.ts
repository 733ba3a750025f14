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
/**
 * Writer connections, each with one group in flight. The head lock serializes their commits; a
 * second connection has its group sent, parsed and waiting on the lock while the first commits,
 * which hides the round trip and the parameter parsing. Queued appends are split between idle
 * writers so both stay busy.
 */
export const PG_WRITER_CONNECTIONS = 2;
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
/** Upper bound of a configured poll interval. */
export const PG_MAX_POLL_INTERVAL_MS = 600_000;
export const PG_MIGRATION_COMPONENT = 'event_store';

/**
 * The group-commit function (see migration 2). Migration texts are frozen once released: a new body
 * goes in a new constant and a new migration, never into this one.
 */
function appendGroupFunction(create: 'CREATE' | 'CREATE OR REPLACE'): string {
  return `${create} FUNCTION ledger_append_group(
     p_streams text[], p_expected bigint[], p_counts int[],
     p_ids text[], p_types text[], p_data json, p_metadata json, p_atomic boolean, p_general boolean,
     OUT append_index int, OUT outcome text, OUT actual_revision bigint, OUT first_position bigint, OUT positions bigint[])
   RETURNS SETOF record LANGUAGE plpgsql AS $$
   DECLARE
     v_head bigint;
     v_heads jsonb;
     v_appends int := coalesce(array_length(p_streams, 1), 0);
     v_offset int := 0;
     v_n int;
     v_current bigint;
     v_refused boolean := false;
     v_ev int[] := '{}';
     v_pos bigint[] := '{}';
     v_str text[] := '{}';
     v_rev bigint[] := '{}';
     v_write_idx int[] := '{}';
     v_write_first bigint[] := '{}';
     v_found_pos bigint[];
     v_found_ids text[];
     v_len int;
     v_match boolean;
     v_data json[];
     v_meta json[];
   BEGIN
     -- Split the payload arrays before taking the lock: parsing is the costly part of a group.
     v_data := ARRAY(SELECT d FROM json_array_elements(p_data) AS d);
     v_meta := ARRAY(SELECT m FROM json_array_elements(p_metadata) AS m);
     -- Fast path (the usual group): each stream once, each at its expected revision. Checked
     -- BEFORE the lock, so it overlaps the other writer's commit. Sound, because revisions only
     -- grow: anything appended to these streams between this check and our insert occupies
     -- revision expected+1, and the insert then fails on UNIQUE (stream_id, revision) — the
     -- whole statement rolls back and the caller retries the group with p_general, which takes
     -- the general path below (checked under the lock: no second race).
     SELECT count(*) = count(DISTINCT a.stream_id) AND bool_and(a.expected = coalesce(
              (SELECT e.revision FROM ledger_events e WHERE e.stream_id = a.stream_id ORDER BY e.revision DESC LIMIT 1), -1))
       INTO v_match
       FROM unnest(p_streams, p_expected) AS a(stream_id, expected)
      WHERE NOT p_general;
     SELECT h.position INTO v_head FROM ledger_event_log_head h WHERE h.id = 1 FOR UPDATE;
     -- Each statement below takes a new snapshot, after the lock: every earlier append is seen.
     IF v_match THEN
       INSERT INTO ledger_events (position, stream_id, revision, event_id, type, data, metadata)
       WITH a AS (
              SELECT u.stream_id, u.expected, u.n, sum(u.n) OVER (ORDER BY u.idx) - u.n AS before
                FROM unnest(p_streams, p_expected, p_counts) WITH ORDINALITY AS u(stream_id, expected, n, idx)),
            ev AS (SELECT a.stream_id, a.expected + g AS revision, a.before + g AS ord FROM a, generate_series(1, a.n) AS g)
       SELECT v_head + x.ord, ev.stream_id, ev.revision, x.id, x.type, x.data, x.meta
         FROM unnest(p_ids, p_types, v_data, v_meta) WITH ORDINALITY AS x(id, type, data, meta, ord)
         JOIN ev ON ev.ord = x.ord;
       UPDATE ledger_event_log_head SET position = v_head + array_length(p_ids, 1) WHERE id = 1;
       PERFORM pg_notify('${PG_NOTIFY_CHANNEL}', (v_head + array_length(p_ids, 1))::text);
       RETURN QUERY
         SELECT u.idx::int, 'write'::text, NULL::bigint, v_head + sum(u.n) OVER (ORDER BY u.idx) - u.n + 1, NULL::bigint[]
           FROM unnest(p_counts) WITH ORDINALITY AS u(n, idx);
       RETURN;
     END IF;
     -- General path, append by append: repeated streams, retries, conflicts.
     SELECT coalesce(jsonb_object_agg(s.stream_id, coalesce(
              (SELECT e.revision FROM ledger_events e WHERE e.stream_id = s.stream_id ORDER BY e.revision DESC LIMIT 1), -1)), '{}'::jsonb)
       INTO v_heads FROM (SELECT DISTINCT unnest(p_streams) AS stream_id) s;
     FOR i IN 1..v_appends LOOP
       v_n := p_counts[i];
       v_current := (v_heads ->> p_streams[i])::bigint;
       IF v_current = p_expected[i] THEN
         v_write_idx := array_append(v_write_idx, i);
         v_write_first := array_append(v_write_first, v_head + 1);
         FOR k IN 1..v_n LOOP
           v_ev := array_append(v_ev, v_offset + k);
           v_pos := array_append(v_pos, v_head + k);
           v_str := array_append(v_str, p_streams[i]);
           v_rev := array_append(v_rev, p_expected[i] + k);
         END LOOP;
         v_head := v_head + v_n;
         v_heads := jsonb_set(v_heads, ARRAY[p_streams[i]], to_jsonb(p_expected[i] + v_n));
       ELSE
         v_match := false;
         IF v_current > p_expected[i] THEN
           -- A retry of an append already stored answers with its first result: same ids at the
           -- revisions after the expected one (stored before, or earlier in this very group).
           SELECT array_agg(e.position ORDER BY e.revision), array_agg(e.event_id ORDER BY e.revision)
             INTO v_found_pos, v_found_ids
             FROM ledger_events e
            WHERE e.stream_id = p_streams[i] AND e.revision > p_expected[i] AND e.revision <= p_expected[i] + v_n;
           v_found_pos := coalesce(v_found_pos, '{}');
           v_found_ids := coalesce(v_found_ids, '{}');
           v_len := coalesce(array_length(v_found_ids, 1), 0);
           FOR k IN (v_len + 1)..v_n LOOP
             FOR j IN 1..coalesce(array_length(v_str, 1), 0) LOOP
               IF v_str[j] = p_streams[i] AND v_rev[j] = p_expected[i] + k THEN
                 v_found_ids := array_append(v_found_ids, p_ids[v_ev[j]]);
                 v_found_pos := array_append(v_found_pos, v_pos[j]);
               END IF;
             END LOOP;
           END LOOP;
           v_match := v_found_ids = p_ids[v_offset + 1 : v_offset + v_n];
         END IF;
         append_index := i;
         actual_revision := v_current;
         first_position := NULL;
         IF v_match THEN
           outcome := 'retry';
           positions := v_found_pos;
         ELSE
           outcome := 'conflict';
           positions := NULL;
           v_refused := true;
         END IF;
         RETURN NEXT;
       END IF;
       v_offset := v_offset + v_n;
     END LOOP;
     IF p_atomic AND v_refused THEN
       RETURN;
     END IF;
     IF coalesce(array_length(v_ev, 1), 0) > 0 THEN
       INSERT INTO ledger_events (position, stream_id, revision, event_id, type, data, metadata)
       SELECT w.pos, w.str, w.rev, x.id, x.type, x.data, x.meta
         FROM unnest(p_ids, p_types, v_data, v_meta) WITH ORDINALITY AS x(id, type, data, meta, ord)
         JOIN unnest(v_ev, v_pos, v_str, v_rev) AS w(ev, pos, str, rev) ON w.ev = x.ord;
       UPDATE ledger_event_log_head SET position = v_head WHERE id = 1;
       PERFORM pg_notify('${PG_NOTIFY_CHANNEL}', v_head::text);
     END IF;
     FOR w IN 1..coalesce(array_length(v_write_idx, 1), 0) LOOP
       -- Written events have consecutive positions: the first is enough (no subquery per append).
       append_index := v_write_idx[w];
       outcome := 'write';
       actual_revision := NULL;
       first_position := v_write_first[w];
       positions := NULL;
       RETURN NEXT;
     END LOOP;
   END $$;`;
}

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
  // v2: a whole group commit in ONE statement (one round trip, committed by autocommit): lock the
  // head, read the streams' revisions with a snapshot taken after the lock, decide each append
  // (write / retry of an append already stored / conflict), insert the written events, move the
  // head, notify. p_atomic: if any append is refused, nothing is written.
  appendGroupFunction('CREATE'),
  // v3: databases migrated by pre-release builds of v2 hold older signatures or bodies of the
  // function (v2 was reworked before release): drop those, and (re)create the released one.
  `DROP FUNCTION IF EXISTS ledger_append_group(text[], bigint[], int[], text[], text[], text[], text[], boolean);
   DROP FUNCTION IF EXISTS ledger_append_group(text[], bigint[], int[], text[], text[], json, json, boolean);
   ${appendGroupFunction('CREATE OR REPLACE')}`,
];

export interface PostgresEventStoreOptions {
  readonly readPoolSize?: number;
  /** Apply pending migrations on connect (default true); false = refuse to start on an old schema. */
  readonly migrate?: boolean;
  readonly applicationName?: string;
  /** Safety-net poll while LISTEN is connected (default PG_NOTIFY_SAFETY_POLL_MS; 100..PG_MAX_POLL_INTERVAL_MS). */
  readonly notifySafetyPollMs?: number;
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
  private readonly writers: (Client | undefined)[] = new Array(PG_WRITER_CONNECTIONS).fill(undefined);
  private readonly writerBusy: boolean[] = new Array(PG_WRITER_CONNECTIONS).fill(false);
  private readonly inFlight = new Set<Promise<void>>();
  private listener: Client | undefined;
  private listenerConnecting: Promise<void> | undefined;
  private listenerWanted = false;
  private queue: QueueItem[] = [];
  /** Streams with an append in a group being committed, and how many such appends. */
  private readonly streamsInFlight = new Map<string, number>();
  private closed = false;
  private readonly committed = new EventEmitter();
  private counters = { appends: 0, commits: 0, events: 0 };
  /** Highest head position seen committed (own commits and NOTIFY payloads). */
  private knownHead = 0;

  private constructor(
    private readonly clientConfig: ClientConfig,
    readPoolSize: number,
    readonly migration: MigrationReport | undefined,
    private readonly notifySafetyPollMs: number,
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
    const notifySafetyPollMs = options.notifySafetyPollMs ?? PG_NOTIFY_SAFETY_POLL_MS;
    if (!Number.isSafeInteger(notifySafetyPollMs) || notifySafetyPollMs < 100 || notifySafetyPollMs > PG_MAX_POLL_INTERVAL_MS) {
      throw new RangeError(`notifySafetyPollMs must be 100..${PG_MAX_POLL_INTERVAL_MS}`);
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
    return new PostgresEventStore(clientConfig, readPoolSize, migration, notifySafetyPollMs);
  }

  stats(): PostgresEventStoreStats {
    return { ...this.counters };
  }

  /** The server's durability settings as the writer connection sees them. */
  async durability(): Promise<PostgresDurability> {
    const writer = await this.writerClient(0);
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

  /** Hands queued appends to idle writers: each takes its share of the queue as one group. */
  private kick(): void {
    for (let slot = 0; slot < PG_WRITER_CONNECTIONS && this.queue.length > 0; slot++) {
      if (this.writerBusy[slot]) continue;
      const idle = this.writerBusy.filter((b) => !b).length;
      const { group, atomic } = this.takeGroup(Math.ceil(this.queue.length / idle));
      if (group.length === 0) return; // everything queued waits for a stream in flight; its end kicks again
      const streams = group.map((p) => p.streamId);
      for (const s of streams) this.streamsInFlight.set(s, (this.streamsInFlight.get(s) ?? 0) + 1);
      this.writerBusy[slot] = true;
      const run: Promise<void> = this.commitGroupWithRetry(slot, group, atomic)
        .catch((e: unknown) => {
          for (const p of group) p.reject(e);
        })
        .finally(() => {
          for (const s of streams) {
            const left = (this.streamsInFlight.get(s) ?? 1) - 1;
            if (left === 0) this.streamsInFlight.delete(s);
            else this.streamsInFlight.set(s, left);
          }
          this.writerBusy[slot] = false;
          this.inFlight.delete(run);
          this.kick();
        });
      this.inFlight.add(run);
    }
  }

  /**
   * Up to `share` queued appends, within the limits, in queue order; an atomic batch always
   * commits alone. Appends to a stream that the other writer has in flight stay queued (and so do
   * the later ones of that stream): two appends to one stream, sent without waiting for each
   * other, then commit in the order they were made, as on one connection — never reordered across
   * writers into a spurious conflict.
   */
  private takeGroup(share: number): { group: PendingAppend[]; atomic: boolean } {
    const blocked = new Set(this.streamsInFlight.keys());
    const group: PendingAppend[] = [];
    const left: QueueItem[] = [];
    let atomic = false;
    let events = 0;
    for (const item of this.queue) {
      const full = atomic || group.length >= Math.max(1, share) || group.length >= PG_MAX_APPENDS_PER_GROUP_COMMIT;
      if ('atomic' in item) {
        if (!full && group.length === 0 && item.appends.every((a) => !blocked.has(a.streamId))) {
          group.push(...item.appends);
          atomic = true;
        } else {
          left.push(item);
          for (const a of item.appends) blocked.add(a.streamId);
        }
        continue;
      }
      const size = item.eventIds.length;
      if (!full && !blocked.has(item.streamId) && (group.length === 0 || events + size <= PG_MAX_EVENTS_PER_GROUP_COMMIT)) {
        group.push(item);
        events += size;
      } else {
        left.push(item);
        blocked.add(item.streamId);
      }
    }
    this.queue = left;
    return { group, atomic };
  }

  private async commitGroupWithRetry(slot: number, group: PendingAppend[], atomic: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        // After a lost race on the fast path, the general path decides under the lock.
        return await this.commitGroup(slot, group, atomic, attempt > 1);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== '23505' || attempt >= PG_MAX_GROUP_RETRIES) throw e;
      }
    }
  }

  /**
   * One statement, one round trip: `ledger_append_group` (migration 2) locks the head, checks every
   * append, inserts the accepted ones, moves the head and notifies; autocommit makes it durable
   * (synchronous_commit=on) before the answer comes back.
   */
  private async commitGroup(slot: number, group: PendingAppend[], atomic: boolean, general: boolean): Promise<void> {
    const client = await this.writerClient(slot);
    const ids: string[] = [];
    const types: string[] = [];
    const data: string[] = [];
    const metadata: string[] = [];
    for (const p of group) {
      for (let i = 0; i < p.eventIds.length; i++) {
        ids.push(p.eventIds[i]);
        types.push(p.types[i]);
        data.push(p.data[i]);
        metadata.push(p.metadata[i]);
      }
    }
    const { rows } = await client.query<{ append_index: number; outcome: 'write' | 'retry' | 'conflict'; actual_revision: string | null; first_position: string | null; positions: string[] | null }>({
      name: 'ledger_append_group',
      text: 'SELECT append_index, outcome, actual_revision, first_position, positions FROM ledger_append_group($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      // Payloads travel as two JSON arrays built by concatenation (each element is already JSON
      // text): no per-character escaping into a text[] literal, one JSON parse on the server.
      values: [group.map((p) => p.streamId), group.map((p) => p.expectedRevision), group.map((p) => p.eventIds.length), ids, types, `[${data.join(',')}]`, `[${metadata.join(',')}]`, atomic, general],
    });
    this.counters.commits++;
    const outcomes = new Array<(typeof rows)[number] | undefined>(group.length);
    for (const r of rows) outcomes[r.append_index - 1] = r;
    const refused = rows.find((r) => r.outcome === 'conflict');
    if (atomic && refused) {
      // Nothing was written: the whole batch fails with its first conflict.
      const p = group[refused.append_index - 1];
      throw new WrongExpectedRevisionError(p.streamId, p.expectedRevision, Number(refused.actual_revision));
    }
    let head = 0;
    group.forEach((p, i) => {
      const o = outcomes[i];
      if (!o) {
        p.reject(new Error(`ledger_append_group gave no outcome for append ${i + 1}`));
      } else if (o.outcome === 'conflict') {
        p.reject(new WrongExpectedRevisionError(p.streamId, p.expectedRevision, Number(o.actual_revision)));
      } else {
        const positions =
          o.outcome === 'write' ? Array.from({ length: p.eventIds.length }, (_, k) => Number(o.first_position) + k) : (o.positions ?? []).map(Number);
        if (o.outcome === 'write') {
          this.counters.appends++;
          this.counters.events += positions.length;
          head = Math.max(head, positions[positions.length - 1]);
        }
        p.resolve({ nextExpectedRevision: p.expectedRevision + p.eventIds.length, positions });
      }
    });
    if (head > 0) this.noteHead(head);
  }

  private async writerClient(slot: number): Promise<Client> {
    const existing = this.writers[slot];
    if (existing) return existing;
    const client = new Client(this.clientConfig);
    client.on('error', () => this.dropWriter(slot, client));
    await client.connect();
    // Never acknowledge before the commit record is flushed, whatever the server's default. The
    // group function relies on READ COMMITTED (each statement sees every commit before the head
    // lock was granted), so a server default of REPEATABLE READ must not reach this session. Its
    // statements take array parameters of every size: one generic plan, not a plan per call.
    await client.query("SET synchronous_commit = on; SET default_transaction_isolation = 'read committed'; SET plan_cache_mode = force_generic_plan");
    this.writers[slot] = client;
    return client;
  }

  private dropWriter(slot: number, client: Client): void {
    if (this.writers[slot] === client) this.writers[slot] = undefined;
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
            // A commit announced while the empty read was in flight: no need to wait for the next one.
            if (this.knownHead > position) return resolve();
            const finish = () => {
              clearTimeout(timer);
              this.committed.off('committed', onCommit);
              resolve();
            };
            const onCommit = (head: number) => head > position && finish();
            const timer = setTimeout(finish, this.listener ? this.notifySafetyPollMs : PG_FALLBACK_POLL_INTERVAL_MS);
            this.committed.on('committed', onCommit);
            void stopped.then(finish);
          }),
        isTransient: isTransientPostgresError,
      },
      options,
      handler,
    );
  }

  /** A head we know was committed (our own commit or a NOTIFY): remembered, so a waiter that arms just after it still sees it. */
  private noteHead(head: number): void {
    if (head > this.knownHead) this.knownHead = head;
    this.committed.emit('committed', head);
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
        if (Number.isFinite(head)) this.noteHead(head);
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
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    const writers = this.writers.splice(0, this.writers.length);
    const listener = this.listener;
    this.listener = undefined;
    if (this.listenerConnecting) await this.listenerConnecting.catch(() => undefined);
    await Promise.allSettled([...writers.map((w) => w?.end()), listener?.end(), this.reads.end()]);
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

/** SQLSTATE classes and codes after which the same read may work again: the server or the connection, not the request. */
const TRANSIENT_SQLSTATE_PREFIXES = ['08', '53', '57P', '40001', '40P01', '58030'];
const TRANSIENT_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** A lost or refused connection, a server shutting down or starting, a pool timeout: worth reading again. */
export function isTransientPostgresError(e: unknown): boolean {
  // Duck-typed: socket errors may come from another realm (e.g. a test sandbox), where instanceof fails.
  if (typeof e !== 'object' || e === null) return false;
  const { code, message } = e as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (TRANSIENT_SOCKET_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_SQLSTATE_PREFIXES.some((p) => code.startsWith(p));
  }
  // node-postgres raises these without a code.
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended/i.test(message);
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
