import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { Client, Pool, PoolConfig } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { decide, evolve, initialState, LedgerEvent } from '@credit-ledger/domain';
import { EventStore, EventToAppend, NO_STREAM, PG_WRITER_CONNECTIONS, PostgresEventStore, SqliteEventStore } from '@credit-ledger/event-store';
import { createTestDatabase, dropTestDatabase, ThrowawayPostgresCluster } from '@credit-ledger/event-store/testing';
import { encodeEvents } from '@credit-ledger/ledger';
import { rawFsyncEventsPerSecond } from './raw-fsync-writer';
import { benchConsumption, fmt, Measured, nowMs, seededRandom, summarize } from './stats';

/**
 * The event-store adapters on their own (no command bus, no domain): durable appends/s and
 * latency per append, (a) one at a time, (b) 64 in flight on distinct streams, (c) 100 events per
 * append; next to the raw fsync ceiling of the same events on the same disk and, for PostgreSQL,
 * a bare single-row INSERT baseline on the same server. Timings are printed, never asserted.
 */

const SECONDS = Number(process.env.BENCH_STORE_SECONDS ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_STORE_WARMUP_SECONDS ?? 1);
const IN_FLIGHT = 64;
const BATCH_EVENTS = 100;
/** Streams (a) and (c) rotate over, each advancing its expected revision (like accounts). */
const ROTATING_STREAMS = 1_000;
/** Distinct real CreditConsumed events the appends cycle through (fresh event ids each time). */
const TEMPLATE_EVENTS = 2_000;
/** The raw writer's sizes, as the command-path section uses them. */
const RAW_ONE_EVENTS = 3_000;
const RAW_BATCHED_EVENTS = 60_000;
const TARGET_PG_IN_FLIGHT = 20_000;
const TARGET_PG_VS_BARE = 0.8;
const PLAN = {
  creditTypes: {
    email: { allocation: 1_000_000_000, overdraft: { policy: 'deny' as const } },
    mobile: { allocation: 1_000_000_000, overdraft: { policy: 'deny' as const } },
  },
  cycle: { period: 'month' as const, anchorDay: 1, timezone: 'UTC' as const },
};

export interface StoreScenario extends Measured {
  /** Events appended in the measured window (= operations × events per append). */
  readonly events: number;
  readonly eventsPerSecond: number;
  readonly eventsPerAppend: number;
  /** Average events per commit (the adapter's group commit), when the adapter counts commits. */
  readonly eventsPerCommit: number | undefined;
  readonly appendsPerCommit: number | undefined;
  /** Raw fsync ceiling, events/s, written with the same events per fsync as this scenario commits. */
  readonly rawEventsPerSecond: number;
  readonly rawEventsPerSync: number;
  /** process.cpuUsage of this process over the window, % of one core. */
  readonly nodeCpuPercent: number;
  /** Whole machine busy over the window (/proc/stat), % of all cores; undefined off Linux. */
  readonly machineBusyPercent: number | undefined;
}

export interface AdapterResult {
  readonly adapter: string;
  readonly detail: string;
  readonly durability: string;
  readonly a: StoreScenario;
  readonly b: StoreScenario;
  readonly c: StoreScenario;
}

export interface BareInsertVariant extends Measured {
  readonly connections: number;
  readonly prepared: boolean;
  /** Rows per INSERT (1: single-row autocommit INSERTs). Latencies are per statement. */
  readonly rowsPerCommit?: number;
  readonly nodeCpuPercent: number;
  readonly machineBusyPercent: number | undefined;
}

export interface StoreBenchResult {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly eventBytes: { readonly data: number; readonly metadata: number; readonly serialized: number };
  readonly rawFsync: { readonly oneEventPerSync: number; readonly batchedPerSync: number };
  readonly adapters: AdapterResult[];
  readonly skipped: string[];
  readonly postgres: {
    readonly server: string;
    readonly settings: Record<string, string>;
    readonly bare: BareInsertVariant[];
    readonly bestBare: BareInsertVariant;
    /** The same rows with the adapter's batching (events per commit of (b)) and writer count. */
    readonly batchedBare: BareInsertVariant;
    readonly adapterInFlightPerSecond: number;
    readonly ratio: number;
    readonly ratioToBatched: number;
    readonly targetThroughputMet: boolean;
    readonly targetRatioMet: boolean;
  };
}

