import { frameworkBenchmark, printFrameworkBench } from './framework';
import 'reflect-metadata';
import { INestApplication, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { execSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createLedgerApp } from '../apps/ledger-api/src/app';
import { ConsumeCreditsCommand, CyclesJob, encodeEvents, EVENT_STORE, LedgerConfig, LedgerModule, OpenAccountCommand, Clock } from '@credit-ledger/ledger';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { decide, evolve, initialState, internalCaller, LedgerEvent } from '@credit-ledger/domain';
import { BatchClientJob, BatchClientResult } from './http-batch-client';
import { historyBenchmark } from './history';
import { rawFsyncEventsPerSecond } from './raw-fsync-writer';
import { kafkaBenchmark, KafkaBenchResult } from './kafka';
import { printStoreBench, storeBenchmark } from './store';
import { chainBenchmark, printChainBench } from './chain';
import { httpBenchmark, printHttpBench } from './http';
import { benchConsumption, fmt, Measured, nowMs, seededRandom, summarize, threadCpuUs } from './stats';
import { instancesBenchmark, printInstances } from './instances';
import { printSpendingBench, spendingBenchmark } from './spending';
import { printWebhooksBench, webhooksBenchmark } from './webhooks';
import { printReservationsBench, reservationsBenchmark } from './reservations';

const ACCOUNTS = 1_000;
const ONE_AT_A_TIME = Number(process.env.BENCH_SEQUENTIAL ?? 3_000);
const IN_FLIGHT = 64;
const CONCURRENT_TOTAL = Number(process.env.BENCH_CONCURRENT ?? 150_000);
const BATCH_ITEMS = 1_000;
const BATCH_REQUESTS = Number(process.env.BENCH_BATCHES ?? 200);
const BATCH_CLIENTS = 4;
const ADMIN_KEY = 'bench-superuser-key-0123456789';
const BILLING_ACCOUNTS = Number(process.env.BENCH_BILLING_ACCOUNTS ?? 100_000);
const BILLING_CONCURRENCY = Number(process.env.BENCH_BILLING_CONCURRENCY ?? 256);
const CTX = internalCaller('bench', 'bench');
const PLAN = {
  creditTypes: {
    email: { allocation: 1_000_000_000, overdraft: { policy: 'deny' as const } },
    mobile: { allocation: 1_000_000_000, overdraft: { policy: 'deny' as const } },
  },
  cycle: { period: 'month' as const, anchorDay: 1, timezone: 'UTC' as const },
};

function config(dataDir: string): LedgerConfig {
  return { port: 0, dataDir, store: 'sqlite', adminKey: ADMIN_KEY, logLevel: 'silent', projections: 'off' };
}

const accountId = (i: number) => `bench_${i}`;
const item = benchConsumption;

async function openAccounts(bus: CommandBus): Promise<void> {
  await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => bus.execute(new OpenAccountCommand(accountId(i), `Bench ${i}`, PLAN, CTX))));
}

/** CPU time per consumption of scenario (b), µs: the event loop's (undefined without /proc) and the whole process's (every thread). */
interface CpuPerConsumption {
  readonly eventLoopUs: number | undefined;
  readonly processUs: number;
}

