import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsumeCreditsCommand, LedgerModule, OpenAccountCommand } from '@credit-ledger/ledger';
import { ConsumeCreditsData, internalCaller, Plan } from '@credit-ledger/domain';
import { BARE_SERVER_ENTRY, Instance, SERVER_ENTRY, startInstance, stopInstance } from './processes';
import { fmt, Measured, runInFlight, seededRandom, threadCpuUs } from './stats';

/**
 * Spending controls: (1) `POST /v1/accounts/{id}/check` over HTTP, 64 connections (autocannon), next
 * to two baselines measured in the same run: a bare Node HTTP server answering a fixed JSON body,
 * and the ledger's own `GET /health`; (2) rate-card priced consumptions against client-priced ones
 * through the command bus, 64 in flight over 1,000 accounts, in interleaved rounds.
 */

const ADMIN_KEY = 'bench-superuser-key-0123456789abcdef';
const CONNECTIONS = 64;
const CHECK_SECONDS = Number(process.env.BENCH_CHECK_SECONDS ?? 10);
const CHECK_ACCOUNTS = 100;
const PRICING_ACCOUNTS = 1_000;
/** Rounds of the pricing half, rounded up to an even number: each kind goes first equally often (the second run of a round is a few percent slower, whichever kind it is). */
const PRICING_ROUNDS = 2 * Math.ceil(Number(process.env.BENCH_PRICING_ROUNDS ?? 6) / 2);
const PRICING_CONSUMPTIONS = Number(process.env.BENCH_PRICING_CONSUMPTIONS ?? 30_000);
const IN_FLIGHT = 64;
const CTX = internalCaller('bench', 'bench');

const RATES = [
  { feature: 'people_search', creditType: 'email', credits: 1 },
  { feature: 'people_search', action: 'mobile_reveal', creditType: 'mobile', credits: 2 },
  { feature: 'exports', action: 'csv_export', creditType: 'email', credits: 0 },
];
const PLAN: Plan = {
  creditTypes: {
    email: { allocation: 1_000_000_000, overdraft: { policy: 'deny' } },
    mobile: { allocation: 1_000_000_000, overdraft: { policy: 'deny' } },
  },
  cycle: { period: 'month', anchorDay: 1, timezone: 'UTC' },
  rates: RATES,
};

export interface LoadFigures {
  readonly label: string;
  readonly requests: number;
  readonly perSecond: number;
  readonly latencyMsP50: number;
  readonly latencyMsP99: number;
  readonly non2xx: number;
}

export interface SpendingBenchResult {
  readonly loadBefore: string;
  readonly loadAfter: string;
  readonly http: readonly LoadFigures[];
  readonly pricing: readonly { readonly clientPriced: PricingRun; readonly rateCard: PricingRun }[];
}

/** One pricing run: throughput and latency, and the event loop's CPU time per consumption (µs; undefined without /proc). */
export interface PricingRun extends Measured {
  readonly loopCpuUs: number | undefined;
}

/** A bare Node HTTP server in its own process (bench/bare-server.ts): the floor of one JSON request/answer on this machine. */
function startBareServer(): Promise<Instance> {
  return startInstance({ ...process.env }, BARE_SERVER_ENTRY, '/');
}

function startLedger(dataDir: string): Promise<Instance> {
  return startInstance(
    { ...process.env, LEDGER_DATA_DIR: dataDir, LEDGER_ADMIN_KEY: ADMIN_KEY, LEDGER_PROJECTIONS: 'off', LOG_LEVEL: 'warn' },
    SERVER_ENTRY,
    '/health',
  );
}