/** Real CreditConsumed events, as the ledger encodes them (decide + encodeEvents). */
function creditConsumedTemplates(count: number): EventToAppend[] {
  const rnd = seededRandom(7);
  let state = initialState();
  const opened = decide({ type: 'OpenAccount', at: new Date().toISOString(), data: { accountId: 'store_bench', name: 'Store bench', plan: PLAN } }, state);
  if (opened.kind === 'accepted') for (const e of opened.events) state = evolve(state, e);
  const out: EventToAppend[] = [];
  for (let i = 0; out.length < count; i++) {
    const d = decide({ type: 'ConsumeCredits', at: new Date().toISOString(), data: benchConsumption(`s${i}`, rnd) }, state);
    if (d.kind !== 'accepted') throw new Error(`the store benchmark's consumption ${i} was refused`);
    const events: LedgerEvent[] = [...d.events];
    for (const e of events) state = evolve(state, e);
    for (const x of encodeEvents(`consume:s${i}`, events, { actor: 'bench', correlationId: randomUUID(), recordedAt: new Date().toISOString() })) {
      if (x.type === 'CreditConsumed') out.push(x);
    }
  }
  return out;
}

class EventSource {
  private next = 0;
  constructor(private readonly templates: readonly EventToAppend[]) {}
  /** `n` events of the template set, each with a fresh event id. */
  take(n: number): EventToAppend[] {
    const out: EventToAppend[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const t = this.templates[this.next];
      this.next = (this.next + 1) % this.templates.length;
      out[i] = { eventId: randomUUID(), type: t.type, data: t.data, metadata: t.metadata };
    }
    return out;
  }
}

interface CpuSample {
  readonly node: NodeJS.CpuUsage;
  readonly machine: { busy: number; total: number } | undefined;
  readonly at: number;
}

function cpuSample(): CpuSample {
  let machine: CpuSample['machine'];
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3] + (fields[4] ?? 0);
    const total = fields.reduce((s, x) => s + x, 0);
    machine = { busy: total - idle, total };
  } catch {
    machine = undefined;
  }
  return { node: process.cpuUsage(), machine, at: nowMs() };
}

function cpuSince(s: CpuSample): { nodeCpuPercent: number; machineBusyPercent: number | undefined } {
  const now = cpuSample();
  const d = process.cpuUsage(s.node);
  const nodeCpuPercent = ((d.user + d.system) / 1000 / (now.at - s.at)) * 100;
  const machineBusyPercent =
    s.machine && now.machine ? (100 * (now.machine.busy - s.machine.busy)) / Math.max(1, now.machine.total - s.machine.total) : undefined;
  return { nodeCpuPercent, machineBusyPercent };
}

interface Window {
  readonly operations: number;
  readonly seconds: number;
  readonly latencies: number[];
  readonly nodeCpuPercent: number;
  readonly machineBusyPercent: number | undefined;
}

/**
 * `workers` loops, each awaiting its own operation, for WARMUP_SECONDS + SECONDS. Counted: the
 * operations that complete inside the measured window (after the warm-up), with their latencies;
 * no new operation starts after the window, the ones in flight then are awaited but not counted.
 */
async function timedWindow(workers: number, operation: (worker: number) => Promise<void>): Promise<Window> {
  const start = nowMs();
  const windowStart = start + WARMUP_SECONDS * 1000;
  const windowEnd = windowStart + SECONDS * 1000;
  const latencies: number[] = [];
  let cpu: CpuSample | undefined;
  const cpuTimer = setTimeout(() => (cpu = cpuSample()), WARMUP_SECONDS * 1000);
  let cpuResult: ReturnType<typeof cpuSince> | undefined;
  const cpuEndTimer = setTimeout(() => cpu && (cpuResult = cpuSince(cpu)), (WARMUP_SECONDS + SECONDS) * 1000);
  try {
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        for (;;) {
          const t = nowMs();
          if (t >= windowEnd) return;
          await operation(w);
          const done = nowMs();
          if (done >= windowStart && done < windowEnd) latencies.push(done - t);
        }
      }),
    );
  } finally {
    clearTimeout(cpuTimer);
    clearTimeout(cpuEndTimer);
  }
  // The timers may be late under load; fall back to a sample taken now.
  const usage = cpuResult ?? (cpu ? cpuSince(cpu) : { nodeCpuPercent: NaN, machineBusyPercent: undefined });
  return { operations: latencies.length, seconds: SECONDS, latencies, ...usage };
}

