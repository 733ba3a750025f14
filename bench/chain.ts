import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { internalCaller } from '@credit-ledger/domain';
import { SqliteEventStore, verifyGlobalChain } from '@credit-ledger/event-store';
import { ConsumeCreditsCommand, LedgerModule, OpenAccountCommand } from '@credit-ledger/ledger';
import { benchConsumption, fmt, nowMs, seededRandom, threadCpuUs } from './stats';

/**
 * What the hash chains cost on the command path: scenario (b) of the command section (64 in
 * flight, 1,000 accounts, SQLite) with chains, and the same code with hashing switched off by the
 * bench-only store option, interleaved in one run; then the full-log `verify --chain` rate.
 */
const ROUNDS = Number(process.env.BENCH_CHAIN_ROUNDS ?? 4);
const CONSUMPTIONS = Number(process.env.BENCH_CHAIN_CONSUMPTIONS ?? 60_000);
/** Consumptions of the untimed first run of each build: the first runs of a process are slower (JIT, caches). */
const WARM_UP_CONSUMPTIONS = Math.min(CONSUMPTIONS, 10_000);
const IN_FLIGHT = 64;
const ACCOUNTS = 1_000;
const CTX = internalCaller('bench', 'bench');
const PLAN = {
  creditTypes: {
    email: { allocation: 1_000_000_000, overdraft: { policy: 'deny' as const } },
    mobile: { allocation: 1_000_000_000, overdraft: { policy: 'deny' as const } },
  },
  cycle: { period: 'month' as const, anchorDay: 1, timezone: 'UTC' as const },
};

export interface ChainBenchResult {
  readonly hashed: number[];
  readonly plain: number[];
  /** CPU time of the whole process (event loop and writer thread) per consumption, µs. */
  readonly hashedCpuUs: number[];
  readonly plainCpuUs: number[];
  /** The event loop's share of it (its thread's CPU time from /proc; empty where there is no /proc). */
  readonly hashedLoopCpuUs: number[];
  readonly plainLoopCpuUs: number[];
  readonly verifyEvents: number;
  readonly verifyEventsPerSecond: number;
}

interface CommandPathRun {
  perSecond: number;
  cpuUsPerConsumption: number;
  loopCpuUsPerConsumption: number | undefined;
  dir: string;
}

async function commandPath(hashing: boolean, consumptions = CONSUMPTIONS): Promise<CommandPathRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-chain-'));
  const store = SqliteEventStore.open(dir, { disableHashChainForBenchmark: !hashing });
  const config = { port: 0, dataDir: dir, store: 'sqlite' as const, adminKey: undefined, logLevel: 'silent' as const, projections: 'off' as const };
  const ctx: INestApplicationContext = await NestFactory.createApplicationContext(LedgerModule.forRoot({ config, http: false, eventStore: store }), {
    logger: false,
  });
  try {
    const bus = ctx.get(CommandBus);
    await Promise.all(Array.from({ length: ACCOUNTS }, (_, index) => bus.execute(new OpenAccountCommand(`bench_${index}`, `Bench ${index}`, PLAN, CTX))));
    const random = seededRandom(42);
    let next = 0;
    const started = nowMs();
    const cpuBefore = process.cpuUsage();
    const loopBefore = threadCpuUs();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let index = next++; index < consumptions; index = next++) {
          await bus.execute(new ConsumeCreditsCommand(`bench_${Math.floor(random() * ACCOUNTS)}`, benchConsumption(`c${index}`, random), CTX));
        }
      }),
    );
    const cpu = process.cpuUsage(cpuBefore);
    const loopAfter = threadCpuUs();
    return {
      perSecond: consumptions / ((nowMs() - started) / 1000),
      cpuUsPerConsumption: (cpu.user + cpu.system) / consumptions,
      loopCpuUsPerConsumption: loopBefore === undefined || loopAfter === undefined ? undefined : (loopAfter - loopBefore) / consumptions,
      dir,
    };
  } finally {
    await ctx.close();
  }
}

