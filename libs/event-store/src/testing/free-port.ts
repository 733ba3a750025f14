import { createServer } from 'node:net';

/**
 * Ports for servers that tests and benchmarks start as child processes (the ledger, PostgreSQL,
 * Kafka), which must be chosen before the child listens.
 *
 * Asking the OS for a free port (`listen(0)`) and closing it leaves a window before the child
 * binds. In that window the port is up for grabs: another process's `listen(0)` or outgoing
 * connection may take it, because both draw from Linux's ephemeral range (32768–60999). The same
 * applies to a cluster stopped and restarted on its port. Then the child fails to bind, or a
 * health check reaches someone else's server.
 *
 * So ports come from a band below the ephemeral range, which nothing hands out by itself, split
 * per Jest worker so that parallel test files never draw the same one. A port is probed with a
 * real `listen` before it is handed out, so one still held (a server another test file left
 * running, a service of the machine) is skipped.
 */
export const CHILD_PORT_BAND_START = 20_000;
/** Ports per Jest worker; 20 workers fit below 32768. */
export const CHILD_PORTS_PER_WORKER = 600;
const MAX_WORKER_BANDS = 20;

let nextOffset = -1;

export async function freePort(): Promise<number> {
  const worker = Number(process.env.JEST_WORKER_ID ?? 0) % MAX_WORKER_BANDS;
  const bandStart = CHILD_PORT_BAND_START + worker * CHILD_PORTS_PER_WORKER;
  // A random start: a test file that follows another in the same worker does not reuse the ports it just released.
  if (nextOffset < 0) nextOffset = Math.floor(Math.random() * CHILD_PORTS_PER_WORKER);
  for (let tries = 0; tries < CHILD_PORTS_PER_WORKER; tries++) {
    const port = bandStart + (nextOffset++ % CHILD_PORTS_PER_WORKER);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${bandStart}–${bandStart + CHILD_PORTS_PER_WORKER - 1}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