interface CountingStore extends EventStore {
  stats?(): { appends: number; commits: number; events: number };
}

interface RawCeilings {
  one: number;
  batched: number;
  forGroup(eventsPerSync: number): number;
}

async function runScenario(
  store: CountingStore,
  label: string,
  workers: number,
  eventsPerAppend: number,
  streamOf: (worker: number, appendNo: number) => string,
  events: EventSource,
  raw: RawCeilings,
  rawBatch: 'one' | 'group' | 'batched',
): Promise<StoreScenario> {
  const revisions = new Map<string, number>();
  const appendsByWorker = new Array<number>(workers).fill(0);
  const before = store.stats?.();
  const w = await timedWindow(workers, async (worker) => {
    const stream = streamOf(worker, appendsByWorker[worker]++);
    const r = await store.append(stream, revisions.get(stream) ?? NO_STREAM, events.take(eventsPerAppend));
    revisions.set(stream, r.nextExpectedRevision);
  });
  const after = store.stats?.();
  const commits = before && after ? after.commits - before.commits : 0;
  const eventsPerCommit = before && after && commits > 0 ? (after.events - before.events) / commits : undefined;
  const appendsPerCommit = before && after && commits > 0 ? (after.appends - before.appends) / commits : undefined;
  const m = summarize(label, w.operations, w.seconds, w.latencies);
  const rawEventsPerSync = rawBatch === 'one' ? 1 : rawBatch === 'batched' ? BATCH_EVENTS : Math.max(1, Math.round(eventsPerCommit ?? 1));
  const rawEventsPerSecond = rawBatch === 'one' ? raw.one : rawBatch === 'batched' ? raw.batched : raw.forGroup(rawEventsPerSync);
  return {
    ...m,
    events: w.operations * eventsPerAppend,
    eventsPerSecond: m.perSecond * eventsPerAppend,
    eventsPerAppend,
    eventsPerCommit,
    appendsPerCommit,
    rawEventsPerSecond,
    rawEventsPerSync,
    nodeCpuPercent: w.nodeCpuPercent,
    machineBusyPercent: w.machineBusyPercent,
  };
}

async function adapterScenarios(
  adapter: string,
  detail: string,
  durability: string,
  store: CountingStore,
  tag: string,
  events: EventSource,
  raw: RawCeilings,
  log: (line: string) => void,
): Promise<AdapterResult> {
  log(`store: ${adapter} — (a) one at a time…`);
  const a = await runScenario(store, '(a) one at a time, 1 event/append', 1, 1, (_, n) => `account-sb${tag}_a_${n % ROTATING_STREAMS}`, events, raw, 'one');
  log(`store: ${adapter} — (b) ${IN_FLIGHT} in flight…`);
  const b = await runScenario(
    store,
    `(b) ${IN_FLIGHT} in flight, 1 event/append, ${IN_FLIGHT} streams`,
    IN_FLIGHT,
    1,
    (w) => `account-sb${tag}_b_${w}`,
    events,
    raw,
    'group',
  );
  log(`store: ${adapter} — (c) ${BATCH_EVENTS} events per append…`);
  const c = await runScenario(
    store,
    `(c) one at a time, ${BATCH_EVENTS} events/append`,
    1,
    BATCH_EVENTS,
    (_, n) => `account-sb${tag}_c_${n % ROTATING_STREAMS}`,
    events,
    raw,
    'batched',
  );
  return { adapter, detail, durability, a, b, c };
}

