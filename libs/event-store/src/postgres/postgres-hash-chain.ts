import type { ClientBase } from 'pg';
import { GENESIS_HASH, eventHash } from '../chain/event-hash';
import { PG_NOTIFY_CHANNEL } from './postgres-sql';

/** Its own migration component, named after what it does: the hash chains. */
export const PG_CHAIN_MIGRATION_COMPONENT = 'event_hash_chain';
/** Events hashed per transaction when a database written before the chains is filled in. */
export const PG_HASH_CHAIN_FILL_BATCH = 2_000;

/*
 * The group-commit function with the hash chains. The decisions are those of the event_store
 * component's version (fast path checked before the head lock, general path under it); the new
 * part numbers the written events and hashes each one, in position order, inside the same
 * statement: the previous global hash is the head row's (locked anyway), a stream's previous hash
 * comes with its last revision (read anyway). The canonical text is assembled exactly as
 * `canonicalEventText` does (docs/audit.md); data and metadata arrive in canonical JSON.
 */
const CHAIN_APPEND_DECLARE = `CREATE FUNCTION ledger_append_group(
     p_streams text[], p_expected bigint[], p_counts int[],
     p_ids text[], p_types text[], p_data json, p_metadata json, p_atomic boolean, p_general boolean, p_hash boolean,
     OUT append_index int, OUT outcome text, OUT actual_revision bigint, OUT first_position bigint, OUT positions bigint[])
   RETURNS SETOF record LANGUAGE plpgsql AS $$
   DECLARE
     v_head bigint;
     v_glob bytea;
     v_heads jsonb;
     v_last jsonb := '{}'::jsonb;
     v_fast_hashes bytea[];
     v_appends int := coalesce(array_length(p_streams, 1), 0);
     v_offset int := 0;
     v_n int;
     v_i int;
     v_j int := 0;
     v_current bigint;
     v_refused boolean := false;
     v_ev int[] := '{}';
     v_pos bigint[] := '{}';
     v_str text[] := '{}';
     v_rev bigint[] := '{}';
     v_own bytea[] := '{}';
     v_prev_acc bytea[] := '{}';
     v_prev_glob bytea[] := '{}';
     v_acc bytea;
     v_hash bytea;
     v_meta_one json;
     v_write_idx int[] := '{}';
     v_write_first bigint[] := '{}';
     v_found_pos bigint[];
     v_found_ids text[];
     v_len int;
     v_match boolean;
     v_fast boolean := false;
     v_data json[];
     v_meta json[];
     v_genesis constant bytea := decode(repeat('00', 32), 'hex');
   BEGIN
     v_data := ARRAY(SELECT d FROM json_array_elements(p_data) AS d);
     v_meta := ARRAY(SELECT m FROM json_array_elements(p_metadata) AS m);
     -- Fast path check before the lock (see the event_store component): each stream once, each at
     -- its expected revision; the streams' last hashes come with their last revisions.
     SELECT count(*) = count(DISTINCT a.stream_id) AND bool_and(a.expected = coalesce(l.revision, -1)), array_agg(l.hash ORDER BY a.idx)
       INTO v_match, v_fast_hashes
       FROM unnest(p_streams, p_expected) WITH ORDINALITY AS a(stream_id, expected, idx)
       LEFT JOIN LATERAL (SELECT e.revision, e.hash FROM ledger_events e WHERE e.stream_id = a.stream_id ORDER BY e.revision DESC LIMIT 1) l ON true
      WHERE NOT p_general;
     SELECT h.position, h.hash INTO v_head, v_glob FROM ledger_event_log_head h WHERE h.id = 1 FOR UPDATE;
     IF p_hash AND v_head > 0 AND v_glob IS NULL THEN
       RAISE EXCEPTION 'the hash chain is not filled in yet: run credit-ledger migrate' USING ERRCODE = 'object_not_in_prerequisite_state';
     END IF;
     v_glob := coalesce(v_glob, v_genesis);
`;
const CHAIN_APPEND_FAST = `     IF v_match THEN
       v_fast := true;
       FOR i IN 1..v_appends LOOP
         v_write_idx := array_append(v_write_idx, i);
         v_write_first := array_append(v_write_first, v_head + 1);
         FOR k IN 1..p_counts[i] LOOP
           v_ev := array_append(v_ev, v_offset + k);
           v_pos := array_append(v_pos, v_head + k);
           v_str := array_append(v_str, p_streams[i]);
           v_rev := array_append(v_rev, p_expected[i] + k);
         END LOOP;
         v_head := v_head + p_counts[i];
         v_offset := v_offset + p_counts[i];
       END LOOP;
     ELSE
`;
const CHAIN_APPEND_GENERAL = `     SELECT coalesce(jsonb_object_agg(s.stream_id, coalesce(l.revision, -1)), '{}'::jsonb),
            coalesce(jsonb_object_agg(s.stream_id, encode(l.hash, 'hex')) FILTER (WHERE l.hash IS NOT NULL), '{}'::jsonb)
       INTO v_heads, v_last
       FROM (SELECT DISTINCT unnest(p_streams) AS stream_id) s
       LEFT JOIN LATERAL (SELECT e.revision, e.hash FROM ledger_events e WHERE e.stream_id = s.stream_id ORDER BY e.revision DESC LIMIT 1) l ON true;
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
     END IF;
`;
const CHAIN_APPEND_HASH = `     IF p_atomic AND v_refused THEN
       RETURN;
     END IF;
     IF p_hash THEN
       FOR w IN 1..coalesce(array_length(v_write_idx, 1), 0) LOOP
         v_i := v_write_idx[w];
         IF v_fast THEN
           v_acc := coalesce(v_fast_hashes[v_i], v_genesis);
         ELSE
           v_acc := coalesce(decode(v_last ->> p_streams[v_i], 'hex'), v_genesis);
         END IF;
         FOR k IN 1..p_counts[v_i] LOOP
           v_j := v_j + 1;
           v_meta_one := v_meta[v_ev[v_j]];
           v_hash := sha256(convert_to('{"data":' || v_data[v_ev[v_j]]::text || ',"eventId":' || to_json(p_ids[v_ev[v_j]])::text
             || ',"metadata":' || v_meta_one::text || ',"position":' || v_pos[v_j]
             || ',"previousAccountHash":"' || encode(v_acc, 'hex') || '","previousGlobalHash":"' || encode(v_glob, 'hex')
             || '","recordedAt":' || coalesce((v_meta_one -> 'recordedAt')::text, 'null') || ',"revision":' || v_rev[v_j]
             || ',"schemaVersion":' || coalesce((v_meta_one -> 'schemaVersion')::text, 'null')
             || ',"streamId":' || to_json(v_str[v_j])::text || ',"type":' || to_json(p_types[v_ev[v_j]])::text || '}', 'UTF8'));
           v_own := array_append(v_own, v_hash);
           v_prev_acc := array_append(v_prev_acc, v_acc);
           v_prev_glob := array_append(v_prev_glob, v_glob);
           v_acc := v_hash;
           v_glob := v_hash;
         END LOOP;
         IF NOT v_fast THEN
           v_last := jsonb_set(v_last, ARRAY[p_streams[v_i]], to_jsonb(encode(v_acc, 'hex')));
         END IF;
       END LOOP;
     END IF;
`;
const CHAIN_APPEND_WRITES = `     IF coalesce(array_length(v_ev, 1), 0) > 0 THEN
       INSERT INTO ledger_events (position, stream_id, revision, event_id, type, data, metadata, hash, previous_account_hash, previous_hash)
       SELECT w.pos, w.str, w.rev, x.id, x.type, x.data, x.meta, w.own, w.pacc, w.pglob
         FROM unnest(p_ids, p_types, v_data, v_meta) WITH ORDINALITY AS x(id, type, data, meta, ord)
         JOIN unnest(v_ev, v_pos, v_str, v_rev, v_own, v_prev_acc, v_prev_glob) AS w(ev, pos, str, rev, own, pacc, pglob) ON w.ev = x.ord;
       UPDATE ledger_event_log_head SET position = v_head, hash = CASE WHEN p_hash THEN v_glob END WHERE id = 1;
       PERFORM pg_notify('${PG_NOTIFY_CHANNEL}', v_head::text);
     END IF;
     FOR w IN 1..coalesce(array_length(v_write_idx, 1), 0) LOOP
       append_index := v_write_idx[w];
       outcome := 'write';
       actual_revision := NULL;
       first_position := v_write_first[w];
       positions := NULL;
       RETURN NEXT;
     END LOOP;
   END $$;`;

