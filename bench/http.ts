import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LoadFigures, LoadScenario } from './http-load';
import { BARE_SERVER_ENTRY, CLI_ENTRY, Instance, startInstance, stopInstance } from './processes';
import { cpuBudgetUsPerRequest, fmt, percentile } from './stats';

/**
 * The HTTP API under load: autocannon in a process of its own against the API process, next to a
 * bare Node `http` server that parses the same JSON bodies (the baseline, measured in the same run);
 * then the heavy-read interference scenario on a seeded store.
 */
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 10);
const CONNECTIONS = 64;
/** Reads of the first page timed for its floor. */
const PAGE_READ_TIMES = 5_000;
const ACCOUNTS = 1_000;
const HEAVY_EVENTS = Number(process.env.BENCH_HTTP_HEAVY_EVENTS ?? 1_000_000);
const HEAVY_SECONDS = Number(process.env.BENCH_HTTP_HEAVY_SECONDS ?? 20);
/**
 * Seconds of untimed load before the first timed POST (each server) and before each other kind
 * of request (at most 3 s): a fresh process answers its first seconds of load far slower (its
 * code still being compiled while both cores are busy), and the goals are about the steady state.
 * The API's warm-up figures are printed too; 0 measures from the start.
 */
const WARM_UP_SECONDS = Number(process.env.BENCH_HTTP_WARM_UP_SECONDS ?? 10);
const WARM_UP_SECONDS_OTHER_KINDS = Math.min(3, WARM_UP_SECONDS);
/** `heavy`: only the heavy-read scenario (no request scenarios, no bare server). */
const ONLY = process.env.BENCH_HTTP_ONLY;
/**
 * When set, the seeded heavy store is kept here (one per size) and copied for every run: seeding
 * takes minutes, and two builds compared in one sitting then read the very same data.
 */
const HEAVY_SEED_DIR = process.env.BENCH_HTTP_HEAVY_SEED_DIR;
const ADMIN_KEY = 'bench-superuser-key-0123456789abcdef';
const LOAD_ENTRY = join(__dirname, 'http-load.js');
/** When set, every API process of this section writes a V8 CPU profile (`--cpu-prof`) into this directory. */
const CPU_PROFILE_DIR = process.env.BENCH_HTTP_CPU_PROFILE_DIR;
const PROFILE_ARGS = CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`] : [];
const PLAN = { creditTypes: { email: { allocation: 1_000_000_000 } }, cycle: { period: 'month', anchorDay: 1, timezone: 'UTC' } };

export interface HttpRow {
  readonly label: string;
  readonly figures: LoadFigures;
  readonly baseline?: { readonly label: string; readonly figures: LoadFigures };
}

export interface InterferenceFigures {
  readonly events: number;
  readonly consumption: LoadFigures;
  readonly healthMsP99: number;
  readonly healthMsMax: number;
  readonly healthProbes: number;
  readonly heavyServed: Record<string, number>;
  readonly heavyRefused503: number;
}

export interface HttpBenchResult {
  readonly rows: HttpRow[];
  readonly pageRead?: PageReadFloor;
  readonly interference?: InterferenceFigures;
  readonly loadAverage: string;
}

/** Runs one autocannon scenario in a process of its own and returns its figures. */
export async function load(scenario: LoadScenario): Promise<LoadFigures> {
  const { stdout } = await promisify(execFile)(process.execPath, [LOAD_ENTRY, JSON.stringify(scenario)], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as LoadFigures;
}

async function openAccounts(base: string, count: number): Promise<void> {
  let next = 0;
  const open = async () => {
    for (let index = next++; index < count; index = next++) {
      const res = await fetch(`${base}/v1/accounts`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ accountId: `bench_${index}`, name: `Bench ${index}`, plan: PLAN }),
      });
      if (res.status !== 201 && res.status !== 200) throw new Error(`open bench_${index}: ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, open));
}

function ledgerEnv(dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LEDGER_STORE: 'sqlite',
    LEDGER_DATA_DIR: dataDir,
    LEDGER_ADMIN_KEY: ADMIN_KEY,
    LOG_LEVEL: process.env.BENCH_HTTP_LOG_LEVEL ?? 'info',
  };
}