/** Bare single-row autocommit INSERTs, same row shape as ledger_events, IN_FLIGHT callers. */
async function bareInsert(
  url: string,
  table: string,
  connections: number,
  prepared: boolean,
  events: EventSource,
  log: (line: string) => void,
): Promise<BareInsertVariant> {
  const label = `bare INSERT, ${IN_FLIGHT} callers on a pg.Pool of ${connections}${prepared ? ', prepared' : ''}`;
  log(`store: postgres — ${label}…`);
  const config: PoolConfig = { connectionString: url, max: connections, options: '-c synchronous_commit=on', application_name: 'credit-ledger-bench-bare' };
  const pool = new Pool(config);
  pool.on('error', () => undefined);
  try {
    // Open every connection before the clock starts.
    const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
    const sync = await clients[0].query<{ synchronous_commit: string }>('SHOW synchronous_commit');
    if (sync.rows[0].synchronous_commit !== 'on') throw new Error('bare INSERT baseline: synchronous_commit is not on');
    clients.forEach((c) => c.release());
    const text = `INSERT INTO ${table} (stream_id, revision, event_id, type, data, metadata) VALUES ($1, $2, $3, $4, $5::json, $6::json)`;
    const revisions = new Array<number>(IN_FLIGHT).fill(-1);
    const streamTag = `${connections}${prepared ? 'p' : 't'}`;
    const w = await timedWindow(IN_FLIGHT, async (worker) => {
      const [e] = events.take(1);
      const revision = ++revisions[worker];
      const values = [`bare_${streamTag}_${worker}`, revision, e.eventId, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)];
      await pool.query(prepared ? { name: `bare_insert_${table}`, text, values } : { text, values });
    });
    return {
      ...summarize(label, w.operations, w.seconds, w.latencies),
      connections,
      prepared,
      nodeCpuPercent: w.nodeCpuPercent,
      machineBusyPercent: w.machineBusyPercent,
    };
  } finally {
    await pool.end();
  }
}

/** One commit's worth of rows for a batched baseline, with the streams and revisions they go to. */
interface BareBatch {
  readonly events: EventToAppend[];
  readonly streams: string[];
  readonly revisions: number[];
}

/**
 * The same rows, grouped as the adapter groups them, with none of its work: `connections` loops,
 * each sending `rowsPerCommit` rows per autocommit statement (`send`, synchronous_commit=on) into
 * a table of our row shape with a bigserial position and the unique (stream_id, revision). Each
 * loop writes streams of its own, one revision further each time. No revision check, no head lock,
 * no promise per append: what PostgreSQL itself can take with the adapter's batching and writer
 * count on this machine. Counted in rows (= appends of one event), to compare with appends/s.
 */
