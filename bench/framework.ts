import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from './http';
import { LoadFigures } from './http-load';
import { BARE_SERVER_ENTRY, Instance, startInstance, stopInstance } from './processes';
import { cpuBudgetUsPerRequest, fmt, processCpuUs } from './stats';

/** The floor server (bench/framework-server.ts): the ledger's guard and validation in a bare Nest app. */
const FRAMEWORK_SERVER_ENTRY = join(__dirname, 'framework-server.js');
/** The engine's floor over HTTP (bench/engine-floor-server.ts): the bare server running the ledger's command. */
const ENGINE_FLOOR_SERVER_ENTRY = join(__dirname, 'engine-floor-server.js');
const SECONDS = Number(process.env.BENCH_FRAMEWORK_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_FRAMEWORK_ROUNDS ?? 2);
const CONNECTIONS = 64;
const ACCOUNTS = 1_000;
const API_KEY = 'bench-framework-key-0123456789abcdef';

/** What a floor server is: the bare baseline, a framework with no ledger work, or the ledger's engine with no framework. */
type ServerRole = 'bare' | 'framework' | 'engine';

interface FloorRow {
  readonly round: number;
  readonly server: string;
  readonly role: ServerRole;
  readonly get: LoadFigures;
  readonly post: LoadFigures;
  /** The server process's CPU time (every thread) per POST served, µs. */
  readonly postServerCpuUs: number | undefined;
}

/**
 * The HTTP platform's floor: what a Nest app with the ledger's per-request guard and validation
 * (and no ledger work) serves on Express and on Fastify, next to the bare Node server, with the
 * same load generator and bodies as the HTTP section, interleaved over ROUNDS. And the engine's
 * floor over HTTP: the bare server running each POST as the ledger's command (no read models),
 * the most any HTTP layer in front of this engine could serve on this machine.
 */
export async function frameworkBenchmark(log: (line: string) => void): Promise<{ rows: FloorRow[]; loadAverage: string }> {
  const servers: [string, ServerRole, () => Promise<Instance>][] = [
    ['bare Node http', 'bare', () => startInstance({ ...process.env }, BARE_SERVER_ENTRY, '/')],
    ['Nest + Express', 'framework', () => startInstance({ ...process.env, FRAMEWORK: 'express', BENCH_API_KEY: API_KEY }, FRAMEWORK_SERVER_ENTRY, '/health')],
    ['Nest + Fastify', 'framework', () => startInstance({ ...process.env, FRAMEWORK: 'fastify', BENCH_API_KEY: API_KEY }, FRAMEWORK_SERVER_ENTRY, '/health')],
    ["bare Node http + the ledger's command", 'engine', () => startInstance({ ...process.env }, ENGINE_FLOOR_SERVER_ENTRY, '/health')],
  ];
  const rows: FloorRow[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [server, role, start] of servers) {
      log(`framework: round ${round}, ${server}…`);
      const instance = await start();
      try {
        const common = { url: instance.base, connections: CONNECTIONS, seconds: SECONDS };
        const get = await load({ ...common, method: 'GET', path: '/health' });
        const cpuBefore = processCpuUs(instance.child.pid);
        const post = await load({ ...common, method: 'POST', path: '/v1/accounts/{account}/consumptions', consumptionAccounts: ACCOUNTS, apiKey: API_KEY });
        const cpuAfter = processCpuUs(instance.child.pid);
        const postServerCpuUs = cpuBefore === undefined || cpuAfter === undefined || post.requests === 0 ? undefined : (cpuAfter - cpuBefore) / post.requests;
        rows.push({ round, server, role, get, post, postServerCpuUs });
      } finally {
        // The engine's floor removes its store when stopped gracefully.
        await stopInstance(instance, role === 'engine');
      }
    }
  }
  return { rows, loadAverage: readFileSync('/proc/loadavg', 'utf8').trim() };
}

const cpu = (us: number | undefined) => (us === undefined || Number.isNaN(us) ? 'n/a' : fmt(us, 1));

export function printFrameworkBench(result: { rows: FloorRow[]; loadAverage: string }): void {
  console.log('');
  console.log(`## HTTP platform floor — the ledger's key guard and validation in a bare Nest app, ${CONNECTIONS} connections, ${SECONDS} s per request kind`);
  console.log('');
  console.log(
    '| round | server | GET /health req/s | p99 ms | % of bare | POST consumption req/s | p99 ms | % of bare | server CPU µs per POST | load generator CPU µs per POST | non-2xx |',
  );
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const bareOf = (round: number) => result.rows.find((other) => other.round === round && other.role === 'bare')!;
  for (const row of result.rows) {
    const bare = bareOf(row.round);
    const percent = (value: number, of: number) => `${fmt((100 * value) / of)}%`;
    console.log(
      `| ${row.round} | ${row.server} | ${fmt(row.get.requestsPerSecond)} | ${fmt(row.get.latencyMsP99, 1)} | ${percent(row.get.requestsPerSecond, bare.get.requestsPerSecond)} | ${fmt(row.post.requestsPerSecond)} | ${fmt(row.post.latencyMsP99, 1)} | ${percent(row.post.requestsPerSecond, bare.post.requestsPerSecond)} | ${cpu(row.postServerCpuUs)} | ${cpu(row.post.generatorCpuUsPerRequest)} | ${fmt(row.get.non2xx + row.get.errors + row.post.non2xx + row.post.errors)} |`,
    );
  }
  // What 40% of the bare server's POSTs would leave each request on this machine's cores, against
  // the CPU the engine's floor spends per POST (server and load generator): CPU per POST depends
  // less than a rate on how fast the host ran while the floor itself was measured.
  for (const row of result.rows.filter((candidate) => candidate.role === 'engine')) {
    const budgetUs = cpuBudgetUsPerRequest(0.4, bareOf(row.round).post.requestsPerSecond);
    const spentUs = (row.postServerCpuUs ?? NaN) + (row.post.generatorCpuUsPerRequest ?? NaN);
    console.log(
      `round ${row.round}, ${row.server}: ${cpu(spentUs)} µs of CPU per POST (server and load generator); 40% of the bare POST rate would leave ${cpu(budgetUs)} µs`,
    );
  }
  console.log(`load average at the end: ${result.loadAverage}`);
}
