import { createTestDatabase, dropTestDatabase, ThrowawayPostgresCluster } from '@credit-ledger/event-store/testing';
import { runConsumptionLoad } from './consumption-load';
import { exited, Instance, startInstance } from './processes';

/**
 * Several API processes on one PostgreSQL database: durable consumptions/s with 1, 2 and 3
 * instances (64 requests in flight in total, round-robin, projections off in the API processes),
 * and the drain of a SIGTERM under that load.
 */

const ADMIN_KEY = 'bench-superuser-key-0123456789abcdef';
export const INSTANCES_IN_FLIGHT = 64;
const MEASURE_SECONDS = Number(process.env.BENCH_INSTANCES_SECONDS ?? 15);
const WARMUP_SECONDS = 3;
const ACCOUNTS = 256;

export interface InstancesRow {
  readonly instances: number;
  readonly consumptions: number;
  readonly perSecond: number;
  readonly latencyMsP50: number;
  readonly latencyMsP99: number;
}

export interface DrainFigures {
  readonly graceSeconds: number;
  /** From SIGTERM to the process's exit. */
  readonly exitMs: number;
  /** The server's own report: from SIGTERM to the last in-flight request answered (grace included), and to the store closed. */
  readonly drainedMs: number;
  readonly totalMs: number;
  readonly cutConnections: boolean;
  readonly exitCode: number | null;
  readonly violations: number;
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? NaN;
}

async function openAccounts(base: string): Promise<string[]> {
  const accounts = Array.from({ length: ACCOUNTS }, (_, index) => `bench-${index}`);
  for (const accountId of accounts) {
    const res = await fetch(`${base}/v1/accounts`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ accountId, name: accountId, plan: { creditTypes: { email: { allocation: 1_000_000_000 } } } }),
    });
    if (res.status !== 201) throw new Error(`open ${accountId}: ${res.status}`);
  }
  return accounts;
}

async function withInstances<T>(
  baseUrl: string,
  count: number,
  graceSeconds: number,
  work: (instances: Instance[], accounts: string[]) => Promise<T>,
): Promise<T> {
  const url = await createTestDatabase(baseUrl, `bench_instances_${count}`);
  const env = {
    ...process.env,
    LEDGER_STORE: 'postgres',
    DATABASE_URL: url,
    LEDGER_ADMIN_KEY: ADMIN_KEY,
    LEDGER_PROJECTIONS: 'off',
    LOG_LEVEL: 'warn',
    LEDGER_SHUTDOWN_GRACE_SECONDS: String(graceSeconds),
  };
  const instances: Instance[] = [];
  try {
    for (let index = 0; index < count; index++) instances.push(await startInstance(env));
    const accounts = await openAccounts(instances[0].base);
    return await work(instances, accounts);
  } finally {
    for (const instance of instances) instance.child.kill('SIGKILL');
    await Promise.all(instances.map((instance) => exited(instance.child)));
    await dropTestDatabase(url, baseUrl).catch(() => undefined);
  }
}

async function measure(instances: Instance[], accounts: string[], seconds: number, prefix: string) {
  const until = Date.now() + seconds * 1000;
  const started = performance.now();
  const report = await runConsumptionLoad({
    bases: () => instances.map((instance) => instance.base),
    apiKey: ADMIN_KEY,
    accounts,
    clients: INSTANCES_IN_FLIGHT,
    batchEvery: 0,
    batchSize: 1,
    idPrefix: prefix,
    shouldStop: () => Date.now() >= until,
  });
  const elapsedSeconds = (performance.now() - started) / 1000;
  if (report.violations.length > 0) throw new Error(`load: ${report.violations.slice(0, 3).join('; ')}`);
  return { report, elapsedSeconds };
}

