import 'reflect-metadata';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { internalCaller } from '@credit-ledger/domain';
import { GrantCreditsCommand, LedgerConfig, LedgerModule, OpenAccountCommand } from '@credit-ledger/ledger';
import {
  DEFAULT_WEBHOOKS_CONFIG,
  resolveTarget,
  signedHeaders,
  WEBHOOK_DISPATCHER,
  WebhookDispatching,
  WebhooksModule,
  WebhooksService,
} from '@credit-ledger/webhooks';
import { WebhookSender } from '@credit-ledger/webhooks';
import { exited } from './processes';
import { fmt, Measured, summarize } from './stats';

/** The built worker (npm run bench builds first). */
const WORKER_ENTRY = join(__dirname, '../apps/ledger-worker/src/main.js');

const ENDPOINTS = 100;
const DELIVERIES = Number(process.env.BENCH_WEBHOOK_DELIVERIES ?? 20_000);
const RATE = Number(process.env.BENCH_WEBHOOK_RATE ?? 1_000);
const SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10);
const CTX = internalCaller('bench', 'bench');
const PLAN = {
  creditTypes: { email: { allocation: 1_000, overdraft: { policy: 'deny' as const } } },
  cycle: { period: 'month' as const, anchorDay: 1, timezone: 'UTC' as const },
};
const account = (index: number) => `hook_${index}`;

export interface WebhookBenchResult {
  readonly loadAverage: string;
  readonly baseline: Measured;
  readonly throughput: Measured;
  readonly latency: Measured;
  readonly offeredPerSecond: number;
  /** The same load with the dispatcher in its own process (`ledger-worker --role webhooks`, LEDGER_WEBHOOKS=off here). */
  readonly latencyWorker: Measured;
  readonly offeredPerSecondWorker: number;
}

type Arrivals = Map<string, number>;

async function receivers(): Promise<{ ports: number[]; arrivals: Arrivals; stop: () => void }> {
  const child = fork(join(__dirname, 'webhook-receivers.js'), { stdio: 'inherit' });
  const arrivals: Arrivals = new Map();
  const ports = await new Promise<number[]>((resolve) => {
    child.on('message', (message: { ports?: number[]; arrivals?: [string, number][] }) => {
      if (message.ports) resolve(message.ports);
      for (const [id, at] of message.arrivals ?? []) if (!arrivals.has(id)) arrivals.set(id, at);
    });
    child.send({ count: ENDPOINTS });
  });
  return { ports, arrivals, stop: () => child.kill() };
}

async function context(config: LedgerConfig, dispatching: boolean): Promise<INestApplicationContext> {
  const webhooks = { ...DEFAULT_WEBHOOKS_CONFIG, allowHttp: true, allowPrivate: true, mode: dispatching ? ('inline' as const) : ('off' as const) };
  @Module({ imports: [LedgerModule.forRoot({ config, http: false, scheduler: false }), WebhooksModule.forRoot({ ledger: config, webhooks, http: false })] })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  await app.init();
  return app;
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** The same requests without the dispatcher: the sender alone, 512 at once, to the same receivers. */
async function senderAlone(ports: number[], arrivals: Arrivals): Promise<Measured> {
  const sender = new WebhookSender();
  const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
  const targets = await Promise.all(ports.map((port) => resolveTarget(`http://127.0.0.1:${port}/hooks`, { allowHttp: true, allowPrivate: true })));
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 512 }, async () => {
      while (next < DELIVERIES) {
        const index = next++;
        const body = JSON.stringify({ id: `base_${index}`, type: 'grant.created', data: { grantId: `base_${index}` } });
        await sender.send(targets[index % targets.length], signedHeaders([secret], `base_${index}`, Math.floor(Date.now() / 1000), body), body);
      }
    }),
  );
  await until(() => [...arrivals.keys()].filter((id) => id.startsWith('base_')).length >= DELIVERIES, 30_000);
  sender.close();
  return summarize('sender alone (baseline): signed POSTs, 512 in flight', DELIVERIES, (Date.now() - started) / 1000, []);
}

