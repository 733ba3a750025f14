import 'reflect-metadata';
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, Page } from 'playwright-core';
import { DEFAULT_WEBHOOKS_CONFIG } from '@credit-ledger/webhooks';
import { createLedgerApp } from '../apps/ledger-api/src/app';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { AccountWarmUp, ApiKeyStore, Clock } from '@credit-ledger/ledger';
import { seedHistory } from '@credit-ledger/projections';
import { fmt, nowMs, percentile } from './stats';

/**
 * The web console in headless Chromium against a server holding the history benchmark's seeded
 * log (seedHistory: a few large accounts, many small ones): on its largest account, the history
 * page ready (first rows and the graph drawn) from navigation, a filter change to an updated table
 * and graph, and the initial JavaScript, gzipped. Baseline of the same run: the API's own time for
 * the requests the page makes (history page + usage series), fetched from Node.
 */
const EVENTS = Number(process.env.BENCH_CONSOLE_EVENTS ?? 300_000);
const ACCOUNTS = Number(process.env.BENCH_CONSOLE_ACCOUNTS ?? 50);
const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? 12);
const FILTER_CHANGES = Number(process.env.BENCH_CONSOLE_FILTER_CHANGES ?? 30);
const ADMIN_KEY = 'bench-superuser-key-0123456789';
const ACCOUNT = 'seed_00000';
const NOW = '2026-11-28T12:00:00.000Z';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// The functions passed to waitForFunction run in the page, where it exists.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;
/* eslint-enable @typescript-eslint/no-explicit-any */

class FixedClock extends Clock {
  now(): Date {
    return new Date(NOW);
  }
}

const summary = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] };
};

async function historyReady(page: Page, feature?: string): Promise<void> {
  await page.waitForFunction(
    (f) => {
      const chart = document.querySelector('[data-testid="usage-chart"]');
      const row = document.querySelector('table.history tbody tr[data-row-id]');
      if (!chart || !row || document.querySelector('[aria-busy="true"]')) return false;
      // Drawn for the address in the address bar, not the last one's rows before the next render.
      if (document.querySelector('main#main')?.getAttribute('data-location') !== `${window.location.pathname}${window.location.search}`) return false;
      return f === null || row.querySelector('td:nth-child(2)')?.textContent?.toLowerCase().replace(/ /g, '_') === f;
    },
    feature ?? null,
    { polling: 'raf', timeout: 30_000 },
  );
}