async function bareBatched(
  url: string,
  connections: number,
  rowsPerCommit: number,
  form: { readonly label: string; readonly streamPrefix: string; readonly prepared: boolean },
  events: EventSource,
  log: (line: string) => void,
  send: (client: Client, batch: BareBatch) => Promise<unknown>,
): Promise<BareInsertVariant> {
  log(`store: postgres — ${form.label}…`);
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const c = new Client({ connectionString: url, application_name: 'credit-ledger-bench-bare-batched' });
      await c.connect();
      await c.query('SET synchronous_commit = on');
      return c;
    }),
  );
  try {
    const revisions = new Array<number>(connections * rowsPerCommit).fill(-1);
    const w = await timedWindow(connections, async (worker) => {
      const batch: BareBatch = { events: events.take(rowsPerCommit), streams: [], revisions: [] };
      for (let k = 0; k < rowsPerCommit; k++) {
        const slot = worker * rowsPerCommit + k;
        batch.streams.push(`${form.streamPrefix}_${connections}_${rowsPerCommit}_${slot}`);
        batch.revisions.push(++revisions[slot]);
      }
      await send(clients[worker], batch);
    });
    const m = summarize(form.label, w.operations * rowsPerCommit, w.seconds, w.latencies);
    return { ...m, connections, prepared: form.prepared, rowsPerCommit, nodeCpuPercent: w.nodeCpuPercent, machineBusyPercent: w.machineBusyPercent };
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

/** The batched baseline as a prepared multi-row `INSERT … SELECT FROM unnest(…)`, the payloads as `json[]` or as one JSON array each (the adapter's way). */
function bareBatchedInsert(
  url: string,
  table: string,
  connections: number,
  rowsPerCommit: number,
  payloads: 'json[] parameters' | 'one JSON array parameter',
  events: EventSource,
  log: (line: string) => void,
): Promise<BareInsertVariant> {
  const asArrays = payloads === 'json[] parameters';
  const text = asArrays
    ? `INSERT INTO ${table} (stream_id, revision, event_id, type, data, metadata)
         SELECT s, r, i, t, d, m FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::json[], $6::json[]) AS x(s, r, i, t, d, m)`
    : `INSERT INTO ${table} (stream_id, revision, event_id, type, data, metadata)
         SELECT x.s, x.r, x.i, x.t, d.value, m.value
           FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY AS x(s, r, i, t, o)
           JOIN json_array_elements($5::json) WITH ORDINALITY AS d(value, o) ON d.o = x.o
           JOIN json_array_elements($6::json) WITH ORDINALITY AS m(value, o) ON m.o = x.o`;
  const form = {
    label: `bare batched INSERT, ${rowsPerCommit} rows per commit, ${connections} connections, prepared, ${payloads}`,
    streamPrefix: `bareb_${asArrays ? 'a' : 'j'}`,
    prepared: true,
  };
  return bareBatched(url, connections, rowsPerCommit, form, events, log, (client, batch) => {
    const data = batch.events.map((e) => JSON.stringify(e.data));
    const metadata = batch.events.map((e) => JSON.stringify(e.metadata));
    return client.query({
      name: `bare_batched_${asArrays ? 'arrays' : 'json'}_${table}`,
      text,
      values: [
        batch.streams,
        batch.revisions,
        batch.events.map((e) => e.eventId),
        batch.events.map((e) => e.type),
        asArrays ? data : `[${data.join(',')}]`,
        asArrays ? metadata : `[${metadata.join(',')}]`,
      ],
    });
  });
}

/** A field of COPY's text format: backslash, tab, newline and carriage return escaped (JSON text has no raw control characters but may have backslashes). */
function copyField(text: string): string {
  return text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/**
 * The batched baseline sent with `COPY … FROM STDIN` (text format), one COPY per commit: the other
 * bulk form PostgreSQL offers. No parameters to bind or arrays to unnest; the rows go as one stream
 * of text lines.
 */
function bareBatchedCopy(
  url: string,
  table: string,
  connections: number,
  rowsPerCommit: number,
  events: EventSource,
  log: (line: string) => void,
): Promise<BareInsertVariant> {
  const sql = `COPY ${table} (stream_id, revision, event_id, type, data, metadata) FROM STDIN`;
  const form = {
    label: `bare batched COPY FROM STDIN, ${rowsPerCommit} rows per commit, ${connections} connections, text format`,
    streamPrefix: 'barec',
    prepared: false,
  };
  return bareBatched(url, connections, rowsPerCommit, form, events, log, async (client, batch) => {
    let lines = '';
    batch.events.forEach((e, k) => {
      const fields = [batch.streams[k], String(batch.revisions[k]), e.eventId, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)];
      lines += `${fields.map(copyField).join('\t')}\n`;
    });
    const stream = client.query(copyFrom(sql));
    stream.end(lines);
    await finished(stream);
  });
}

async function serverFacts(url: string): Promise<{ server: string; settings: Record<string, string> }> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const version = (await client.query<{ v: string }>('SELECT version() AS v')).rows[0].v;
    const names = ['fsync', 'synchronous_commit', 'wal_sync_method', 'commit_delay', 'full_page_writes', 'shared_buffers', 'max_connections'];
    const settings: Record<string, string> = {};
    for (const n of names) settings[n] = (await client.query<Record<string, string>>(`SHOW ${n}`)).rows[0][n];
    return { server: version.split(' on ')[0], settings };
  } finally {
    await client.end();
  }
}

