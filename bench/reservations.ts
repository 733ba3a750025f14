import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureReservationCommand, ConsumeCreditsCommand, LedgerModule, OpenAccountCommand, ReserveCreditsCommand } from '@credit-ledger/ledger';
import { internalCaller, Plan } from '@credit-ledger/domain';
import { fmt, Measured, runInFlight, seededRandom } from './stats';

/**
 * Reservations: reserve + capture pairs through the command bus, 64 in flight over 1,000 accounts
 * (each in-flight slot reserves, then captures part of what it held), next to plain consumptions
 * measured in the same run, in interleaved rounds. A pair is two commands and two appends.
 */

const ACCOUNTS = 1_000;
const IN_FLIGHT = 64;
const ROUNDS = Number(process.env.BENCH_RESERVATION_ROUNDS ?? 3);
const OPERATIONS = Number(process.env.BENCH_RESERVATION_PAIRS ?? 20_000);
const ADMIN_KEY = 'bench-superuser-key-0123456789abcdef';
const CTX = internalCaller('bench', 'bench');
const PLAN: Plan = {
  creditTypes: { email: { allocation: 1_000_000_000, overdraft: { policy: 'deny' } } },
  cycle: { period: 'month', anchorDay: 1, timezone: 'UTC' },
};

export interface ReservationsBenchResult {
  readonly loadBefore: string;
  readonly loadAfter: string;
  readonly rounds: readonly { readonly consumptions: Measured; readonly pairs: Measured }[];
}

type Operation = (bus: CommandBus, accountId: string, id: string, rnd: () => number) => Promise<unknown>;

const consumeOne: Operation = (bus, accountId, id, rnd) =>
  bus.execute(
    new ConsumeCreditsCommand(
      accountId,
      { consumptionId: id, userId: `user-${Math.floor(rnd() * 16)}`, feature: 'enrichment', action: 'waterfall', creditType: 'email', credits: 3 },
      CTX,
    ),
  );

const reserveAndCapture: Operation = async (bus, accountId, id, rnd) => {
  const userId = `user-${Math.floor(rnd() * 16)}`;
  await bus.execute(
    new ReserveCreditsCommand(accountId, { reservationId: id, userId, feature: 'enrichment', action: 'waterfall', creditType: 'email', credits: 5 }, CTX),
  );
  await bus.execute(new CaptureReservationCommand(accountId, { reservationId: id, consumptionId: `${id}-c`, credits: 3 }, CTX));
};

function run(bus: CommandBus, label: string, prefix: string, operation: Operation): Promise<Measured> {
  const rnd = seededRandom(11);
  return runInFlight(label, OPERATIONS, IN_FLIGHT, (index) => operation(bus, `holds-${Math.floor(rnd() * ACCOUNTS)}`, `${prefix}-${index}`, rnd));
}

const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

export async function reservationsBenchmark(log: (line: string) => void): Promise<ReservationsBenchResult> {
  const loadBefore = loadAverage();
  log(`reservations: load average ${loadBefore}; ${OPERATIONS} operations per run, ${IN_FLIGHT} in flight over ${ACCOUNTS} accounts`);
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-reservations-'));
  const config = { port: 0, dataDir: dir, store: 'sqlite' as const, adminKey: ADMIN_KEY, logLevel: 'silent' as const, projections: 'off' as const };
  const ctx: INestApplicationContext = await NestFactory.createApplicationContext(LedgerModule.forRoot({ config, http: false }), {
    logger: false,
    abortOnError: false,
  });
  try {
    const bus = ctx.get(CommandBus);
    await Promise.all(Array.from({ length: ACCOUNTS }, (_, index) => bus.execute(new OpenAccountCommand(`holds-${index}`, `Holds ${index}`, PLAN, CTX))));
    await run(bus, 'warm-up', 'warm', consumeOne);
    const rounds: { consumptions: Measured; pairs: Measured }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so that neither always runs on the warmer store.
      const runConsumptions = () => run(bus, 'plain consumptions', `c-${round}`, consumeOne);
      const runPairs = () => run(bus, 'reserve + capture pairs', `p-${round}`, reserveAndCapture);
      const consumptions = round % 2 === 0 ? await runConsumptions() : undefined;
      const pairs = await runPairs();
      const entry = { consumptions: consumptions ?? (await runConsumptions()), pairs };
      log(`  round ${round + 1}: plain consumptions ${fmt(entry.consumptions.perSecond)}/s, reserve + capture pairs ${fmt(entry.pairs.perSecond)}/s`);
      rounds.push(entry);
    }
    return { loadBefore, loadAfter: loadAverage(), rounds };
  } finally {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printReservationsBench(result: ReservationsBenchResult): void {
  console.log(`\nReservations (load average before ${result.loadBefore}, after ${result.loadAfter})`);
  console.log('| round | plain consumptions/s | p50 / p99 ms | reserve + capture pairs/s | p50 / p99 ms | pairs / consumptions |');
  console.log('|---|---|---|---|---|---|');
  result.rounds.forEach((round, index) => {
    const c = round.consumptions;
    const p = round.pairs;
    console.log(
      `| ${index + 1} | ${fmt(c.perSecond)} | ${c.latencyMsP50.toFixed(2)} / ${c.latencyMsP99.toFixed(2)} | ${fmt(p.perSecond)} | ${p.latencyMsP50.toFixed(2)} / ${p.latencyMsP99.toFixed(2)} | ${(p.perSecond / c.perSecond).toFixed(2)} |`,
    );
  });
}