/**
 * v1: the hash columns, the head row's hash, the group-commit function that fills them, and an
 * immutability trigger that lets exactly one change through: setting the hashes of an event
 * stored before the chains (NULL → value, nothing else touched).
 */
export const PG_CHAIN_MIGRATIONS: readonly string[] = [
  `ALTER TABLE ledger_events ADD COLUMN hash bytea, ADD COLUMN previous_account_hash bytea, ADD COLUMN previous_hash bytea;
   ALTER TABLE ledger_event_log_head ADD COLUMN hash bytea;
   CREATE OR REPLACE FUNCTION ledger_events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
        AND NEW.position = OLD.position AND NEW.stream_id = OLD.stream_id AND NEW.revision = OLD.revision
        AND NEW.event_id = OLD.event_id AND NEW.type = OLD.type
        AND NEW.data::text = OLD.data::text AND NEW.metadata::text = OLD.metadata::text THEN
       RETURN NEW;
     END IF;
     RAISE EXCEPTION 'ledger_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
   END $$;
   DROP FUNCTION IF EXISTS ledger_append_group(text[], bigint[], int[], text[], text[], json, json, boolean, boolean);
   ${CHAIN_APPEND_DECLARE}${CHAIN_APPEND_FAST}${CHAIN_APPEND_GENERAL}${CHAIN_APPEND_HASH}${CHAIN_APPEND_WRITES}`,
];