async function postgresSection(
  events: EventSource,
  raw: RawCeilings,
  tag: string,
  log: (line: string) => void,
): Promise<{ adapter: AdapterResult; facts: { server: string; settings: Record<string, string> }; bare: BareInsertVariant[]; batchedBare: BareInsertVariant }> {
  let cluster: ThrowawayPostgresCluster | undefined;
  let baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    cluster = await ThrowawayPostgresCluster.start((line) => log(`store: postgres — throwaway cluster: ${line}`));
    baseUrl = cluster.url;
  }
  const where = cluster ? `throwaway cluster ${cluster.dir}` : 'DATABASE_URL (fresh database)';
  try {
    const url = await createTestDatabase(baseUrl, 'bench_store');
    try {
      const facts = await serverFacts(url);
      const store = await PostgresEventStore.connect(url, { applicationName: 'credit-ledger-bench' });
      let adapter: AdapterResult;
      try {
        const d = await store.durability();
        adapter = await adapterScenarios(
          'postgres',
          `${facts.server}, ${where}`,
          `fsync=${d.fsync}, synchronous_commit=${d.synchronousCommit}`,
          store,
          tag,
          events,
          raw,
          log,
        );
      } finally {
        await store.close();
      }
      const setup = new Client({ connectionString: url });
      await setup.connect();
      const table = 'bare_insert_events';
      try {
        await setup.query(
          `CREATE TABLE ${table} (position bigserial PRIMARY KEY, stream_id text, revision bigint, event_id text, type text, data json, metadata json)`,
        );
        await setup.query(`CREATE UNIQUE INDEX ${table}_stream_revision ON ${table} (stream_id, revision)`);
      } finally {
        await setup.end();
      }
      const variants: { connections: number; prepared: boolean }[] = (process.env.BENCH_STORE_BARE_POOLS ?? '64t,64,32,16')
        .split(',')
        .map((v) => ({ connections: parseInt(v, 10), prepared: !v.endsWith('t') }));
      const bare: BareInsertVariant[] = [];
      for (const v of variants) bare.push(await bareInsert(url, table, v.connections, v.prepared, events, log));
      const rowsPerCommit = Math.max(1, Math.round(adapter.b.eventsPerCommit ?? 1));
      const batched = [
        await bareBatchedInsert(url, table, PG_WRITER_CONNECTIONS, rowsPerCommit, 'json[] parameters', events, log),
        await bareBatchedInsert(url, table, PG_WRITER_CONNECTIONS, rowsPerCommit, 'one JSON array parameter', events, log),
        await bareBatchedCopy(url, table, PG_WRITER_CONNECTIONS, rowsPerCommit, events, log),
      ];
      const batchedBare = batched.reduce((best, v) => (v.perSecond > best.perSecond ? v : best));
      bare.push(...batched.filter((v) => v !== batchedBare)); // shown, not the reference
      return { adapter, facts, bare, batchedBare };
    } finally {
      await dropTestDatabase(url, baseUrl).catch((e) => log(`store: could not drop the benchmark database: ${(e as Error).message}`));
    }
  } finally {
    cluster?.destroy();
  }
}

interface EsdbModule {
  EventStoreDbEventStore?: { connect?: (connectionString: string) => Promise<EventStore> };
}

async function eventStoreDbSection(events: EventSource, raw: RawCeilings, tag: string, log: (line: string) => void): Promise<AdapterResult | string> {
  const cs = process.env.EVENTSTORE_CONNECTION_STRING;
  if (!cs) return 'eventstoredb: skipped (EVENTSTORE_CONNECTION_STRING not set)';
  // Loaded here, so the rest of the section runs whatever state that adapter is in.
  let mod: EsdbModule;
  try {
    mod = (await import('@credit-ledger/event-store/eventstoredb')) as unknown as EsdbModule;
  } catch (e) {
    return `eventstoredb: skipped (the adapter did not load: ${(e as Error).message})`;
  }
  const connect = mod.EventStoreDbEventStore?.connect;
  if (typeof connect !== 'function') return 'eventstoredb: skipped (EventStoreDbEventStore.connect is not available yet)';
  const store = await connect.call(mod.EventStoreDbEventStore, cs);
  try {
    return await adapterScenarios(
      'eventstoredb',
      `EVENTSTORE_CONNECTION_STRING=${cs.replace(/\/\/[^@/]*@/, '//***@')}`,
      'server-side (ESDB acknowledges after its own flush)',
      store,
      tag,
      events,
      raw,
      log,
    );
  } finally {
    await store.close();
  }
}