/** A bare server answering the bytes the API answers at `path` (fetched once). */
async function bareAnswering(api: Instance, path: string): Promise<{ instance: Instance; file: string; bytes: number }> {
  const res = await fetch(api.base + path, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  const file = join(tmpdir(), `ledger-bench-page-${process.pid}.json`);
  writeFileSync(file, body);
  return { instance: await startInstance({ ...process.env, BARE_ANSWER_FILE: file }, BARE_SERVER_ENTRY, '/'), file, bytes: body.length };
}

async function requestScenarios(api: Instance, bare: Instance, log: (line: string) => void): Promise<HttpRow[]> {
  const common = { connections: CONNECTIONS, seconds: SECONDS };
  const consumption = { ...common, method: 'POST' as const, path: '/v1/accounts/{account}/consumptions', apiKey: ADMIN_KEY };
  const rows: HttpRow[] = [];
  if (process.env.BENCH_HTTP_REQUESTS === 'off') return rows;
  const warmUp = async (label: string, scenario: LoadScenario, seconds: number): Promise<LoadFigures | undefined> => {
    if (seconds <= 0) return undefined;
    log(`http: warm-up (untimed), ${label}, ${seconds} s…`);
    return load({ ...scenario, seconds });
  };
  /** The scenario's figures after an untimed run of the same requests for `warmUpSeconds`. */
  const measure = async (label: string, scenario: LoadScenario, warmUpSeconds = WARM_UP_SECONDS_OTHER_KINDS) => {
    await warmUp(label, scenario, warmUpSeconds);
    log(`http: ${label}, ${CONNECTIONS} connections, ${SECONDS} s…`);
    return load(scenario);
  };
  const bareScenario = { ...consumption, url: bare.base, consumptionAccounts: ACCOUNTS };
  const spreadScenario = { ...consumption, url: api.base, consumptionAccounts: ACCOUNTS };
  const barePost = await measure('bare server, POST of the same JSON bodies', bareScenario, WARM_UP_SECONDS);
  // Kept: the API's first seconds after its start, for the record.
  const cold = await warmUp(`POST /consumptions on ${fmt(ACCOUNTS)} accounts`, spreadScenario, WARM_UP_SECONDS);
  if (cold) {
    rows.push({
      label: `POST /consumptions, ${fmt(ACCOUNTS)} accounts, the first ${WARM_UP_SECONDS} s after the start (warm-up, not a goal's figure)`,
      figures: cold,
      baseline: { label: 'bare POST', figures: barePost },
    });
  }
  const spread = await measure(`POST /consumptions on ${fmt(ACCOUNTS)} accounts`, spreadScenario, 0);
  rows.push({ label: `POST /consumptions, unique ids, ${fmt(ACCOUNTS)} accounts`, figures: spread, baseline: { label: 'bare POST', figures: barePost } });
  const hot = await measure('POST /consumptions on one account', { ...consumption, url: api.base, consumptionAccounts: 1 });
  rows.push({ label: 'POST /consumptions, one account', figures: hot, baseline: { label: `${fmt(ACCOUNTS)} accounts`, figures: spread } });
  const bareGet = await measure('bare server, GET', { ...common, url: bare.base, method: 'GET', path: '/health' });
  const history = await measure('GET /history?limit=50', {
    ...common,
    url: api.base,
    method: 'GET',
    path: '/v1/accounts/bench_0/history?limit=50',
    apiKey: ADMIN_KEY,
  });
  rows.push({ label: 'GET /history?limit=50, first page', figures: history, baseline: { label: 'bare GET', figures: bareGet } });
  // Not a goal's baseline: the bare server answering the very bytes of that page, which separates
  // what the page's size costs (both servers and the load generator share the cores) from its work.
  const samePage = await bareAnswering(api, '/v1/accounts/bench_0/history?limit=50');
  try {
    const bareSamePage = await measure('bare server, GET of the same page bytes', { ...common, url: samePage.instance.base, method: 'GET', path: '/' });
    rows.push({
      label: `GET /history?limit=50 against the bare server answering its ${fmt(samePage.bytes)} bytes (not a goal's baseline)`,
      figures: history,
      baseline: { label: 'bare GET, same bytes', figures: bareSamePage },
    });
  } finally {
    await stopInstance(samePage.instance);
    rmSync(samePage.file, { force: true });
  }
  const health = await measure('GET /health', { ...common, url: api.base, method: 'GET', path: '/health' });
  rows.push({ label: 'GET /health', figures: health, baseline: { label: 'bare GET', figures: bareGet } });
  return rows;
}

async function cli(dataDir: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], { env: ledgerEnv(dataDir), stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`credit-ledger ${args.join(' ')} exited with ${code}`))));
  });
}

