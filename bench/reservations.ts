import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureReservationCommand, ConsumeCreditsCommand, LedgerModule, OpenAccountCommand, ReserveCreditsCommand } from '@credit-ledger/ledger';
import { internalCaller, Plan } from '@credit-ledger/domain';
import { benchConsumption, fmt, Measured, runInFlight, seededRandom, threadCpuUs } from './stats';

/**
 * Reservations: reserve + capture pairs through the command bus, 64 in flight over 1,000 accounts
 * (each in-flight slot reserves, then captures part of what it held), next to plain consumptions
 * measured in the same process, in interleaved rounds. A pair is two commands and two appends.
 * Also two plain consumptions in a row per slot: the cheapest pair of commands, which bounds what
 * a reserve + capture pair can reach on the same bus.
 *
 * Each run gets a store and a ledger of its own (its accounts opened anew; the plain consumptions
 * are the command section's): consumptions that ran on the pairs' store after them, as this
 * section first did, found every account full of closed reservations and a heap holding them,
 * and cost the event loop about a third more each than the same consumptions before any pair
 * (measured in one process), so the baseline read low and the ratio high.
 */

const ACCOUNTS = 1_000;
const IN_FLIGHT = 64;
const ROUNDS = Number(process.env.BENCH_RESERVATION_ROUNDS ?? 3);
const OPERATIONS = Number(process.env.BENCH_RESERVATION_PAIRS ?? 20_000);
/** Operations of the untimed first run of each kind: a process's first runs are slower (JIT, caches). */
const WARM_UP_OPERATIONS = Math.min(OPERATIONS, 10_000);
const ADMIN_KEY = 'bench-superuser-key-0123456789abcdef';
const CTX = internalCaller('bench', 'bench');
const PLAN: Plan = {
  creditTypes: { email: { allocation: 1_000_000_000, overdraft: { policy: 'deny' } }, mobile: { allocation: 1_000_000_000, overdraft: { policy: 'deny' } } },
  cycle: { period: 'month', anchorDay: 1, timezone: 'UTC' },
};

/** One run: throughput and latency, and the event loop's CPU time per operation (µs; undefined without /proc). */
export interface ReservationsRun extends Measured {
  readonly loopCpuUs: number | undefined;
}

export interface ReservationsBenchResult {
  readonly loadBefore: string;
  readonly loadAfter: string;
  readonly rounds: readonly { readonly consumptions: ReservationsRun; readonly consumptionPairs: ReservationsRun; readonly pairs: ReservationsRun }[];
}

type Operation = (bus: CommandBus, accountId: string, id: string, rnd: () => number) => Promise<unknown>;

/** The command section's consumption (scenario b): the baseline the pairs are put next to. */
const consumeOne: Operation = (bus, accountId, id, rnd) => bus.execute(new ConsumeCreditsCommand(accountId, benchConsumption(id, rnd), CTX));

/**
 * The cheapest pair of commands: two plain consumptions in a row by the same in-flight slot, on the
 * same account, each acknowledged once its own append is durable. A reserve + capture pair does at
 * least this (a hold decided and appended, then a capture's two events), so this bounds it.
 */
const consumeTwice: Operation = async (bus, accountId, id, rnd) => {
  await consumeOne(bus, accountId, id, rnd);
  await consumeOne(bus, accountId, `${id}-2`, rnd);
};

const reserveAndCapture: Operation = async (bus, accountId, id, rnd) => {
  const userId = `user-${Math.floor(rnd() * 16)}`;
  await bus.execute(
    new ReserveCreditsCommand(accountId, { reservationId: id, userId, feature: 'enrichment', action: 'waterfall', creditType: 'email', credits: 5 }, CTX),
  );
  await bus.execute(new CaptureReservationCommand(accountId, { reservationId: id, consumptionId: `${id}-c`, credits: 3 }, CTX));
};