export async function chainBenchmark(log: (line: string) => void): Promise<ChainBenchResult> {
  const hashed: number[] = [];
  const plain: number[] = [];
  const hashedCpuUs: number[] = [];
  const plainCpuUs: number[] = [];
  const hashedLoopCpuUs: number[] = [];
  const plainLoopCpuUs: number[] = [];
  let verifyDir: string | undefined;
  // Untimed: otherwise the build that runs first in round 1 pays for the process's cold start.
  for (const hashing of [true, false]) rmSync((await commandPath(hashing, WARM_UP_CONSUMPTIONS)).dir, { recursive: true, force: true });
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so neither always runs on a warmer (or more crowded) machine.
    for (const hashing of round % 2 === 0 ? [true, false] : [false, true]) {
      const { perSecond, cpuUsPerConsumption, loopCpuUsPerConsumption, dir } = await commandPath(hashing);
      (hashing ? hashed : plain).push(perSecond);
      (hashing ? hashedCpuUs : plainCpuUs).push(cpuUsPerConsumption);
      if (loopCpuUsPerConsumption !== undefined) (hashing ? hashedLoopCpuUs : plainLoopCpuUs).push(loopCpuUsPerConsumption);
      const loop = loopCpuUsPerConsumption === undefined ? '' : ` (event loop ${fmt(loopCpuUsPerConsumption, 1)})`;
      log(
        `chain bench round ${round + 1}: ${hashing ? 'with chains' : 'hashing off'} ${fmt(perSecond)} consumptions/s, ${fmt(cpuUsPerConsumption, 1)} µs CPU each${loop}`,
      );
      if (hashing && verifyDir === undefined) verifyDir = dir;
      else rmSync(dir, { recursive: true, force: true });
    }
  }
  const store = SqliteEventStore.open(verifyDir!);
  try {
    const started = nowMs();
    const report = await verifyGlobalChain(store);
    if (report.firstBreak) throw new Error(`the benchmark's own log does not verify: ${JSON.stringify(report.firstBreak)}`);
    return {
      hashed,
      plain,
      hashedCpuUs,
      plainCpuUs,
      hashedLoopCpuUs,
      plainLoopCpuUs,
      verifyEvents: report.eventsChecked,
      verifyEventsPerSecond: report.eventsChecked / ((nowMs() - started) / 1000),
    };
  } finally {
    await store.close();
    rmSync(verifyDir!, { recursive: true, force: true });
  }
}

const median = (values: readonly number[]) => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)];

export function printChainBench(result: ChainBenchResult): void {
  const withChains = median(result.hashed);
  const without = median(result.plain);
  console.log('');
  console.log(
    `## Hash chains — command bus, ${IN_FLIGHT} in flight, ${fmt(ACCOUNTS)} accounts, ${fmt(CONSUMPTIONS)} consumptions per run, ${ROUNDS} interleaved rounds, SQLite`,
  );
  console.log('| build | each run, consumptions/s | median |');
  console.log('|---|---|---:|');
  console.log(`| with chains | ${result.hashed.map((value) => fmt(value)).join(' · ')} | ${fmt(withChains)} |`);
  console.log(`| hashing off (bench-only switch) | ${result.plain.map((value) => fmt(value)).join(' · ')} | ${fmt(without)} |`);
  console.log(`difference of the medians: ${fmt((100 * (withChains - without)) / without, 1)}%`);
  // CPU time per consumption hardly depends on what else the machine runs: the fairer comparison on a shared machine.
  const cpuWith = median(result.hashedCpuUs);
  const cpuWithout = median(result.plainCpuUs);
  console.log(
    `CPU per consumption (process, all threads), median: ${fmt(cpuWith, 1)} µs with chains, ${fmt(cpuWithout, 1)} µs hashing off: ${fmt((100 * (cpuWith - cpuWithout)) / cpuWithout, 1)}%`,
  );
  // Each round runs both builds back to back: their ratio within a round is less exposed to the
  // neighbours' load, which drifts over minutes, than the medians of the two columns.
  const pairedPercent = (withValues: readonly number[], withoutValues: readonly number[]) =>
    fmt(median(withValues.map((value, round) => (100 * (value - withoutValues[round])) / withoutValues[round])), 1);
  console.log(
    `the same, round by round (median of the ${ROUNDS} rounds' differences): throughput ${pairedPercent(result.hashed, result.plain)}%, CPU per consumption ${pairedPercent(result.hashedCpuUs, result.plainCpuUs)}%`,
  );
  if (result.hashedLoopCpuUs.length > 0 && result.plainLoopCpuUs.length > 0) {
    const loopWith = median(result.hashedLoopCpuUs);
    const loopWithout = median(result.plainLoopCpuUs);
    console.log(
      `of which the event loop, median: ${fmt(loopWith, 1)} µs with chains, ${fmt(loopWithout, 1)} µs hashing off; the other threads (SQLite writer, GC, checkpointer): ${fmt(cpuWith - loopWith, 1)} µs and ${fmt(cpuWithout - loopWithout, 1)} µs`,
    );
  }
  console.log(
    `load average at the end: ${loadavg()
      .map((value) => value.toFixed(1))
      .join(' ')}`,
  );
  console.log(`verify --chain over the whole log: ${fmt(result.verifyEvents)} events at ${fmt(result.verifyEventsPerSecond)} events/s`);
}