async function commandBusScenarios(): Promise<{ a: Measured; b: Measured; groupSize: number; cpuB: CpuPerConsumption }> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  const ctx: INestApplicationContext = await NestFactory.createApplicationContext(LedgerModule.forRoot({ config: config(dir), http: false }), {
    logger: false,
    abortOnError: false,
  });
  try {
    const bus = ctx.get(CommandBus);
    await openAccounts(bus);
    const rnd = seededRandom(42);

    // (a) one at a time: every command waits for its own fsync.
    const latA: number[] = [];
    const startA = nowMs();
    for (let i = 0; i < ONE_AT_A_TIME; i++) {
      const t = nowMs();
      await bus.execute(new ConsumeCreditsCommand(accountId(Math.floor(rnd() * ACCOUNTS)), item(`a${i}`, rnd), CTX));
      latA.push(nowMs() - t);
    }
    const a = summarize('(a) command bus, one at a time', ONE_AT_A_TIME, (nowMs() - startA) / 1000, latA);

    // (b) 64 in flight across 1,000 accounts: appends of different accounts share group commits.
    const store = ctx.get<SqliteEventStore>(EVENT_STORE);
    const before = store.stats();
    const latB: number[] = [];
    let next = 0;
    const loopBefore = threadCpuUs();
    const processBefore = process.cpuUsage();
    const startB = nowMs();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (;;) {
          const i = next++;
          if (i >= CONCURRENT_TOTAL) return;
          const t = nowMs();
          await bus.execute(new ConsumeCreditsCommand(accountId(Math.floor(rnd() * ACCOUNTS)), item(`b${i}`, rnd), CTX));
          latB.push(nowMs() - t);
        }
      }),
    );
    const b = summarize(`(b) command bus, ${IN_FLIGHT} in flight, ${fmt(ACCOUNTS)} accounts`, CONCURRENT_TOTAL, (nowMs() - startB) / 1000, latB);
    const processUsed = process.cpuUsage(processBefore);
    const loopAfter = threadCpuUs();
    const cpuB = {
      eventLoopUs: loopBefore === undefined || loopAfter === undefined ? undefined : (loopAfter - loopBefore) / CONCURRENT_TOTAL,
      processUs: (processUsed.user + processUsed.system) / CONCURRENT_TOTAL,
    };
    const after = store.stats();
    return { a, b, groupSize: (after.events - before.events) / Math.max(1, after.commits - before.commits), cpuB };
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function batchOverHttp(): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-http-'));
  const app: INestApplication = await createLedgerApp(config(dir));
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  try {
    await openAccounts(app.get(CommandBus));
    const job: BatchClientJob = {
      port,
      adminKey: ADMIN_KEY,
      accounts: ACCOUNTS,
      requests: BATCH_REQUESTS,
      itemsPerRequest: BATCH_ITEMS,
      clients: BATCH_CLIENTS,
    };
    const client = fork(join(__dirname, 'http-batch-client.js'));
    const result = await new Promise<BatchClientResult>((resolve, reject) => {
      client.once('message', (m) => resolve(m as BatchClientResult));
      client.once('exit', (code) => code !== 0 && reject(new Error(`batch client exited with ${code}`)));
      client.send(job);
    });
    const { failures, latenciesMs: latencies } = result;
    if (failures > 0) throw new Error(`${failures} batch requests did not create all their items`);
    return summarize(
      `(c) HTTP batch endpoint, ${BATCH_ITEMS} items/request, ${BATCH_CLIENTS} clients (latency per request)`,
      BATCH_REQUESTS * BATCH_ITEMS,
      result.seconds,
      latencies,
    );
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The events the ledger writes, serialized as it serializes them, for the raw writer. */
function serializedEvents(count: number): string[] {
  const rnd = seededRandom(1);
  let state = initialState();
  const opened = decide({ type: 'OpenAccount', at: new Date().toISOString(), data: { accountId: 'raw', name: 'Raw', plan: PLAN } }, state);
  if (opened.kind === 'accepted') for (const e of opened.events) state = evolve(state, e);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = decide({ type: 'ConsumeCredits', at: new Date().toISOString(), data: item(`r${i}`, rnd) }, state);
    if (d.kind !== 'accepted') continue;
    const events: LedgerEvent[] = [...d.events];
    for (const e of events) state = evolve(state, e);
    for (const x of encodeEvents(`consume:r${i}`, events, { actor: 'bench', correlationId: 'bench', recordedAt: new Date().toISOString() })) {
      out.push(JSON.stringify(x));
    }
  }
  return out;
}

/** A clock the billing benchmark moves past the cycle boundary. */
class BenchClock extends Clock {
  constructor(public current: Date) {
    super();
  }
  now(): Date {
    return new Date(this.current);
  }
}

interface BillingFigures {
  readonly accounts: number;
  readonly openPerSecond: number;
  readonly indexSeconds: number;
  readonly runSeconds: number;
  readonly resetsPerSecond: number;
  readonly secondRunSeconds: number;
  readonly cyclesReset: number;
}

