import 'reflect-metadata';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLedgerApp } from '../apps/ledger-api/src/app';
import { AccountWarmUp } from '@credit-ledger/ledger';
import { SqliteEventStore } from '@credit-ledger/event-store';
import {
  ALL_PROJECTORS,
  ProjectionRunner,
  seedHistory,
  HistoryQueries,
  UsageQueries,
  READ_MODEL_FILE_NAME,
  SqliteReadModelStore,
} from '@credit-ledger/projections';
import { DEFAULT_WEBHOOKS_CONFIG } from '@credit-ledger/webhooks';
import { csvStringifyCeiling, replayAllTablesFloor, replayInsertCeiling } from './read-ceilings';
import { fmt, nowMs, percentile, seededRandom } from './stats';

const EVENTS = Number(process.env.BENCH_HISTORY_EVENTS ?? 10_000_000);
const ACCOUNTS = Number(process.env.BENCH_HISTORY_ACCOUNTS ?? 1_000);
/** CSV exports of the largest account measured after a first one (and as many runs of its ceiling, after a first). */
const CSV_RUNS = Number(process.env.BENCH_CSV_RUNS ?? 3);
const RUNS = Number(process.env.BENCH_QUERY_RUNS ?? 40);
const ADMIN_KEY = 'bench-superuser-key-0123456789';

interface QueryRow {
  readonly label: string;
  readonly p50: number;
  readonly p95: number;
  readonly rows: number;
}

async function time(label: string, runs: number, fn: (i: number) => Promise<number>): Promise<QueryRow> {
  const ms: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const t = nowMs();
    rows = await fn(i);
    ms.push(nowMs() - t);
  }
  ms.sort((a, b) => a - b);
  return { label, p50: percentile(ms, 50), p95: percentile(ms, 95), rows };
}

/** One CSV export of an account over HTTP: its rows (the header not counted) and how long it took to the last byte. */
async function csvExport(port: number, account: string): Promise<{ rows: number; seconds: number }> {
  const started = nowMs();
  const res = await fetch(`http://127.0.0.1:${port}/v1/accounts/${account}/history.csv`, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
  let rows = -1; // header
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const byte of value) if (byte === 10) rows++;
  }
  return { rows, seconds: (nowMs() - started) / 1000 };
}