/**
 * (w1) deliveries per second to 100 endpoints (one per account, each its own receiver port): the
 * grants are committed first with no dispatcher, then one starts and delivers the backlog.
 * (w2) commit -> delivery latency at a steady RATE of grants per second, the dispatcher running.
 */
export async function webhooksBenchmark(log: (line: string) => void): Promise<WebhookBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-bench-webhooks-'));
  const config: LedgerConfig = { port: 0, dataDir, store: 'sqlite', adminKey: undefined, logLevel: 'silent', projections: 'off' };
  const { ports, arrivals, stop } = await receivers();
  try {
    const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    log(`webhooks: ${ENDPOINTS} receivers up; baseline (sender alone)…`);
    const baseline = await senderAlone(ports, arrivals);

    let app = await context(config, false);
    let bus = app.get(CommandBus);
    const service = app.get(WebhooksService);
    for (let index = 0; index < ENDPOINTS; index++) {
      await bus.execute(new OpenAccountCommand(account(index), account(index), PLAN, CTX));
      await service.create(account(index), { url: `http://127.0.0.1:${ports[index]}/hooks`, eventTypes: ['grant.created'] });
    }
    log(`webhooks: committing ${fmt(DELIVERIES)} grants with no dispatcher…`);
    let issued = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (issued < DELIVERIES) {
          const index = issued++;
          await bus.execute(
            new GrantCreditsCommand(account(index % ENDPOINTS), { grantId: `t_${index}`, creditType: 'email', credits: 1, reason: 'bench' }, CTX),
          );
        }
      }),
    );
    await app.close();
    log('webhooks: dispatcher on, delivering the backlog…');
    const started = Date.now();
    app = await context(config, true);
    await until(() => [...arrivals.keys()].filter((id) => id.startsWith('t_')).length >= DELIVERIES, 300_000);
    const throughput = summarize(`backlog of ${fmt(DELIVERIES)} to ${ENDPOINTS} endpoints (start included)`, DELIVERIES, (Date.now() - started) / 1000, []);

    log(`webhooks: ${RATE} grants/s for ${SECONDS} s, commit -> delivery latency (dispatcher in this process)…`);
    bus = app.get(CommandBus);
    const inline = await steadyLoad(bus, 'l_', arrivals);
    const latency = summarize(
      `${fmt(RATE)} grants/s for ${SECONDS} s, each a grant.created to its account's endpoint; dispatcher in the committing process`,
      inline.latencies.length,
      SECONDS,
      inline.latencies,
    );
    log(`webhooks: dispatcher stats ${JSON.stringify(app.get<WebhookDispatching>(WEBHOOK_DISPATCHER).stats())}`);
    await app.close();

    log(`webhooks: the same load with the dispatcher in its own process (ledger-worker --role webhooks)…`);
    app = await context(config, false);
    bus = app.get(CommandBus);
    const worker = await startWorker(dataDir, bus, arrivals);
    try {
      const separate = await steadyLoad(bus, 'w_', arrivals);
      const latencyWorker = summarize(
        `${fmt(RATE)} grants/s for ${SECONDS} s, the same; dispatcher in its own process (LEDGER_WEBHOOKS=off + ledger-worker --role webhooks)`,
        separate.latencies.length,
        SECONDS,
        separate.latencies,
      );
      return {
        loadAverage,
        baseline,
        throughput,
        latency,
        offeredPerSecond: inline.offeredPerSecond,
        latencyWorker,
        offeredPerSecondWorker: separate.offeredPerSecond,
      };
    } finally {
      worker.kill('SIGTERM');
      await exited(worker);
      await app.close();
    }
  } finally {
    stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * RATE grants a second for SECONDS seconds, spread over the accounts in 10 ms ticks: the time from
 * each commit (its command answered) to the first arrival of its grant.created at the receivers.
 */
async function steadyLoad(bus: CommandBus, prefix: string, arrivals: Arrivals): Promise<{ latencies: number[]; offeredPerSecond: number }> {
  const committed = new Map<string, number>();
  const total = RATE * SECONDS;
  const tick = 10;
  const perTick = Math.max(1, Math.round((RATE * tick) / 1000));
  const pending: Promise<unknown>[] = [];
  const begin = Date.now();
  for (let sent = 0; sent < total;) {
    for (let index = 0; index < perTick && sent < total; index++, sent++) {
      const grantId = `${prefix}${sent}`;
      pending.push(
        bus
          .execute(new GrantCreditsCommand(account(sent % ENDPOINTS), { grantId, creditType: 'email', credits: 1, reason: 'bench' }, CTX))
          .then(() => committed.set(grantId, Date.now())),
      );
    }
    const wait = begin + (sent / perTick) * tick - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await Promise.all(pending);
  const offeredPerSecond = total / ((Date.now() - begin) / 1000);
  await until(() => [...committed.keys()].every((id) => arrivals.has(id)), 60_000);
  const latencies = [...committed].map(([id, at]) => (arrivals.get(id) ?? Number.NaN) - at).filter((ms) => Number.isFinite(ms));
  return { latencies, offeredPerSecond };
}

/**
 * `ledger-worker --role webhooks` on the same data directory; resolved once it delivers a warm-up
 * grant to every account: its cache of account states is filled, as a long-running worker's is
 * (the in-process scenario runs after the backlog, warm too).
 */
async function startWorker(dataDir: string, bus: CommandBus, arrivals: Arrivals): Promise<ChildProcess> {
  const profile = process.env.BENCH_WEBHOOK_WORKER_PROFILE_DIR;
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const worker = spawn(process.execPath, ['--max-semi-space-size=32', ...nodeArgs, WORKER_ENTRY, '--role', 'webhooks'], {
    env: {
      ...process.env,
      LEDGER_DATA_DIR: dataDir,
      LEDGER_STORE: 'sqlite',
      LEDGER_PROJECTIONS: 'off',
      LEDGER_WEBHOOKS_ALLOW_HTTP: 'true',
      LEDGER_WEBHOOKS_ALLOW_PRIVATE: 'true',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const warmups = Array.from({ length: ENDPOINTS }, (_, index) => `warmup_worker_${index}`);
  for (const [index, grantId] of warmups.entries())
    await bus.execute(new GrantCreditsCommand(account(index), { grantId, creditType: 'email', credits: 1, reason: 'bench' }, CTX));
  await until(() => warmups.every((id) => arrivals.has(id)) || worker.exitCode !== null, 60_000);
  if (!warmups.every((id) => arrivals.has(id))) {
    worker.kill('SIGKILL');
    throw new Error('ledger-worker --role webhooks did not deliver within 60 s');
  }
  return worker;
}

export function printWebhooksBench(result: WebhookBenchResult): void {
  console.log('');
  console.log(`## Webhooks — load average at start ${result.loadAverage}`);
  console.log('');
  console.log('| scenario | deliveries | per second | p50 ms | p99 ms |');
  console.log('|---|---:|---:|---:|---:|');
  for (const row of [result.baseline, result.throughput]) console.log(`| ${row.label} | ${fmt(row.operations)} | ${fmt(row.perSecond)} | | |`);
  for (const [l, offered] of [
    [result.latency, result.offeredPerSecond],
    [result.latencyWorker, result.offeredPerSecondWorker],
  ] as const)
    console.log(`| ${l.label} (offered ${fmt(offered)}/s) | ${fmt(l.operations)} | | ${fmt(l.latencyMsP50, 1)} | ${fmt(l.latencyMsP99, 1)} |`);
  console.log('');
  const verdict = (l: Measured) => (l.latencyMsP99 <= 500 ? 'met' : 'MISSED');
  console.log(
    `target p99 commit -> delivery <= 500 ms at 1,000 events/s -> dispatcher in process: ${verdict(result.latency)}; in its own process: ${verdict(result.latencyWorker)}`,
  );
}