/** The billing job on BILLING_ACCOUNTS accounts: open them (command path), cross the boundary, run the job twice. */
async function billingJob(): Promise<BillingFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-billing-'));
  const clock = new BenchClock(new Date('2026-11-10T12:00:00.000Z'));
  const ctx = await NestFactory.createApplicationContext(LedgerModule.forRoot({ config: config(dir), clock, http: false }), {
    logger: false,
    abortOnError: false,
  });
  try {
    const bus = ctx.get(CommandBus);
    const plan = {
      ...PLAN,
      creditTypes: {
        email: { allocation: 1_000, overdraft: { policy: 'deny' as const } },
        mobile: { allocation: 100, overdraft: { policy: 'deny' as const } },
      },
    };
    let next = 0;
    const startOpen = nowMs();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (;;) {
          const i = next++;
          if (i >= BILLING_ACCOUNTS) return;
          await bus.execute(new OpenAccountCommand(`billing_${i}`, `Billing ${i}`, plan, CTX));
        }
      }),
    );
    const openPerSecond = BILLING_ACCOUNTS / ((nowMs() - startOpen) / 1000);
    clock.current = new Date('2026-12-01T00:05:00.000Z');
    const job = ctx.get(CyclesJob);
    const t0 = nowMs();
    const summary = await job.run({ concurrency: BILLING_CONCURRENCY });
    const runSeconds = (nowMs() - t0) / 1000;
    if (summary.failed > 0 || summary.cyclesReset !== BILLING_ACCOUNTS) throw new Error(`billing run: ${JSON.stringify(summary).slice(0, 500)}`);
    const t1 = nowMs();
    const again = await job.run({ concurrency: BILLING_CONCURRENCY });
    const secondRunSeconds = (nowMs() - t1) / 1000;
    if (again.reset !== 0) throw new Error('the second billing run reset accounts again');
    // The due index was caught up during the first run; measure a catch-up over the whole log from scratch.
    const { SqliteDueIndex, SqliteStateDatabase } = await import('../libs/ledger/src');
    const probeState = SqliteStateDatabase.open(join(dir, 'index-probe'));
    const fresh = await SqliteDueIndex.open(probeState);
    const t2 = nowMs();
    await fresh.catchUp(ctx.get(EVENT_STORE));
    const indexSeconds = (nowMs() - t2) / 1000;
    await probeState.close();
    return {
      accounts: BILLING_ACCOUNTS,
      openPerSecond,
      indexSeconds,
      runSeconds,
      resetsPerSecond: summary.cyclesReset / runSeconds,
      secondRunSeconds,
      cyclesReset: summary.cyclesReset,
    };
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function row(m: Measured, raw: number): string {
  return `| ${m.label} | ${fmt(m.operations)} | ${fmt(m.perSecond)} | ${fmt(m.latencyMsP50, 2)} | ${fmt(m.latencyMsP99, 2)} | ${fmt(raw)} | ${fmt((100 * m.perSecond) / raw, 1)}% |`;
}

async function main(): Promise<void> {
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    /* not a git checkout */
  }
  console.log(
    `credit-ledger command-path benchmark — commit ${commit}, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30)} GiB`,
  );
  const sections = (process.env.BENCH_SECTIONS ?? 'command,history,kafka,store,chain').split(',');
  if (sections.includes('command')) await commandPathSection();
  if (sections.includes('history')) {
    console.log('');
    console.log('running the read-model section (seed, rebuild, queries, CSV); BENCH_HISTORY_EVENTS sets its size…');
    console.log((await historyBenchmark()).join('\n'));
  }
  if (sections.includes('kafka')) printKafka(await kafkaBenchmark((line) => console.log(line)));
  if (sections.includes('store')) printStoreBench(await storeBenchmark((line) => console.log(line)));
  if (sections.includes('chain')) printChainBench(await chainBenchmark((line) => console.log(line)));
  if (sections.includes('http')) printHttpBench(await httpBenchmark((line) => console.log(line)));
  if (sections.includes('instances')) printInstances(await instancesBenchmark((line) => console.log(line)), fmt);
  if (sections.includes('spending')) printSpendingBench(await spendingBenchmark((line) => console.log(line)));
  if (sections.includes('webhooks')) printWebhooksBench(await webhooksBenchmark((line) => console.log(line)));
  if (sections.includes('reservations')) printReservationsBench(await reservationsBenchmark((line) => console.log(line)));
  if (sections.includes('framework')) printFrameworkBench(await frameworkBenchmark((line) => console.log(line)));
}

function printKafka(k: KafkaBenchResult): void {
  console.log('');
  console.log(
    `## Kafka — ${k.broker}${k.brokerStartMs === undefined ? '' : `, started in ${fmt(k.brokerStartMs)} ms, broker RSS ${fmt(k.brokerRssMiB ?? NaN)} MiB after the runs`}`,
  );
  console.log('');
  console.log('| scenario | messages/events | per second | p50 ms | p99 ms |');
  console.log('|---|---:|---:|---:|---:|');
  if (k.throughput)
    console.log(
      `| ${k.throughput.label} (producer alone: ${fmt(k.throughput.producerPerSecond)}/s) | ${fmt(k.throughput.operations)} | ${fmt(k.throughput.perSecond)} | | |`,
    );
  if (k.latency) {
    console.log(
      `| ${k.latency.label} | ${fmt(k.latency.operations)} | ${fmt(k.latency.perSecond)} | ${fmt(k.latency.latencyMsP50, 2)} | ${fmt(k.latency.latencyMsP99, 2)} |`,
    );
    const w = k.latency.withWarmup;
    console.log(`| ${w.label} (first ${k.latency.warmupSeconds} s too) | ${fmt(w.operations)} | | ${fmt(w.latencyMsP50, 2)} | ${fmt(w.latencyMsP99, 2)} |`);
  }
  if (k.relay) console.log(`| ${k.relay.label} | ${fmt(k.relay.operations)} | ${fmt(k.relay.perSecond)} | | |`);
  console.log('');
  if (k.throughput) console.log(`target (k1) >= 30,000 msg/s applied end to end with one worker -> ${k.throughput.perSecond >= 30_000 ? 'met' : 'MISSED'}`);
  if (k.latency) console.log(`target (k2) p99 < 200 ms at 5,000 msg/s -> ${k.latency.latencyMsP99 < 200 ? 'met' : 'MISSED'}`);
}

