import type { Client } from 'pg';
import { StoredRow } from '../decode-rows';

/** NOTIFY channel that carries the new head position after every commit. */
export const PG_NOTIFY_CHANNEL = 'ledger_events';
export const PG_MIGRATION_COMPONENT = 'event_store';

/*
 * The group-commit function (see migration 2), in four parts so each stays readable: signature
 * and variables, the fast path, the general path's decisions, the general path's writes.
 * Migration texts are frozen once released: a new body goes in new constants and a new
 * migration, never into these.
 */
const APPEND_GROUP_SIGNATURE = `ledger_append_group(
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
`;
const APPEND_GROUP_FAST_PATH = `   BEGIN
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
`;
const APPEND_GROUP_GENERAL_PATH = `     -- General path, append by append: repeated streams, retries, conflicts.
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
`;
const APPEND_GROUP_GENERAL_WRITES = `     IF p_atomic AND v_refused THEN
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

function appendGroupFunction(create: 'CREATE' | 'CREATE OR REPLACE'): string {
  return `${create} FUNCTION ${APPEND_GROUP_SIGNATURE}${APPEND_GROUP_FAST_PATH}${APPEND_GROUP_GENERAL_PATH}${APPEND_GROUP_GENERAL_WRITES}`;
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

/** Outcome of one append in a group, as `ledger_append_group` returns it. */
export interface AppendGroupRow {
  append_index: number;
  outcome: 'write' | 'retry' | 'conflict';
  actual_revision: string | null;
  first_position: string | null;
  positions: string[] | null;
}

export const APPEND_GROUP_STATEMENT = {
  name: 'ledger_append_group',
  text: 'SELECT append_index, outcome, actual_revision, first_position, positions FROM ledger_append_group($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
} as const;

/**
 * Never acknowledge before the commit record is flushed, whatever the server's default. The group
 * function relies on READ COMMITTED (each statement sees every commit before the head lock was
 * granted), so a server default of REPEATABLE READ must not reach this session. Its statements
 * take array parameters of every size: one generic plan, not a plan per call.
 */
export const WRITER_SESSION_SETTINGS =
  "SET synchronous_commit = on; SET default_transaction_isolation = 'read committed'; SET plan_cache_mode = force_generic_plan";

export interface EventRow {
  position: string;
  stream_id: string;
  revision: string;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  hash: string | null;
  previous_account_hash: string | null;
  previous_hash: string | null;
}

const SELECT_COLUMNS =
  "position, stream_id, revision, event_id, type, data::text AS data, metadata::text AS metadata, encode(hash, 'hex') AS hash, " +
  "encode(previous_account_hash, 'hex') AS previous_account_hash, encode(previous_hash, 'hex') AS previous_hash";

export const READ_STREAM_STATEMENT = {
  name: 'ledger_read_stream',
  text: `SELECT ${SELECT_COLUMNS} FROM ledger_events WHERE stream_id = $1 AND revision >= $2 ORDER BY revision LIMIT $3`,
} as const;

export const READ_STREAM_AFTER_STATEMENT = {
  name: 'ledger_read_stream_after',
  text: `SELECT ${SELECT_COLUMNS} FROM ledger_events WHERE stream_id = $1 AND revision >= $2 AND position > $3 ORDER BY revision LIMIT $4`,
} as const;

export const READ_ALL_STATEMENT = {
  name: 'ledger_read_all',
  text: `SELECT ${SELECT_COLUMNS} FROM ledger_events WHERE position > $1 ORDER BY position LIMIT $2`,
} as const;

export const HEAD_STATEMENT = { name: 'ledger_head', text: 'SELECT position FROM ledger_event_log_head WHERE id = 1' } as const;

export const CHAIN_HEAD_STATEMENT = {
  name: 'ledger_chain_head',
  text: "SELECT position, encode(hash, 'hex') AS hash FROM ledger_event_log_head WHERE id = 1",
} as const;

export function toStored(row: EventRow): StoredRow {
  return {
    position: Number(row.position),
    streamId: row.stream_id,
    revision: Number(row.revision),
    eventId: row.event_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    hash: row.hash,
    previousAccountHash: row.previous_account_hash,
    previousGlobalHash: row.previous_hash,
  };
}

/** Refuses to start on a schema that is not exactly the one this program writes (migrations off). */
export async function assertSchemaCurrent(client: Client, component = PG_MIGRATION_COMPONENT, needed = PG_EVENT_STORE_MIGRATIONS.length): Promise<void> {
  const { rows } = await client
    .query<{ version: number }>('SELECT max(version) AS version FROM ledger_schema_migrations WHERE component = $1', [component])
    .catch(() => ({ rows: [{ version: 0 }] }));
  const version = rows[0]?.version ?? 0;
  if (version !== needed) {
    throw new Error(`the database's ${component} schema is at version ${version ?? 0}, this program needs ${needed}: run \`credit-ledger migrate\``);
  }
}