/** The read-model section: seed, full rebuild, query latencies on the largest account, CSV export. */
export async function historyBenchmark(): Promise<string[]> {
  const out: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-history-'));
  try {
    const store = SqliteEventStore.open(dir);
    let t = nowMs();
    const seeded = await seedHistory(store, { accounts: ACCOUNTS, events: EVENTS, seed: 42, months: 12, start: '2025-12-01T00:00:00Z' });
    const seedSeconds = (nowMs() - t) / 1000;

    const readModels = SqliteReadModelStore.open(dir);
    const db = readModels.db;
    const runner = await ProjectionRunner.create(readModels);
    await runner.reset();
    t = nowMs();
    const applied = await runner.catchUp(store);
    const rebuildSeconds = (nowMs() - t) / 1000;
    await store.close();
    const readModelBytes = statSync(join(dir, READ_MODEL_FILE_NAME)).size;

    // The largest account (seeding skews events towards the first accounts) and its busiest month.
    const history = new HistoryQueries(readModels);
    const usage = new UsageQueries(readModels);
    const account = 'seed_00000';
    const table = await readModels.activeTable('history', 'history');
    const accountRows = (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE account_id = ?`).get(account) as { n: number }).n;
    const month = { from: '2026-05-01T00:00:00.000Z', to: '2026-06-01T00:00:00.000Z' };
    const users = (
      db.prepare(`SELECT DISTINCT user_id FROM ${table} WHERE account_id = ? AND user_id IS NOT NULL LIMIT 60`).all(account) as { user_id: string }[]
    ).map((r) => r.user_id);
    const features = db.prepare(`SELECT DISTINCT feature, action FROM ${table} WHERE account_id = ? AND feature IS NOT NULL`).all(account) as {
      feature: string;
      action: string;
    }[];
    const rnd = seededRandom(3);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
    const page = async (f: Record<string, unknown>) => (await history.page({ accountId: account, includeRefunds: true, ...f }, 50)).items.length;
    // Timed one after the other: queries of one measurement never overlap another's.
    const queries: [string, number, () => Promise<number>][] = [
      ['history, no filter (first page of 50)', RUNS, () => page({})],
      ['history, userId', RUNS, () => page({ userId: pick(users) })],
      ['history, feature', RUNS, () => page({ feature: pick(features).feature })],
      [
        'history, feature + action',
        RUNS,
        () => {
          const f = pick(features);
          return page({ feature: f.feature, action: f.action });
        },
      ],
      ['history, creditType', RUNS, () => page({ creditType: pick(['email', 'mobile', 'export', 'ai_research']) })],
      ['history, refunds hidden', RUNS, () => page({ includeRefunds: false })],
      ['history, one month', RUNS, () => page(month)],
      ['history, month + userId', RUNS, () => page({ ...month, userId: pick(users) })],
      ['history, month + feature + userId', RUNS, () => page({ ...month, feature: pick(features).feature, userId: pick(users) })],
      [
        'history, walk 100 pages of 50 (keyset cursor, total)',
        Math.min(RUNS, 10),
        async () => {
          let cursor;
          let n = 0;
          for (let i = 0; i < 100; i++) {
            const p = await history.page({ accountId: account, includeRefunds: true }, 50, cursor);
            n = p.items.length;
            const last = p.items[p.items.length - 1];
            if (!last) break;
            cursor = { occurredAt: last.occurredAt, rowId: last.rowId };
          }
          return n;
        },
      ],
      [
        'usage by-user, one month',
        RUNS,
        async () => (await usage.byUser({ accountId: account, from: Date.parse(month.from), to: Date.parse(month.to) })).items.length,
      ],
      [
        'usage by-feature, one month',
        RUNS,
        async () => (await usage.byFeature({ accountId: account, from: Date.parse(month.from), to: Date.parse(month.to) })).items.length,
      ],
      [
        'usage by-user, month with partial days',
        RUNS,
        async () => (await usage.byUser({ accountId: account, from: Date.parse('2026-05-01T13:00:00Z'), to: Date.parse('2026-05-31T07:30:00Z') })).items.length,
      ],
      [
        'series day × feature, one month, UTC',
        RUNS,
        async () =>
          (await usage.series({
            accountId: account,
            from: Date.parse(month.from),
            to: Date.parse(month.to),
            bucket: 'day',
            groupBy: 'feature',
            timeZone: 'UTC',
          }))!.series.length,
      ],
      [
        'series day × user, one month, America/New_York',
        RUNS,
        async () =>
          (await usage.series({
            accountId: account,
            from: Date.parse('2026-05-01T04:00:00Z'),
            to: Date.parse('2026-06-01T04:00:00Z'),
            bucket: 'day',
            groupBy: 'user',
            timeZone: 'America/New_York',
          }))!.series.length,
      ],
      [
        'series day × creditType, one month, Asia/Kolkata (+5:30)',
        RUNS,
        async () =>
          (await usage.series({
            accountId: account,
            from: Date.parse('2026-04-30T18:30:00Z'),
            to: Date.parse('2026-05-31T18:30:00Z'),
            bucket: 'day',
            groupBy: 'creditType',
            timeZone: 'Asia/Kolkata',
          }))!.series.length,
      ],
      [
        'series week × action, 12 months',
        Math.min(RUNS, 10),
        async () =>
          (await usage.series({
            accountId: account,
            from: Date.parse('2025-12-01T00:00:00Z'),
            to: Date.parse('2026-12-01T00:00:00Z'),
            bucket: 'week',
            groupBy: 'action',
            timeZone: 'UTC',
          }))!.series.length,
      ],
    ];
    const rows: QueryRow[] = [];
    for (const [label, runs, fn] of queries) rows.push(await time(label, runs, fn));
    const historyRows = (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    const readModelTables: string[] = [];
    for (const p of ALL_PROJECTORS) for (const base of p.tables((b) => b)) readModelTables.push(await readModels.activeTable(p.name, base));
    await readModels.close();

    // CSV: the largest account's whole history over HTTP, streamed; RSS sampled while it streams.
    // Webhooks off: an inline dispatcher would start by walking the whole seeded log (its first
    // catch-up) on this event loop while the export runs, and measure that instead.
    const app = await createLedgerApp(
      { port: 0, dataDir: dir, store: 'sqlite', adminKey: ADMIN_KEY, logLevel: 'silent', projections: 'off' },
      { webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, mode: 'off' } },
    );
    await app.listen(0, '127.0.0.1');
    await app.get(AccountWarmUp).done(); // large accounts folded at start: not part of the export's figures
    const port = (app.getHttpServer().address() as { port: number }).port;
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
    // The first export after the start pays one-off costs (threads, statements, code not yet
    // optimised) that weigh on an export of this size: it is shown alone, and the median of the
    // next CSV_RUNS is the export's rate on a running server. The ceiling is run the same way.
    const exports: { rows: number; seconds: number }[] = [];
    for (let run = 0; run <= CSV_RUNS; run++) exports.push(await csvExport(port, account));
    clearInterval(sampler);
    await app.close();

    // The read side's ceilings, same run: the history rows inserted bare, the CSV rows stringified bare.
    const ceilingDb = new Database(join(dir, READ_MODEL_FILE_NAME), { readonly: true });
    const insertCeiling = replayInsertCeiling(ceilingDb, table, dir);
    const allTablesFloor = replayAllTablesFloor(ceilingDb, readModelTables, dir);
    const csvCeilings: { rows: number; seconds: number }[] = [];
    for (let run = 0; run <= CSV_RUNS; run++) csvCeilings.push(await csvStringifyCeiling(ceilingDb, table, account));
    ceilingDb.close();

    out.push(`### Read models: ${fmt(seeded.events)} seeded events, ${fmt(ACCOUNTS)} accounts`);
    out.push('');
    out.push('| measure | value |');
    out.push('|---|---:|');
    out.push(`| seed through the deciders into the store | ${fmt(seeded.events / seedSeconds)} events/s (${fmt(seedSeconds, 1)} s) |`);
    out.push(
      `| full rebuild of all ${ALL_PROJECTORS.length} read models (replay from 0) | **${fmt(applied / rebuildSeconds)} events/s** (${fmt(rebuildSeconds, 1)} s) |`,
    );
    out.push(
      `| ceiling: bare insert of the same ${fmt(historyRows)} history rows, indexes after | ${fmt(applied / insertCeiling.seconds)} events/s (${fmt(insertCeiling.rows / insertCeiling.seconds)} rows/s, ${fmt(insertCeiling.seconds, 1)} s) |`,
    );
    out.push(`| replay / ceiling | **${fmt((100 * insertCeiling.seconds) / rebuildSeconds, 1)}%** (goal ≥ 80%) |`);
    out.push(
      `| floor: bare insert of every read model's ${fmt(allTablesFloor.rows)} rows (${readModelTables.length} tables, key order), indexes after | ${fmt(applied / allTablesFloor.seconds)} events/s (${fmt(allTablesFloor.seconds, 1)} s); replay / floor ${fmt((100 * allTablesFloor.seconds) / rebuildSeconds, 1)}% |`,
    );
    out.push(`| read-model file | ${fmt(readModelBytes / 2 ** 20)} MiB |`);
    out.push(`| largest account (${account}) | ${fmt(accountRows)} history rows |`);
    const rate = (run: { rows: number; seconds: number }) => run.rows / run.seconds;
    const median = (values: number[]) =>
      percentile(
        [...values].sort((a, b) => a - b),
        50,
      );
    const csvRows = exports[0].rows;
    const csvMedian = median(exports.slice(1).map(rate));
    const csvCeilingPerSecond = median(csvCeilings.slice(1).map(rate));
    const listed = (runs: { rows: number; seconds: number }[]) => runs.map((run) => fmt(rate(run))).join(' · ');
    out.push(
      `| CSV export of that account over HTTP | **${fmt(csvMedian)} rows/s** (${fmt(csvRows)} rows; median of ${exports.length - 1}: ${listed(exports.slice(1))}; the first after the start ${fmt(rate(exports[0]))}), RSS growth ${fmt((rssPeak - rssBefore) / 2 ** 20, 1)} MiB |`,
    );
    out.push(
      `| ceiling: SELECT of the same rows through csv-stringify into a sink | ${fmt(csvCeilingPerSecond)} rows/s (${fmt(csvCeilings[0].rows)} rows; median of ${csvCeilings.length - 1}: ${listed(csvCeilings.slice(1))}; the first ${fmt(rate(csvCeilings[0]))}) |`,
    );
    if (csvCeilings[0].rows !== csvRows) out.push(`| (the ceiling read ${fmt(csvCeilings[0].rows)} rows, the export ${fmt(csvRows)}: not the same rows) | |`);
    out.push(
      `| CSV / ceiling | **${fmt((100 * csvMedian) / csvCeilingPerSecond, 1)}%** of the medians (goal ≥ 90%); the first export after the start against the first ceiling run ${fmt((100 * rate(exports[0])) / rate(csvCeilings[0]), 1)}% |`,
    );
    out.push('');
    out.push('| query on the largest account (query layer, no HTTP) | p50 ms | p95 ms | rows |');
    out.push('|---|---:|---:|---:|');
    for (const r of rows) out.push(`| ${r.label} | ${fmt(r.p50, 2)} | ${fmt(r.p95, 2)} | ${r.rows} |`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void historyBenchmark().then(
    (lines) => console.log(lines.join('\n')),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