async function commandPathSection(): Promise<void> {
  console.log('running (a) and (b) through the CommandBus, (c) over HTTP, then the raw fsync ceiling on the same disk…');

  if (process.env.BENCH_ONLY === 'billing') {
    printBilling(await billingJob(), null);
    return;
  }
  const { a, b, groupSize, cpuB } = await commandBusScenarios();
  const c = await batchOverHttp();

  const events = serializedEvents(60_000);
  const rawDir = mkdtempSync(join(tmpdir(), 'ledger-bench-raw-'));
  try {
    const rawA = rawFsyncEventsPerSecond(join(rawDir, 'a.log'), events.slice(0, 3_000), 1);
    const rawB = rawFsyncEventsPerSecond(join(rawDir, 'b.log'), events, Math.max(1, Math.round(groupSize)));
    const rawC = rawFsyncEventsPerSecond(join(rawDir, 'c.log'), events, BATCH_ITEMS);
    console.log('');
    console.log(
      '| scenario | consumptions | durable consumptions/s | p50 ms | p99 ms | raw fsync ceiling, events/s (same events, same batching) | ledger / raw |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    console.log(row(a, rawA));
    console.log(row(b, rawB));
    console.log(row(c, rawC));
    console.log('');
    console.log(`(b) group commit: ${fmt(groupSize, 1)} events per fsync on average; raw ceiling for (b) written with the same batch size.`);
    printCpuPerConsumption(cpuB, rawB);
    console.log(
      `targets: (b) >= 50,000/s with p99 < 10 ms -> ${b.perSecond >= 50_000 && b.latencyMsP99 < 10 ? 'met' : 'MISSED'}; (c) >= 100,000/s -> ${c.perSecond >= 100_000 ? 'met' : 'MISSED'}`,
    );
  } finally {
    rmSync(rawDir, { recursive: true, force: true });
  }
  printBilling(await billingJob(), b);
}

/**
 * Where (b)'s CPU goes, against what half the raw ceiling would leave: at 50% of `rawPerSecond`
 * the whole process could spend at most (cores × 1 s) / (0.5 × rawPerSecond) per consumption.
 */
function printCpuPerConsumption(cpu: CpuPerConsumption, rawPerSecond: number): void {
  const loop = cpu.eventLoopUs === undefined ? 'n/a' : `${fmt(cpu.eventLoopUs, 1)} µs`;
  const others = cpu.eventLoopUs === undefined ? 'n/a' : `${fmt(cpu.processUs - cpu.eventLoopUs, 1)} µs`;
  const budgetUs = (cpus().length * 1e6) / (0.5 * rawPerSecond);
  console.log(
    `(b) CPU per consumption: the process ${fmt(cpu.processUs, 1)} µs (event loop ${loop}, other threads — the store's writer and checkpointer, V8's GC helpers — ${others}); ` +
      `at 50% of the raw ceiling, ${cpus().length} cores leave ${fmt(budgetUs, 1)} µs per consumption`,
  );
}

function printBilling(f: BillingFigures, reference: Measured | null): void {
  console.log('');
  console.log(`billing job: ${fmt(f.accounts)} accounts due, ${BILLING_CONCURRENCY} in flight, embedded store`);
  console.log('| measure | value |');
  console.log('|---|---:|');
  console.log(`| accounts reset | ${fmt(f.cyclesReset)} |`);
  console.log(`| first run, total (due-index catch-up included) | ${fmt(f.runSeconds, 2)} s |`);
  console.log(`| resets/s | ${fmt(f.resetsPerSecond)} |`);
  console.log(`| second run (nothing due) | ${fmt(f.secondRunSeconds, 2)} s |`);
  console.log(`| due index rebuilt from the whole log (${fmt(f.accounts * 2)} events) | ${fmt(f.indexSeconds, 2)} s |`);
  console.log(`| reference: OpenAccount through the command bus, ${IN_FLIGHT} in flight | ${fmt(f.openPerSecond)} /s |`);
  if (reference) console.log(`| reference: ${reference.label} | ${fmt(reference.perSecond)} /s |`);
  console.log(`target: >= 5,000 accounts reset/s -> ${f.resetsPerSecond >= 5_000 ? 'met' : 'MISSED'}`);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