async function send(base: string, method: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

/** Accounts with a rate card, a default member limit, and some usage, so that a check prices, draws and reads a budget. */
async function seedCheckAccounts(base: string): Promise<void> {
  for (let index = 0; index < CHECK_ACCOUNTS; index++) {
    const accountId = `check-${index}`;
    await send(base, 'POST', '/v1/accounts', { accountId, name: accountId, plan: { creditTypes: PLAN.creditTypes, rates: RATES } });
    await send(base, 'PUT', `/v1/accounts/${accountId}/members/default/limits`, { creditTypes: { email: 1_000_000, mobile: 1_000_000 } });
    for (let user = 0; user < 4; user++) {
      const body = { consumptionId: `seed-${user}`, userId: `user-${user}`, feature: 'people_search', action: 'mobile_reveal', dataKey: `contact-${user}` };
      await send(base, 'POST', `/v1/accounts/${accountId}/consumptions`, body);
    }
  }
}

async function load(label: string, options: autocannon.Options): Promise<LoadFigures> {
  const result = await autocannon({ connections: CONNECTIONS, duration: CHECK_SECONDS, ...options });
  return {
    label,
    requests: result.requests.total,
    perSecond: result.requests.average,
    latencyMsP50: result.latency.p50,
    latencyMsP99: result.latency.p99,
    non2xx: result.non2xx + result.errors,
  };
}

function checkRequests(base: string): autocannon.Options {
  let next = 0;
  return {
    url: base,
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
    requests: [
      {
        setupRequest: (request: autocannon.Request) => {
          const index = next++;
          const body = { userId: `user-${index % 8}`, feature: 'people_search', action: 'mobile_reveal', dataKey: `contact-${index % 16}` };
          return { ...request, path: `/v1/accounts/check-${index % CHECK_ACCOUNTS}/check`, body: JSON.stringify(body) };
        },
      },
    ],
  };
}

async function httpFigures(log: (line: string) => void): Promise<LoadFigures[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-bench-check-'));
  const bare = await startBareServer();
  const ledger = await startLedger(dataDir);
  try {
    await seedCheckAccounts(ledger.base);
    log(`check: ${CHECK_ACCOUNTS} accounts seeded; ${CHECK_SECONDS} s per run, ${CONNECTIONS} connections`);
    await load('warm-up', { ...checkRequests(ledger.base), duration: 2 });
    const figures: LoadFigures[] = [];
    figures.push(await load('bare Node HTTP server (baseline)', { url: `${bare.base}/`, method: 'POST', body: '{"userId":"u"}' }));
    figures.push(await load('ledger GET /health (baseline: NestJS, no key)', { url: `${ledger.base}/health` }));
    figures.push(await load('ledger POST /check (key, validation, decision)', checkRequests(ledger.base)));
    for (const row of figures) log(`  ${row.label}: ${fmt(row.perSecond)}/s, p50 ${row.latencyMsP50} ms, p99 ${row.latencyMsP99} ms, non-2xx ${row.non2xx}`);
    return figures;
  } finally {
    await Promise.all([stopInstance(bare, true), stopInstance(ledger, true)]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function clientPriced(consumptionId: string, rnd: () => number): ConsumeCreditsData {
  const mobile = rnd() < 0.5;
  return {
    consumptionId,
    userId: `user-${Math.floor(rnd() * 16)}`,
    feature: 'people_search',
    action: mobile ? 'mobile_reveal' : 'email_reveal',
    creditType: mobile ? 'mobile' : 'email',
    credits: mobile ? 2 : 1,
  };
}

function rateCardPriced(consumptionId: string, rnd: () => number): ConsumeCreditsData {
  const { creditType: _creditType, credits: _credits, ...rest } = clientPriced(consumptionId, rnd);
  return rest;
}

/**
 * A full collection before each pricing run (when node runs with --expose-gc, as `npm run bench`
 * does), so that no run pays for the garbage of the one before it: without it, the second run of
 * a round was the slower one (its p99 too) whichever kind it was.
 */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function runConsumptions(
  bus: CommandBus,
  label: string,
  prefix: string,
  make: (id: string, rnd: () => number) => ConsumeCreditsData,
): Promise<PricingRun> {
  const rnd = seededRandom(7);
  collectGarbage();
  const loopBefore = threadCpuUs();
  const measured = await runInFlight(label, PRICING_CONSUMPTIONS, IN_FLIGHT, (index) =>
    bus.execute(new ConsumeCreditsCommand(`priced-${Math.floor(rnd() * PRICING_ACCOUNTS)}`, make(`${prefix}-${index}`, rnd), CTX)),
  );
  const loopAfter = threadCpuUs();
  return { ...measured, loopCpuUs: loopBefore === undefined || loopAfter === undefined ? undefined : (loopAfter - loopBefore) / PRICING_CONSUMPTIONS };
}

async function pricingFigures(log: (line: string) => void): Promise<{ clientPriced: PricingRun; rateCard: PricingRun }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-pricing-'));
  const config = { port: 0, dataDir: dir, store: 'sqlite' as const, adminKey: ADMIN_KEY, logLevel: 'silent' as const, projections: 'off' as const };
  const ctx: INestApplicationContext = await NestFactory.createApplicationContext(LedgerModule.forRoot({ config, http: false }), {
    logger: false,
    abortOnError: false,
  });
  try {
    const bus = ctx.get(CommandBus);
    await Promise.all(
      Array.from({ length: PRICING_ACCOUNTS }, (_, index) => bus.execute(new OpenAccountCommand(`priced-${index}`, `Priced ${index}`, PLAN, CTX))),
    );
    await runConsumptions(bus, 'warm-up', 'warm', clientPriced);
    const rounds: { clientPriced: PricingRun; rateCard: PricingRun }[] = [];
    for (let round = 0; round < PRICING_ROUNDS; round++) {
      // Alternate which goes first, so that neither always runs on the warmer (or more fragmented) store.
      const first = round % 2 === 0 ? 'client' : 'rate';
      const runClient = () => runConsumptions(bus, 'client-priced', `client-${round}`, clientPriced);
      const runRate = () => runConsumptions(bus, 'rate-card priced', `rate-${round}`, rateCardPriced);
      const a = first === 'client' ? await runClient() : await runRate();
      const b = first === 'client' ? await runRate() : await runClient();
      const pair = first === 'client' ? { clientPriced: a, rateCard: b } : { clientPriced: b, rateCard: a };
      log(
        `  round ${round + 1}: client-priced ${fmt(pair.clientPriced.perSecond)}/s${loopCpu(pair.clientPriced)}, rate-card ${fmt(pair.rateCard.perSecond)}/s${loopCpu(pair.rateCard)}`,
      );
      rounds.push(pair);
    }
    return rounds;
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const loopCpu = (run: PricingRun) => (run.loopCpuUs === undefined ? '' : ` (event loop ${fmt(run.loopCpuUs, 1)} µs each)`);

const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

export async function spendingBenchmark(log: (line: string) => void): Promise<SpendingBenchResult> {
  const loadBefore = loadAverage();
  log(`spending controls: load average ${loadBefore}`);
  const only = (process.env.BENCH_SPENDING ?? 'check,pricing').split(',');
  const http = only.includes('check') ? await httpFigures(log) : [];
  const pricing = only.includes('pricing') ? await pricingFigures(log) : [];
  return { loadBefore, loadAfter: loadAverage(), http, pricing };
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const median = (values: number[]) => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)];

export function printSpendingBench(result: SpendingBenchResult): void {
  console.log('');
  console.log(`Spending controls (load average ${result.loadBefore} before, ${result.loadAfter} after)`);
  if (result.http.length > 0) {
    console.log('| load | requests | requests/s | p50 ms | p99 ms | non-2xx |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const row of result.http) {
      console.log(`| ${row.label} | ${fmt(row.requests)} | ${fmt(row.perSecond)} | ${row.latencyMsP50} | ${row.latencyMsP99} | ${row.non2xx} |`);
    }
  }
  if (result.pricing.length > 0) printPricing(result.pricing);
}

/**
 * The rounds side by side, and the ratio taken within each round (the two runs of a round are
 * back to back, so a slower minute of a shared machine moves both) with their mean; the event
 * loop's CPU time per consumption moves less with the machine's load than the throughput does.
 */
function printPricing(rounds: SpendingBenchResult['pricing']): void {
  const cpu = (run: PricingRun) => (run.loopCpuUs === undefined ? 'n/a' : fmt(run.loopCpuUs, 1));
  console.log(
    '| round | client-priced consumptions/s | p99 ms | event loop µs each | rate-card priced consumptions/s | p99 ms | event loop µs each | rate-card / client-priced |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  rounds.forEach(({ clientPriced: c, rateCard: r }, index) => {
    console.log(
      `| ${index + 1} | ${fmt(c.perSecond)} | ${fmt(c.latencyMsP99, 2)} | ${cpu(c)} | ${fmt(r.perSecond)} | ${fmt(r.latencyMsP99, 2)} | ${cpu(r)} | ${fmt((100 * r.perSecond) / c.perSecond, 1)}% |`,
    );
  });
  const ratios = rounds.map(({ clientPriced, rateCard }) => rateCard.perSecond / clientPriced.perSecond);
  console.log(
    `rate-card / client-priced: mean of the rounds' ratios ${fmt(100 * mean(ratios), 1)}% (each kind first in half of the rounds); of the medians ${fmt((100 * median(rounds.map((r) => r.rateCard.perSecond))) / median(rounds.map((r) => r.clientPriced.perSecond)), 1)}%`,
  );
  const cpuRatios = rounds.flatMap(({ clientPriced, rateCard }) =>
    clientPriced.loopCpuUs === undefined || rateCard.loopCpuUs === undefined ? [] : [rateCard.loopCpuUs / clientPriced.loopCpuUs],
  );
  if (cpuRatios.length > 0)
    console.log(`event loop CPU per consumption, rate-card / client-priced: mean of the rounds' ratios ${fmt(100 * mean(cpuRatios), 1)}%`);
}