export async function instancesBenchmark(log: (line: string) => void): Promise<{ where: string; rows: InstancesRow[]; drain: DrainFigures }> {
  let cluster: ThrowawayPostgresCluster | undefined;
  let baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    cluster = await ThrowawayPostgresCluster.start((line) => log(`instances: postgres — throwaway cluster: ${line}`));
    baseUrl = cluster.url;
  }
  const where = cluster ? `throwaway cluster (${cluster.version})` : 'DATABASE_URL (fresh database per run)';
  try {
    const rows: InstancesRow[] = [];
    for (const count of [1, 2, 3]) {
      log(`instances: ${count} API process(es), ${INSTANCES_IN_FLIGHT} in flight, ${MEASURE_SECONDS} s…`);
      rows.push(
        await withInstances(baseUrl, count, 0, async (instances, accounts) => {
          await measure(instances, accounts, WARMUP_SECONDS, 'warm');
          const { report, elapsedSeconds } = await measure(instances, accounts, MEASURE_SECONDS, 'run');
          return {
            instances: count,
            consumptions: report.acknowledged.size,
            perSecond: report.acknowledged.size / elapsedSeconds,
            latencyMsP50: percentile(report.latenciesMs, 0.5),
            latencyMsP99: percentile(report.latenciesMs, 0.99),
          };
        }),
      );
    }
    log('instances: SIGTERM of one of 3 instances under load…');
    const graceSeconds = 1;
    const drain = await withInstances(baseUrl, 3, graceSeconds, async (instances, accounts) => {
      let stop = false;
      const load = runConsumptionLoad({
        bases: () => instances.map((instance) => instance.base),
        apiKey: ADMIN_KEY,
        accounts,
        clients: INSTANCES_IN_FLIGHT,
        batchEvery: 3,
        batchSize: 10,
        idPrefix: 'drain',
        shouldStop: () => stop,
      });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const signalled = performance.now();
      instances[0].child.kill('SIGTERM');
      await exited(instances[0].child);
      const exitMs = performance.now() - signalled;
      stop = true;
      const report = await load;
      const line = /credit-ledger stopped: (\{.*\})/.exec(instances[0].stdout);
      const shutdown = line ? (JSON.parse(line[1]) as { drainedMs: number; totalMs: number; cutConnections: boolean }) : undefined;
      return {
        graceSeconds,
        exitMs,
        drainedMs: shutdown?.drainedMs ?? NaN,
        totalMs: shutdown?.totalMs ?? NaN,
        cutConnections: shutdown?.cutConnections ?? true,
        exitCode: instances[0].child.exitCode,
        violations: report.violations.length,
      };
    });
    return { where, rows, drain };
  } finally {
    cluster?.destroy();
  }
}

export function printInstances(result: { where: string; rows: InstancesRow[]; drain: DrainFigures }, fmt: (value: number, digits?: number) => string): void {
  console.log('');
  console.log(
    `## Several API instances — PostgreSQL ${result.where}; ${INSTANCES_IN_FLIGHT} requests in flight in total, round-robin, single consumptions, projections off in the API processes`,
  );
  console.log('');
  console.log('| API instances | consumptions | durable consumptions/s | vs 1 instance | p50 ms | p99 ms |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  const base = result.rows[0]?.perSecond ?? NaN;
  for (const row of result.rows) {
    console.log(
      `| ${row.instances} | ${fmt(row.consumptions)} | ${fmt(row.perSecond)} | ${fmt(row.perSecond / base, 2)}× | ${fmt(row.latencyMsP50, 2)} | ${fmt(row.latencyMsP99, 2)} |`,
    );
  }
  const drain = result.drain;
  console.log('');
  console.log(
    `SIGTERM under load (3 instances, grace ${drain.graceSeconds} s): exit ${drain.exitCode} after ${fmt(drain.exitMs)} ms; in-flight requests drained ${fmt(drain.drainedMs - drain.graceSeconds * 1000)} ms after the grace; store closed at ${fmt(drain.totalMs)} ms; connections cut: ${drain.cutConnections ? 'yes' : 'no'}; client violations: ${drain.violations}`,
  );
}
