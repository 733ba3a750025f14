import { ChildProcess, spawn } from 'node:child_process';
import { freePort } from '@credit-ledger/event-store/testing';
import { join } from 'node:path';
import { OpenApiContract } from './openapi-contract';

/** The built server and CLI (npm test builds first). */
export const SERVER_ENTRY = join(__dirname, '../../dist/apps/ledger-api/src/main.js');
export const CLI_ENTRY = join(__dirname, '../../dist/apps/ledger-cli/src/main.js');
export const SERVER_START_TIMEOUT_MS = 60_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of every shape, read field by field by the assertions
export type Json = any;

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export { freePort };

/** Starts the built server as its own process and waits until it answers /health (any status). SERVER_STDOUT=1 shows its logs (debugging a test). */
export async function startServer(env: NodeJS.ProcessEnv, port: number, options: { healthy?: boolean } = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', process.env.SERVER_STDOUT ? 'inherit' : 'ignore', 'inherit'],
  });
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok || options.healthy === false) return child;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
}

/** The OpenAPI document of each server (by base URL), fetched once. */
const contracts = new Map<string, Promise<OpenApiContract>>();

async function contractOf(base: string): Promise<OpenApiContract> {
  let contract = contracts.get(base);
  if (!contract) {
    contract = fetch(`${base}/docs/json`).then(async (res) => new OpenApiContract(await res.json()));
    contracts.set(base, contract);
    contract.catch(() => contracts.delete(base));
  }
  return contract;
}

/** Throws when the answer does not conform to the server's OpenAPI document (operation, status, body schema). */
export async function checkContract(base: string, method: string, path: string, res: Response, body: unknown): Promise<void> {
  const problems = (await contractOf(base)).problemsOf(method, path, res.status, res.headers.get('content-type') ?? undefined, body);
  if (problems.length > 0) throw new Error(`OpenAPI contract: ${problems.join('\n')}`);
}

export async function post(base: string, headers: Record<string, string>, path: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
  const json = await res.json();
  await checkContract(base, 'post', path, res, json);
  return { status: res.status, body: json };
}

export async function get(base: string, headers: Record<string, string>, path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(base + path, { headers });
  const json = await res.json();
  await checkContract(base, 'get', path, res, json);
  return { status: res.status, body: json };
}