export async function storeBenchmark(log: (line: string) => void): Promise<StoreBenchResult> {
  log('');
  log(
    `running the event-store section: each adapter on its own, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s per scenario (BENCH_STORE_SECONDS), raw fsync ceilings and a bare INSERT baseline in the same run…`,
  );
  const templates = creditConsumedTemplates(TEMPLATE_EVENTS);
  const events = new EventSource(templates);
  const serialized = templates.map((t) => JSON.stringify(t));
  const eventBytes = {
    data: Math.round(templates.reduce((s, t) => s + JSON.stringify(t.data).length, 0) / templates.length),
    metadata: Math.round(templates.reduce((s, t) => s + JSON.stringify(t.metadata).length, 0) / templates.length),
    serialized: Math.round(serialized.reduce((s, x) => s + x.length, 0) / serialized.length),
  };
  const tag = randomBytes(3).toString('hex');

  // The raw durability ceiling of the command-path section (bench/raw-fsync-writer.ts), same events, same disk (tmpdir).
  const rawDir = mkdtempSync(join(tmpdir(), 'ledger-bench-store-raw-'));
  const many = Array.from({ length: RAW_BATCHED_EVENTS }, (_, i) => serialized[i % serialized.length]);
  let rawFiles = 0;
  const rawRun = (list: string[], perSync: number) => rawFsyncEventsPerSecond(join(rawDir, `raw-${rawFiles++}.log`), list, perSync);
  const groupCache = new Map<number, number>();
  const raw: RawCeilings = {
    one: 0,
    batched: 0,
    forGroup(perSync) {
      if (!groupCache.has(perSync)) groupCache.set(perSync, rawRun(many, perSync));
      return groupCache.get(perSync) as number;
    },
  };
  try {
    raw.one = rawRun(many.slice(0, RAW_ONE_EVENTS), 1);
    raw.batched = rawRun(many, BATCH_EVENTS);
    log(`store: raw fsync ceiling on ${tmpdir()}: ${fmt(raw.one)} events/s at 1 event/fsync, ${fmt(raw.batched)} events/s at ${BATCH_EVENTS} events/fsync`);

    const adapters: AdapterResult[] = [];
    const skipped: string[] = [];

    const sqliteDir = mkdtempSync(join(tmpdir(), 'ledger-bench-store-sqlite-'));
    try {
      const store = SqliteEventStore.open(sqliteDir);
      try {
        const d = await store.durability();
        adapters.push(
          await adapterScenarios(
            'sqlite',
            `SqliteEventStore, ${sqliteDir}`,
            `journal_mode=${d.journalMode}, synchronous=${d.synchronous}`,
            store,
            tag,
            events,
            raw,
            log,
          ),
        );
      } finally {
        await store.close();
      }
    } finally {
      rmSync(sqliteDir, { recursive: true, force: true });
    }

    const pg = await postgresSection(events, raw, tag, log);
    adapters.push(pg.adapter);

    const esdb = await eventStoreDbSection(events, raw, tag, log);
    if (typeof esdb === 'string') skipped.push(esdb);
    else adapters.push(esdb);

    const bestBare = pg.bare.filter((v) => (v.rowsPerCommit ?? 1) === 1).reduce((best, v) => (v.perSecond > best.perSecond ? v : best));
    const adapterInFlightPerSecond = pg.adapter.b.perSecond;
    const ratio = adapterInFlightPerSecond / bestBare.perSecond;
    const ratioToBatched = adapterInFlightPerSecond / pg.batchedBare.perSecond;
    return {
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      eventBytes,
      rawFsync: { oneEventPerSync: raw.one, batchedPerSync: raw.batched },
      adapters,
      skipped,
      postgres: {
        ...pg.facts,
        bare: pg.bare,
        bestBare,
        batchedBare: pg.batchedBare,
        adapterInFlightPerSecond,
        ratio,
        ratioToBatched,
        targetThroughputMet: adapterInFlightPerSecond >= TARGET_PG_IN_FLIGHT,
        targetRatioMet: ratio >= TARGET_PG_VS_BARE,
      },
    };
  } finally {
    rmSync(rawDir, { recursive: true, force: true });
  }
}

const pct = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '' : `${fmt(n)}%`);