/** Loops of one kind of heavy read until `until`; a 503 is counted and retried after its Retry-After. */
async function heavyLoop(base: string, path: () => string, until: number, served: { count: number }, refused: { count: number }): Promise<void> {
  while (Date.now() < until) {
    const res = await fetch(base + path(), { headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
    await res.arrayBuffer();
    if (res.status === 503) {
      refused.count++;
      await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get('retry-after') ?? 1) * 1000));
    } else if (res.ok) served.count++;
    else throw new Error(`heavy read ${path()}: ${res.status}`);
  }
}

async function probeHealth(base: string, until: number): Promise<number[]> {
  const latenciesMs: number[] = [];
  while (Date.now() < until) {
    const started = performance.now();
    await fetch(`${base}/health`).then((res) => res.arrayBuffer());
    latenciesMs.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return latenciesMs;
}

/** Seeds the heavy store into `dataDir`, or copies the one kept in BENCH_HTTP_HEAVY_SEED_DIR (seeding it there first). */
async function seededHeavyStore(dataDir: string, log: (line: string) => void): Promise<void> {
  const kept = HEAVY_SEED_DIR === undefined ? undefined : join(HEAVY_SEED_DIR, String(HEAVY_EVENTS));
  if (kept !== undefined && existsSync(join(kept, 'seeded'))) {
    log(`http: copying the ${fmt(HEAVY_EVENTS)}-event store kept in ${kept}…`);
    cpSync(join(kept, 'data'), dataDir, { recursive: true });
    return;
  }
  log(`http: seeding ${fmt(HEAVY_EVENTS)} events on 100 accounts and building the read models…`);
  await cli(dataDir, ['seed', '--events', String(HEAVY_EVENTS), '--accounts', '100']);
  await cli(dataDir, ['replay']);
  if (kept === undefined) return;
  mkdirSync(kept, { recursive: true });
  cpSync(dataDir, join(kept, 'data'), { recursive: true });
  writeFileSync(join(kept, 'seeded'), ''); // the marker: the copy is whole
}

/** Webhook dispatcher lag (events) under which the seeded log counts as derived. */
const DISPATCHER_CAUGHT_UP_LAG_EVENTS = 1_000;
const DISPATCHER_CATCH_UP_TIMEOUT_MS = 600_000;

/**
 * Waits for the webhook dispatcher to derive the seeded log (a fresh store's dispatcher starts at
 * position 0 and folds every account): the scenario measures heavy reads in a steady state, not
 * against a one-off catch-up over the whole log.
 */
async function dispatcherCaughtUp(base: string, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < DISPATCHER_CATCH_UP_TIMEOUT_MS) {
    const metrics = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } }).then((res) => res.text());
    const lag = /^ledger_webhook_dispatcher_lag_events (\d+)$/m.exec(metrics);
    if (!lag || Number(lag[1]) <= DISPATCHER_CAUGHT_UP_LAG_EVENTS) {
      log(`http: webhook dispatcher caught up with the seeded log in ${fmt((Date.now() - started) / 1000, 1)} s`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the webhook dispatcher did not catch up with the seeded log');
}

async function interference(log: (line: string) => void): Promise<InterferenceFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-bench-heavy-'));
  try {
    await seededHeavyStore(dataDir, log);
    const api = await startInstance(ledgerEnv(dataDir), undefined, undefined, PROFILE_ARGS);
    try {
      await dispatcherCaughtUp(api.base, log);
      await openAccounts(api.base, ACCOUNTS);
      const until = Date.now() + HEAVY_SECONDS * 1000;
      const refused = { count: 0 };
      const served: Record<string, { count: number }> = { asOf: { count: 0 }, csv: { count: 0 }, series: { count: 0 } };
      const account = () => `seed_${String(Math.floor(Math.random() * 100)).padStart(5, '0')}`;
      const instant = () => new Date(Date.parse('2025-12-01T00:00:00Z') + Math.random() * 360 * 86_400_000).toISOString();
      const heavy = [
        ...Array.from({ length: 10 }, () => heavyLoop(api.base, () => `/v1/accounts/${account()}/balances?asOf=${instant()}`, until, served.asOf, refused)),
        ...Array.from({ length: 5 }, () =>
          heavyLoop(api.base, () => `/v1/accounts/${account()}/history.csv?from=2025-12-01T00:00:00Z`, until, served.csv, refused),
        ),
        ...Array.from({ length: 10 }, () =>
          heavyLoop(
            api.base,
            () => `/v1/accounts/${account()}/usage/series?from=2025-12-01T00:00:00Z&to=2026-12-01T00:00:00Z&bucket=day`,
            until,
            served.series,
            refused,
          ),
        ),
      ];
      log(`http: heavy reads (10 asOf, 5 CSV, 10 series) with consumptions at 16 connections and /health every 100 ms, ${HEAVY_SECONDS} s…`);
      const [consumption, health] = await Promise.all([
        load({
          url: api.base,
          method: 'POST',
          path: '/v1/accounts/{account}/consumptions',
          apiKey: ADMIN_KEY,
          consumptionAccounts: ACCOUNTS,
          connections: 16,
          seconds: HEAVY_SECONDS,
        }),
        probeHealth(api.base, until),
        ...heavy,
      ]);
      const sorted = [...health].sort((left, right) => left - right);
      return {
        events: HEAVY_EVENTS,
        consumption,
        healthMsP99: percentile(sorted, 99),
        healthMsMax: sorted[sorted.length - 1] ?? NaN,
        healthProbes: sorted.length,
        heavyServed: Object.fromEntries(Object.entries(served).map(([kind, counter]) => [kind, counter.count])),
        heavyRefused503: refused.count,
      };
    } finally {
      await stopInstance(api, CPU_PROFILE_DIR !== undefined);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function httpBenchmark(log: (line: string) => void): Promise<HttpBenchResult> {
  const { rows, pageRead } = ONLY === 'heavy' ? { rows: [], pageRead: undefined } : await requestRows(log);
  const heavy = HEAVY_EVENTS > 0 ? await interference(log) : undefined;
  if (CPU_PROFILE_DIR) log(`http: CPU profiles of the API processes in ${CPU_PROFILE_DIR}`);
  return {
    rows,
    pageRead,
    interference: heavy,
    loadAverage: loadavg()
      .map((value) => value.toFixed(1))
      .join(' '),
  };
}

async function requestRows(log: (line: string) => void): Promise<{ rows: HttpRow[]; pageRead: PageReadFloor | undefined }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-bench-http-'));
  const bare = await startInstance({ ...process.env }, BARE_SERVER_ENTRY, '/');
  let rows: HttpRow[];
  try {
    const api = await startInstance(ledgerEnv(dataDir), undefined, undefined, PROFILE_ARGS);
    try {
      await openAccounts(api.base, ACCOUNTS);
      rows = await requestScenarios(api, bare, log);
    } finally {
      // Gracefully: the page's floor below reads the read-model file the API closes on its way out.
      await stopInstance(api, true);
    }
    const bareGet = rows.find((row) => row.label.startsWith('GET /history') && row.baseline?.label === 'bare GET')?.baseline?.figures;
    return { rows, pageRead: bareGet === undefined ? undefined : pageReadFloor(join(dataDir, 'readmodels.sqlite'), bareGet) };
  } finally {
    await stopInstance(bare);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** What reading the first history page costs with nothing around it, against what 40% of the bare GET leaves a request. */
interface PageReadFloor {
  readonly rows: number;
  readonly readUsPerPage: number;
  readonly stringifyUsPerPage: number;
  /** The machine's CPU time per request at 40% of the bare GET's rate (cores × 1 s / (0.4 × req/s)), load generator included. */
  readonly budgetUsAt40Percent: number;
}

/**
 * The page's floor: the same rows the history's first page reads (the newest 51 of bench_0, as
 * arrays: the table's 23 columns, as many values as the page's 22 item columns and its dataKey,
 * without the page's kind filters and dataKey join), read from the API's read-model file with
 * better-sqlite3 in this process, then written as JSON — no HTTP, no thread hop, no item objects.
 * Measured after the API stopped.
 */
function pageReadFloor(file: string, bareGet: LoadFigures): PageReadFloor {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'history_v[0-9]*'").pluck().all() as string[];
    const table = tables.sort((first, second) => Number(second.slice(9)) - Number(first.slice(9)))[0];
    const page = db.prepare(`SELECT * FROM ${table} WHERE account_id = ? ORDER BY occurred_at DESC, row_id DESC LIMIT 51`).raw(true);
    const timed = (work: () => void, times: number) => {
      for (let index = 0; index < times / 10; index++) work();
      const started = performance.now();
      for (let index = 0; index < times; index++) work();
      return ((performance.now() - started) * 1_000) / times;
    };
    const rows = page.all('bench_0');
    return {
      rows: rows.length,
      readUsPerPage: timed(() => page.all('bench_0'), PAGE_READ_TIMES),
      stringifyUsPerPage: timed(() => JSON.stringify(rows), PAGE_READ_TIMES),
      budgetUsAt40Percent: cpuBudgetUsPerRequest(0.4, bareGet.requestsPerSecond),
    };
  } finally {
    db.close();
  }
}

export function printHttpBench(result: HttpBenchResult): void {
  console.log('');
  console.log(
    `## HTTP API — autocannon in its own process, ${CONNECTIONS} connections, ${SECONDS} s per request kind after an untimed warm-up (${WARM_UP_SECONDS} s before the first POST to each server, ${WARM_UP_SECONDS_OTHER_KINDS} s before each other kind), SQLite, default logging`,
  );
  console.log('');
  console.log('| request | req/s | p50 ms | p99 ms | p99 / p50 | non-2xx | baseline (same run) | baseline req/s | ratio |');
  console.log('|---|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const row of result.rows) {
    const figures = row.figures;
    const baseline = row.baseline;
    console.log(
      `| ${row.label} | ${fmt(figures.requestsPerSecond)} | ${fmt(figures.latencyMsP50, 1)} | ${fmt(figures.latencyMsP99, 1)} | ${figures.latencyMsP50 > 0 ? `${fmt(figures.latencyMsP99 / figures.latencyMsP50, 2)}×` : ''} | ${fmt(figures.non2xx + figures.errors)} | ${baseline?.label ?? ''} | ${baseline ? fmt(baseline.figures.requestsPerSecond) : ''} | ${baseline ? `${fmt((100 * figures.requestsPerSecond) / baseline.figures.requestsPerSecond)}%` : ''} |`,
    );
  }
  const page = result.pageRead;
  if (page) {
    console.log('');
    console.log(
      `The first history page with nothing around it: ${page.rows} rows read bare with better-sqlite3 ${fmt(page.readUsPerPage, 1)} µs, written as JSON ${fmt(page.stringifyUsPerPage, 1)} µs; at 40% of the bare GET, this machine's cores leave ${fmt(page.budgetUsAt40Percent, 1)} µs of CPU per request, the load generator's and the HTTP server's included`,
    );
  }
  const heavy = result.interference;
  if (heavy) {
    console.log('');
    console.log(
      `Heavy reads on a ${fmt(heavy.events)}-event store (10 asOf balances, 5 CSV exports, 10 series loops; served ${JSON.stringify(heavy.heavyServed)}, 503 TOO_MANY_HEAVY_READS ${fmt(heavy.heavyRefused503)}):`,
    );
    console.log(
      `consumptions at 16 connections ${fmt(heavy.consumption.requestsPerSecond)}/s, p50 ${fmt(heavy.consumption.latencyMsP50, 1)} ms, p99 ${fmt(heavy.consumption.latencyMsP99, 1)} ms (non-2xx ${heavy.consumption.non2xx}); /health p99 ${fmt(heavy.healthMsP99, 1)} ms, max ${fmt(heavy.healthMsMax, 1)} ms over ${heavy.healthProbes} probes`,
    );
  }
  console.log(`load average at the end: ${result.loadAverage}`);
}
