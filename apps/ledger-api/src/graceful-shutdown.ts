import { INestApplication } from '@nestjs/common';
import { Server } from 'node:http';
import { ServingState } from '@credit-ledger/http';

/** After the grace, in-flight requests get this long to finish before their connections are cut. */
export const SHUTDOWN_DRAIN_TIMEOUT_MS = 10_000;
/** Closing the app (billing job stopped, projections stopped, group commits flushed, store closed) gets this long. */
export const SHUTDOWN_CLOSE_TIMEOUT_MS = 10_000;

export interface ShutdownReport {
  readonly signal: string;
  /** From the signal to the last in-flight request answered. */
  readonly drainedMs: number;
  /** From the signal to the store closed. */
  readonly totalMs: number;
  /** Connections cut after SHUTDOWN_DRAIN_TIMEOUT_MS (0 in a clean drain). */
  readonly cutConnections: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * SIGTERM (or SIGINT), in order:
 * 1. not ready at once (/health/ready answers 503; responses carry `Connection: close`);
 * 2. after `graceSeconds` (LEDGER_SHUTDOWN_GRACE_SECONDS): stop accepting connections, close idle
 *    keep-alive ones;
 * 3. wait for in-flight requests (at most SHUTDOWN_DRAIN_TIMEOUT_MS): each was answered only
 *    after its events were durable;
 * 4. close the app: the billing job stops, the projections stop, queued group commits are flushed
 *    and the store and the shared-state database close;
 * 5. exit 0. Bound: grace + SHUTDOWN_DRAIN_TIMEOUT_MS + SHUTDOWN_CLOSE_TIMEOUT_MS; past it the
 *    process exits 1 (a client whose request was cut retries it with the same id).
 */
export function drainOnSignals(app: INestApplication, graceSeconds: number, log: (line: string) => void): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const boundMs = graceSeconds * 1000 + SHUTDOWN_DRAIN_TIMEOUT_MS + SHUTDOWN_CLOSE_TIMEOUT_MS;
    setTimeout(() => {
      log(`credit-ledger: shutdown exceeded ${boundMs} ms; exiting`);
      process.exit(1);
    }, boundMs).unref();
    void drain(app, graceSeconds, signal, log).then(
      (report) => {
        log(`credit-ledger stopped: ${JSON.stringify(report)}`);
        process.exit(0);
      },
      (error: unknown) => {
        log(`credit-ledger: shutdown failed: ${error instanceof Error ? error.stack : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

export async function drain(app: INestApplication, graceSeconds: number, signal: string, log: (line: string) => void): Promise<ShutdownReport> {
  const started = Date.now();
  app.get(ServingState).startDraining();
  log(`credit-ledger: ${signal}: not ready; accepting connections for ${graceSeconds} s more`);
  await sleep(graceSeconds * 1000);
  const server = app.getHttpServer() as Server;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const drained = await Promise.race([closed.then(() => true), sleep(SHUTDOWN_DRAIN_TIMEOUT_MS).then(() => false)]);
  if (!drained) server.closeAllConnections();
  const drainedMs = Date.now() - started;
  await app.close();
  return { signal, drainedMs, totalMs: Date.now() - started, cutConnections: !drained };
}