export async function consoleBenchmark(): Promise<string[]> {
  const out: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-console-'));
  try {
    const store = SqliteEventStore.open(dir);
    let t = nowMs();
    const seeded = await seedHistory(store, { accounts: ACCOUNTS, events: EVENTS, seed: 42, months: 12, start: '2025-12-01T00:00:00Z' });
    await store.close();
    out.push(`seeded ${fmt(seeded.events)} events in ${fmt(seeded.accounts)} accounts in ${fmt((nowMs() - t) / 1000, 1)} s`);
    t = nowMs();
    const app = await createLedgerApp(
      {
        port: 0,
        dataDir: dir,
        store: 'sqlite',
        adminKey: ADMIN_KEY,
        logLevel: 'silent',
        projections: 'inline',
        // BENCH_CONSOLE_WARM_UP=off: the first visits find the account cold, as with LEDGER_WARM_UP_EVENTS=0.
        ...(process.env.BENCH_CONSOLE_WARM_UP === 'off' ? { warmUpEvents: 0 } : {}),
      },
      // Webhooks off: an inline dispatcher would first walk the whole seeded log on the same event loop.
      { clock: new FixedClock(), webhooks: { ...DEFAULT_WEBHOOKS_CONFIG, mode: 'off' } },
    );
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
    const auth = { Authorization: `Bearer ${ADMIN_KEY}` };
    // What a restarted server does first: fold its largest accounts into the cache (a visit before the end waits for it).
    await app.get(AccountWarmUp).done();
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    out.push(
      `warm-up after the start: ${fmt(metric('ledger_account_warm_up_accounts_total'))} accounts, ${fmt(metric('ledger_account_warm_up_events_total'))} events folded, started and warm in ${fmt((nowMs() - t) / 1000, 1)} s`,
    );
    t = nowMs();
    for (;;) {
      const res = await fetch(`${url}/v1/accounts/${ACCOUNT}/history?limit=1&minPosition=${seeded.events}`, { headers: auth });
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const rows = (await (await fetch(`${url}/v1/audit/checkpoint`, { headers: auth })).json()) as { position: number };
    out.push(`read models caught up ${fmt((nowMs() - t) / 1000, 1)} s after listening (log head ${fmt(rows.position)})`);
    const key = (await app.get(ApiKeyStore).create({ accountId: ACCOUNT, role: 'admin' })).key;
    const filters = (await (await fetch(`${url}/v1/accounts/${ACCOUNT}/filters`, { headers: auth })).json()) as { features: { feature: string }[] };
    const accountRows = await fetch(`${url}/v1/accounts/${ACCOUNT}/history.csv`, { headers: auth }).then(
      async (r) => (await r.text()).split('\r\n').length - 2,
    );
    out.push(`account ${ACCOUNT}: ${fmt(accountRows)} history rows, ${filters.features.length} features`);

    // Baseline: the API's time for what the page asks (30 days, first page of 200 + the series).
    const api: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = nowMs();
      const range = 'from=2026-10-29T00:00:00.000Z&to=2026-11-29T00:00:00.000Z';
      await Promise.all([
        fetch(`${url}/v1/accounts/${ACCOUNT}/history?${range}&includeRefunds=false&limit=50`, { headers: { Authorization: `Bearer ${key}` } }).then((r) =>
          r.json(),
        ),
        fetch(`${url}/v1/accounts/${ACCOUNT}/usage/series?${range}&bucket=day&groupBy=feature&timezone=UTC`, {
          headers: { Authorization: `Bearer ${key}` },
        }).then((r) => r.json()),
      ]);
      api.push(nowMs() - start);
    }

    // Initial JavaScript: what index.html loads, as the server sends it gzipped.
    const html = await (await fetch(`${url}/history`)).text();
    let initialGz = 0;
    for (const [, src] of html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)) {
      const res = await fetch(`${url}${src}`, { headers: { 'Accept-Encoding': 'gzip' } });
      initialGz += Number(res.headers.get('content-length'));
    }

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.clock.setFixedTime(new Date(NOW));
      await page.goto(url);
      await page.getByTestId('api-key').fill(key);
      await page.getByTestId('sign-in').click();
      await page.getByTestId('sign-out').waitFor();
      const ready: number[] = [];
      // The first navigation's API requests, each with its time in flight (where a slow first visit goes).
      const firstVisit: string[] = [];
      const recordFirstVisit = (request: import('playwright-core').Request) => {
        if (!request.url().includes('/v1/')) return;
        const t = request.timing();
        firstVisit.push(`${new URL(request.url()).pathname.replace(`/v1/accounts/${ACCOUNT}`, '…')} ${fmt(t.responseEnd)} ms`);
      };
      for (let i = 0; i < RUNS; i++) {
        await page.goto(`${url}/`);
        await page.getByTestId('sign-out').waitFor();
        if (i === 0) page.on('requestfinished', recordFirstVisit);
        const start = nowMs();
        await page.goto(`${url}/history`);
        await historyReady(page);
        ready.push(nowMs() - start);
        if (i === 0) page.off('requestfinished', recordFirstVisit);
      }
      const changes: number[] = [];
      const inFlight: number[] = [];
      // The browser's own timing of each API request (sent to last byte received): the server's
      // share of a filter change; the rest is the browser's and the driver's. (Playwright's clock
      // fakes the page's Performance API, so the network layer's timing is read instead.)
      let requests: { start: number; end: number }[] = [];
      page.on('requestfinished', (request) => {
        if (!request.url().includes('/v1/')) return;
        const t = request.timing();
        requests.push({ start: t.startTime, end: t.startTime + t.responseEnd });
      });
      const features = filters.features.map((f) => f.feature);
      for (let i = 0; i < FILTER_CHANGES; i++) {
        const feature = features[i % features.length];
        requests = [];
        const start = nowMs();
        await page.getByTestId('filter-feature').selectOption(`${feature}\u0000`);
        await historyReady(page, feature);
        changes.push(nowMs() - start);
        // requestfinished can follow the page's drawing by a moment.
        for (let wait = 0; requests.length < 2 && wait < 20; wait++) await new Promise((r) => setTimeout(r, 25));
        inFlight.push(requests.length === 0 ? 0 : Math.max(...requests.map((q) => q.end)) - Math.min(...requests.map((q) => q.start)));
      }
      const r = summary(ready);
      const c = summary(changes);
      const a = summary(api);
      const f = summary(inFlight);
      const browserShare = summary(changes.map((ms, i) => ms - inFlight[i]));
      out.push(`| history page ready (first rows + graph), from navigation | ${RUNS} | ${fmt(r.p50)} ms | ${fmt(r.p95)} ms | ${fmt(r.max)} ms |`);
      out.push(`| … each navigation in order (the first is the browser's first visit of the page) | ${ready.map((ms) => fmt(ms)).join(' · ')} ms | | |`);
      out.push(`| … the first navigation's API requests, time in flight | ${firstVisit.join(' · ')} | | |`);
      out.push(`| filter change → table and graph updated | ${FILTER_CHANGES} | ${fmt(c.p50)} ms | ${fmt(c.p95)} ms | ${fmt(c.max)} ms |`);
      out.push(
        `| … of which its API requests in flight (the browser's network timing) | ${FILTER_CHANGES} | ${fmt(f.p50)} ms | ${fmt(f.p95)} ms | ${fmt(f.max)} ms |`,
      );
      out.push(
        `| … the rest: the browser's and the driver's (change − requests, per change) | ${FILTER_CHANGES} | ${fmt(browserShare.p50)} ms | ${fmt(browserShare.p95)} ms | ${fmt(browserShare.max)} ms |`,
      );
      out.push(
        `| baseline: the API alone (first history page of 50 + series, in parallel, from Node) | ${RUNS} | ${fmt(a.p50)} ms | ${fmt(a.p95)} ms | ${fmt(a.max)} ms |`,
      );
      out.push(`initial JavaScript: ${fmt(initialGz / 1024, 1)} KiB gzipped`);
    } finally {
      await browser.close();
      await app.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (require.main === module) {
  void (async () => {
    const commit = (() => {
      try {
        return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
          .toString()
          .trim();
      } catch {
        return 'unknown';
      }
    })();
    const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();
    const lines = await consoleBenchmark();
    const loadAfter = readFileSync('/proc/loadavg', 'utf8').trim();
    process.stdout.write(`${lines.join('\n')}\nload average before: ${loadBefore}; after: ${loadAfter} (${commit})\n`);
    process.exit(0);
  })().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
