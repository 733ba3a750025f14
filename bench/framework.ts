import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from './http';
import { LoadFigures } from './http-load';
import { BARE_SERVER_ENTRY, Instance, startInstance, stopInstance } from './processes';
import { fmt } from './stats';

/** The floor server (bench/framework-server.ts): the ledger's guard and validation in a bare Nest app. */
const FRAMEWORK_SERVER_ENTRY = join(__dirname, 'framework-server.js');
const SECONDS = Number(process.env.BENCH_FRAMEWORK_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_FRAMEWORK_ROUNDS ?? 2);
const CONNECTIONS = 64;
const ACCOUNTS = 1_000;
const API_KEY = 'bench-framework-key-0123456789abcdef';

interface FloorRow {
  readonly round: number;
  readonly server: string;
  readonly get: LoadFigures;
  readonly post: LoadFigures;
}

/**
 * The HTTP platform's floor: what a Nest app with the ledger's per-request guard and validation
 * (and no ledger work) serves on Express and on Fastify, next to the bare Node server, with the
 * same load generator and bodies as the HTTP section, interleaved over ROUNDS.
 */
export async function frameworkBenchmark(log: (line: string) => void): Promise<{ rows: FloorRow[]; loadAverage: string }> {
  const servers: [string, () => Promise<Instance>][] = [
    ['bare Node http', () => startInstance({ ...process.env }, BARE_SERVER_ENTRY, '/')],
    ['Nest + Express', () => startInstance({ ...process.env, FRAMEWORK: 'express', BENCH_API_KEY: API_KEY }, FRAMEWORK_SERVER_ENTRY, '/health')],
    ['Nest + Fastify', () => startInstance({ ...process.env, FRAMEWORK: 'fastify', BENCH_API_KEY: API_KEY }, FRAMEWORK_SERVER_ENTRY, '/health')],
  ];
  const rows: FloorRow[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [server, start] of servers) {
      log(`framework: round ${round}, ${server}…`);
      const instance = await start();
      try {
        const common = { url: instance.base, connections: CONNECTIONS, seconds: SECONDS };
        const get = await load({ ...common, method: 'GET', path: '/health' });
        const post = await load({ ...common, method: 'POST', path: '/v1/accounts/{account}/consumptions', consumptionAccounts: ACCOUNTS, apiKey: API_KEY });
        rows.push({ round, server, get, post });
      } finally {
        await stopInstance(instance);
      }
    }
  }
  return { rows, loadAverage: readFileSync('/proc/loadavg', 'utf8').trim() };
}

export function printFrameworkBench(result: { rows: FloorRow[]; loadAverage: string }): void {
  console.log('');
  console.log(`## HTTP platform floor — the ledger's key guard and validation in a bare Nest app, ${CONNECTIONS} connections, ${SECONDS} s per request kind`);
  console.log('');
  console.log('| round | server | GET /health req/s | p99 ms | % of bare | POST consumption req/s | p99 ms | % of bare | non-2xx |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of result.rows) {
    const bare = result.rows.find((other) => other.round === row.round && other.server.startsWith('bare'))!;
    const percent = (value: number, of: number) => `${fmt((100 * value) / of)}%`;
    console.log(
      `| ${row.round} | ${row.server} | ${fmt(row.get.requestsPerSecond)} | ${fmt(row.get.latencyMsP99, 1)} | ${percent(row.get.requestsPerSecond, bare.get.requestsPerSecond)} | ${fmt(row.post.requestsPerSecond)} | ${fmt(row.post.latencyMsP99, 1)} | ${percent(row.post.requestsPerSecond, bare.post.requestsPerSecond)} | ${fmt(row.get.non2xx + row.get.errors + row.post.non2xx + row.post.errors)} |`,
    );
  }
  console.log(`load average at the end: ${result.loadAverage}`);
}