/** `operations` of one kind on a fresh store and ledger (1,000 accounts opened first, untimed). */
async function run(label: string, prefix: string, operation: Operation, operations = OPERATIONS): Promise<ReservationsRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-reservations-'));
  const config = { port: 0, dataDir: dir, store: 'sqlite' as const, adminKey: ADMIN_KEY, logLevel: 'silent' as const, projections: 'off' as const };
  const ctx: INestApplicationContext = await NestFactory.createApplicationContext(LedgerModule.forRoot({ config, http: false }), {
    logger: false,
    abortOnError: false,
  });
  try {
    const bus = ctx.get(CommandBus);
    await Promise.all(Array.from({ length: ACCOUNTS }, (_, index) => bus.execute(new OpenAccountCommand(`holds-${index}`, `Holds ${index}`, PLAN, CTX))));
    const rnd = seededRandom(11);
    const loopBefore = threadCpuUs();
    const measured = await runInFlight(label, operations, IN_FLIGHT, (index) =>
      operation(bus, `holds-${Math.floor(rnd() * ACCOUNTS)}`, `${prefix}-${index}`, rnd),
    );
    const loopAfter = threadCpuUs();
    return { ...measured, loopCpuUs: loopBefore === undefined || loopAfter === undefined ? undefined : (loopAfter - loopBefore) / operations };
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

export async function reservationsBenchmark(log: (line: string) => void): Promise<ReservationsBenchResult> {
  const loadBefore = loadAverage();
  log(`reservations: load average ${loadBefore}; ${OPERATIONS} operations per run, ${IN_FLIGHT} in flight over ${ACCOUNTS} accounts, a fresh store each run`);
  // Untimed: otherwise the kind that runs first pays for the process's cold start.
  await run('warm-up', 'warm-c', consumeOne, WARM_UP_OPERATIONS);
  await run('warm-up', 'warm-p', reserveAndCapture, WARM_UP_OPERATIONS);
  const rounds: { consumptions: ReservationsRun; consumptionPairs: ReservationsRun; pairs: ReservationsRun }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const kinds = [
      ['consumptions', () => run('plain consumptions', `c-${round}`, consumeOne)],
      ['consumptionPairs', () => run('two consumptions in a row', `cc-${round}`, consumeTwice)],
      ['pairs', () => run('reserve + capture pairs', `p-${round}`, reserveAndCapture)],
    ] as const;
    // Alternate the order, so that no kind always runs on a warmer (or more crowded) machine.
    const measured: Partial<Record<(typeof kinds)[number][0], ReservationsRun>> = {};
    for (const [kind, runKind] of round % 2 === 0 ? kinds : [...kinds].reverse()) measured[kind] = await runKind();
    const entry = { consumptions: measured.consumptions!, consumptionPairs: measured.consumptionPairs!, pairs: measured.pairs! };
    const cpu = (r: ReservationsRun) => (r.loopCpuUs === undefined ? '' : ` (event loop ${fmt(r.loopCpuUs, 1)} µs each)`);
    log(
      `  round ${round + 1}: plain consumptions ${fmt(entry.consumptions.perSecond)}/s${cpu(entry.consumptions)}, two consumptions in a row ${fmt(entry.consumptionPairs.perSecond)}/s${cpu(entry.consumptionPairs)}, reserve + capture pairs ${fmt(entry.pairs.perSecond)}/s${cpu(entry.pairs)}`,
    );
    rounds.push(entry);
  }
  return { loadBefore, loadAfter: loadAverage(), rounds };
}

export function printReservationsBench(result: ReservationsBenchResult): void {
  const cpu = (r: ReservationsRun) => (r.loopCpuUs === undefined ? 'n/a' : fmt(r.loopCpuUs, 1));
  console.log(`\nReservations (load average before ${result.loadBefore}, after ${result.loadAfter})`);
  console.log(
    '| round | plain consumptions/s | p50 / p99 ms | event loop µs each | two consumptions in a row/s | event loop µs each | reserve + capture pairs/s | p50 / p99 ms | event loop µs each | pairs / consumptions | pairs / two consumptions |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  result.rounds.forEach((round, index) => {
    const c = round.consumptions;
    const cc = round.consumptionPairs;
    const p = round.pairs;
    console.log(
      `| ${index + 1} | ${fmt(c.perSecond)} | ${c.latencyMsP50.toFixed(2)} / ${c.latencyMsP99.toFixed(2)} | ${cpu(c)} | ${fmt(cc.perSecond)} | ${cpu(cc)} | ${fmt(p.perSecond)} | ${p.latencyMsP50.toFixed(2)} / ${p.latencyMsP99.toFixed(2)} | ${cpu(p)} | ${(p.perSecond / c.perSecond).toFixed(2)} | ${(p.perSecond / cc.perSecond).toFixed(2)} |`,
    );
  });
}