export function printStoreBench(r: StoreBenchResult, print: (line: string) => void = (l) => console.log(l)): void {
  print('');
  print(
    `## Event store adapters — ${r.warmupSeconds} s warm-up + ${r.seconds} s per scenario; CreditConsumed events as the ledger encodes them (data ${r.eventBytes.data} B + metadata ${r.eventBytes.metadata} B of JSON, ${r.eventBytes.serialized} B serialized)`,
  );
  for (const a of r.adapters) {
    print('');
    print(`### ${a.adapter} — ${a.detail}; ${a.durability}`);
    print('');
    print(
      '| scenario | appends | appends/s | events/s | p50 ms/append | p99 ms/append | events/commit | raw fsync ceiling, events/s (events/fsync) | store/raw (events) | node CPU | machine busy |',
    );
    print('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of [a.a, a.b, a.c]) {
      print(
        `| ${s.label} | ${fmt(s.operations)} | ${fmt(s.perSecond)} | ${fmt(s.eventsPerSecond)} | ${fmt(s.latencyMsP50, 2)} | ${fmt(s.latencyMsP99, 2)} | ${s.eventsPerCommit === undefined ? '' : fmt(s.eventsPerCommit, 1)} | ${fmt(s.rawEventsPerSecond)} (${s.rawEventsPerSync}) | ${pct((100 * s.eventsPerSecond) / s.rawEventsPerSecond)} | ${pct(s.nodeCpuPercent)} | ${pct(s.machineBusyPercent)} |`,
      );
    }
  }
  for (const s of r.skipped) {
    print('');
    print(s);
  }
  const p = r.postgres;
  print('');
  print(
    `### PostgreSQL: adapter vs bare INSERT — ${p.server}; ${Object.entries(p.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );
  print('');
  print(
    '| bare INSERT variant (autocommit, synchronous_commit=on, same row shape + unique (stream_id, revision)) | rows | rows/s | p50 ms | p99 ms | node CPU | machine busy |',
  );
  print('|---|---:|---:|---:|---:|---:|---:|');
  for (const v of p.bare) {
    print(
      `| ${v.label}${v === p.bestBare ? ' (best single-row)' : ''} | ${fmt(v.operations)} | ${fmt(v.perSecond)} | ${fmt(v.latencyMsP50, 2)} | ${fmt(v.latencyMsP99, 2)} | ${pct(v.nodeCpuPercent)} | ${pct(v.machineBusyPercent)} |`,
    );
  }
  const b = p.batchedBare;
  print(
    `| ${b.label} (best batched; latency per statement) | ${fmt(b.operations)} | ${fmt(b.perSecond)} | ${fmt(b.latencyMsP50, 2)} | ${fmt(b.latencyMsP99, 2)} | ${pct(b.nodeCpuPercent)} | ${pct(b.machineBusyPercent)} |`,
  );
  print('');
  print(
    `postgres adapter, ${IN_FLIGHT} in flight: ${fmt(p.adapterInFlightPerSecond)} appends/s; bare INSERT (best single-row: ${p.bestBare.label}): ${fmt(p.bestBare.perSecond)} INSERTs/s; adapter/bare = ${fmt(100 * p.ratio, 1)}%`,
  );
  print(
    `postgres adapter vs the same rows with its batching and no checks (${b.label}): ${fmt(b.perSecond)} rows/s; adapter/batched bare = ${fmt(100 * p.ratioToBatched, 1)}%`,
  );
  print(`target: postgres adapter >= ${fmt(TARGET_PG_IN_FLIGHT)} appends/s at ${IN_FLIGHT} in flight -> ${p.targetThroughputMet ? 'MET' : 'MISSED'}`);
  print(
    `target: postgres adapter >= ${fmt(100 * TARGET_PG_VS_BARE)}% of the bare INSERT baseline -> ${p.targetRatioMet ? 'MET' : 'MISSED'} (single-row INSERTs); ${p.ratioToBatched >= TARGET_PG_VS_BARE ? 'MET' : 'MISSED'} against the best batched bare form (${p.batchedBare.label})`,
  );
  print('');
  print(`store summary (JSON): ${JSON.stringify(r, (_, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 100) / 100 : v))}`);
}
