import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Small measurement helpers for the benchmarks (latencies in milliseconds). */
export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return 0;
  const i = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[i];
}

export interface Measured {
  readonly label: string;
  readonly operations: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly latencyMsP50: number;
  readonly latencyMsP99: number;
}

export function summarize(label: string, operations: number, seconds: number, latenciesMs: number[]): Measured {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    label,
    operations,
    seconds,
    perSecond: operations / seconds,
    latencyMsP50: percentile(sorted, 50),
    latencyMsP99: percentile(sorted, 99),
  };
}

/**
 * Runs `total` operations, `inFlight` at a time (each slot takes the next index once its own
 * operation is done), timing each: the closed loop of the command-bus benchmarks.
 */
export async function runInFlight(label: string, total: number, inFlight: number, operation: (index: number) => Promise<unknown>): Promise<Measured> {
  const latencies: number[] = [];
  let next = 0;
  const start = nowMs();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let index = next++; index < total; index = next++) {
        const began = nowMs();
        await operation(index);
        latencies.push(nowMs() - began);
      }
    }),
  );
  return summarize(label, total, (nowMs() - start) / 1000, latencies);
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const PROC_TICKS_PER_SECOND = 100;

/** The CPU time (user + system) in µs of the task a /proc `stat` file describes; undefined where there is none. */
function procStatCpuUs(statFile: string): number | undefined {
  try {
    const stat = readFileSync(statFile, 'utf8');
    // Fields after the command name: utime and stime are the 14th and 15th of the whole line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / PROC_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** This thread's CPU time (user + system) in µs, from /proc (Linux); undefined elsewhere. */
export function threadCpuUs(): number | undefined {
  return procStatCpuUs('/proc/thread-self/stat');
}

/** A process's CPU time so far (user + system), µs, from /proc/<pid>/stat; undefined where there is none. */
export function processCpuUs(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : procStatCpuUs(`/proc/${pid}/stat`);
}

/**
 * The CPU time per request, µs, that this machine's cores leave at `share` of a baseline's rate:
 * cores × 1 s / (share × req/s), whatever runs on them (load generator included).
 */
export function cpuBudgetUsPerRequest(share: number, baselineRequestsPerSecond: number): number {
  return (availableParallelism() * 1e6) / (share * baselineRequestsPerSecond);
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Deterministic PRNG, the one `credit-ledger seed` uses, so that runs are comparable. */
export { prng as seededRandom } from '@credit-ledger/projections';

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** One consumption of the benchmark's mix (70% email reveals, 30% mobile reveals, 25 users). */
export function benchConsumption(consumptionId: string, rnd: () => number) {
  return {
    consumptionId,
    userId: `user_${Math.floor(rnd() * 25)}`,
    creditType: rnd() < 0.7 ? 'email' : 'mobile',
    feature: 'people_search',
    action: rnd() < 0.7 ? 'email_reveal' : 'mobile_reveal',
    credits: 1,
    description: 'Contact revealed from a saved search',
    dataRequested: 'email',
  };
}
