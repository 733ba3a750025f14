import { ChildProcess, spawn } from 'node:child_process';
import { freePort } from '@credit-ledger/event-store/testing';
import { join } from 'node:path';

/** The built API server (npm run bench builds first). */
export const SERVER_ENTRY = join(__dirname, '../apps/ledger-api/src/main.js');
export const CLI_ENTRY = join(__dirname, '../apps/ledger-cli/src/main.js');
/** The HTTP benchmarks' baseline: a bare Node `http` server parsing the same JSON (bench/bare-server.ts). */
export const BARE_SERVER_ENTRY = join(__dirname, 'bare-server.js');
/** How long a server may take to become ready (its warm-up included) before the bench gives up: minutes on a busy machine. */
const SERVER_READY_TIMEOUT_MS = 180_000;

export interface Instance {
  readonly base: string;
  readonly child: ChildProcess;
  stdout: string;
}

export { freePort };

/** Starts a Node entry (the API server by default) on a free port and waits until `readyPath` answers 2xx. */
export async function startInstance(
  env: NodeJS.ProcessEnv,
  entry = SERVER_ENTRY,
  readyPath = '/health/ready',
  nodeArgs: readonly string[] = [],
): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--max-semi-space-size=32', ...nodeArgs, entry], {
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const instance: Instance = { base: `http://127.0.0.1:${port}`, child, stdout: '' };
  child.stdout!.on('data', (chunk: Buffer) => (instance.stdout += chunk.toString()));
  const deadline = Date.now() + SERVER_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}`);
    if (
      await fetch(`${instance.base}${readyPath}`).then(
        (res) => res.ok,
        () => false,
      )
    ) {
      if (entry === SERVER_ENTRY) await warmedUp(instance.base, deadline);
      return instance;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${entry} did not become ready`);
}

/**
 * Waits for the API's warm-up after a start (large accounts folded into its cache) to end, so
 * that a measurement does not share the CPU with it.
 */
async function warmedUp(base: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const metrics = await fetch(`${base}/metrics`).then((res) => res.text());
    if (!/^ledger_account_warm_up_running 1$/m.test(metrics)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the API did not finish its warm-up');
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGKILL, or SIGTERM when `graceful` (the server drains and exits: what a CPU profile needs to be written). */
export async function stopInstance(instance: Instance, graceful = false): Promise<void> {
  instance.child.kill(graceful ? 'SIGTERM' : 'SIGKILL');
  await exited(instance.child);
}