interface UnhashedRow {
  position: string;
  stream_id: string;
  revision: string;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
}

/**
 * Fills the hashes of events stored before the chains, in position order, one batch per
 * transaction: interrupted, the next run goes on from the first event without a hash. Appends wait
 * (the group function refuses to chain onto an unhashed head) until the head row has its hash.
 */
export async function fillPostgresHashChain(client: ClientBase, limits: { batchSize?: number; maxBatches?: number } = {}): Promise<{ filled: number }> {
  const batchSize = limits.batchSize ?? PG_HASH_CHAIN_FILL_BATCH;
  const first = await client.query<{ position: string | null }>('SELECT min(position) AS position FROM ledger_events WHERE hash IS NULL');
  if (first.rows[0].position === null) return { filled: 0 };
  let from = Number(first.rows[0].position);
  let filled = 0;
  for (let batch = 1; ; batch++) {
    await client.query('BEGIN');
    try {
      const count = await fillBatch(client, from, batchSize);
      await client.query('COMMIT');
      filled += count;
      from += count;
      if (count < batchSize || batch === limits.maxBatches) return { filled };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}

async function fillBatch(client: ClientBase, from: number, batchSize: number): Promise<number> {
  const { rows } = await client.query<UnhashedRow>(
    'SELECT position, stream_id, revision, event_id, type, data::text AS data, metadata::text AS metadata FROM ledger_events WHERE position >= $1 ORDER BY position LIMIT $2',
    [from, batchSize],
  );
  if (rows.length === 0) return 0;
  const before = await client.query<{ hash: string | null }>(
    "SELECT encode(hash, 'hex') AS hash FROM ledger_events WHERE position < $1 ORDER BY position DESC LIMIT 1",
    [from],
  );
  const streams = [...new Set(rows.map((row) => row.stream_id))];
  const lastOfStreams = await client.query<{ stream_id: string; hash: string }>(
    "SELECT DISTINCT ON (stream_id) stream_id, encode(hash, 'hex') AS hash FROM ledger_events WHERE stream_id = ANY($1) AND position < $2 ORDER BY stream_id, revision DESC",
    [streams, from],
  );
  const accounts = new Map(lastOfStreams.rows.map((row) => [row.stream_id, row.hash]));
  let globalHash = before.rows[0]?.hash ?? GENESIS_HASH;
  const columns = { positions: [] as string[], hashes: [] as string[], accountLinks: [] as string[], globalLinks: [] as string[] };
  for (const row of rows) {
    const accountHash = accounts.get(row.stream_id) ?? GENESIS_HASH;
    const hash = eventHash({
      streamId: row.stream_id,
      revision: Number(row.revision),
      position: Number(row.position),
      eventId: row.event_id,
      type: row.type,
      data: JSON.parse(row.data),
      metadata: JSON.parse(row.metadata),
      previousAccountHash: accountHash,
      previousGlobalHash: globalHash,
    });
    columns.positions.push(row.position);
    columns.hashes.push(hash);
    columns.accountLinks.push(accountHash);
    columns.globalLinks.push(globalHash);
    accounts.set(row.stream_id, hash);
    globalHash = hash;
  }
  await client.query(
    `UPDATE ledger_events e SET hash = decode(u.hash, 'hex'), previous_account_hash = decode(u.acc, 'hex'), previous_hash = decode(u.glob, 'hex')
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(position, hash, acc, glob)
      WHERE e.position = u.position AND e.hash IS NULL`,
    [columns.positions, columns.hashes, columns.accountLinks, columns.globalLinks],
  );
  await client.query("UPDATE ledger_event_log_head SET hash = decode($1, 'hex') WHERE id = 1 AND position = $2", [globalHash, rows[rows.length - 1].position]);
  return rows.length;
}
