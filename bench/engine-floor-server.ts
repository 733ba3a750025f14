import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsumeCreditsCommand, LedgerModule, OpenAccountCommand } from '@credit-ledger/ledger';
import { DomainError, internalCaller, Plan } from '@credit-ledger/domain';
import { answerJson, listenBare } from './bare-http';

/**
 * The engine's floor over HTTP: the bare Node `http` server of bench/bare-server.ts (both listen
 * with bench/bare-http.ts), which reads and parses the same JSON bodies, running each POSTed
 * consumption through the ledger's command bus (SQLite, the command section's configuration:
 * logging silent, no read models, no webhooks) and answering the command's result. No framework, no key, no validation, no request log: what an
 * HTTP layer in front of this engine does, and the read models the API also runs, come on top of
 * this. The accounts the load generator names (bench_0 …) are opened before the server listens.
 * Run as its own process.
 */
const ACCOUNTS = Number(process.env.ENGINE_FLOOR_ACCOUNTS ?? 1_000);
const CTX = internalCaller('bench', 'bench');
const PLAN: Plan = {
  creditTypes: { email: { allocation: 1_000_000_000, overdraft: { policy: 'deny' } } },
  cycle: { period: 'month', anchorDay: 1, timezone: 'UTC' },
};
const HEALTH = JSON.stringify({ status: 'ok' });

/** The ledger's command side as the command section runs it (no read models, no webhooks). */
async function openLedger(dataDir: string): Promise<INestApplicationContext> {
  const config = {
    port: 0,
    dataDir,
    store: 'sqlite' as const,
    adminKey: 'bench-engine-floor-key-0123456789abcdef',
    logLevel: 'silent' as const,
    projections: 'off' as const,
  };
  return NestFactory.createApplicationContext(LedgerModule.forRoot({ config, http: false }), { logger: false, abortOnError: false });
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-bench-engine-floor-'));
  const ctx = await openLedger(dataDir);
  const bus = ctx.get(CommandBus);
  for (let start = 0; start < ACCOUNTS; start += 100) {
    const ids = Array.from({ length: Math.min(100, ACCOUNTS - start) }, (_, offset) => `bench_${start + offset}`);
    await Promise.all(ids.map((accountId) => bus.execute(new OpenAccountCommand(accountId, accountId, PLAN, CTX))));
  }
  const server = listenBare((req, body, res) => {
    const accountId = /^\/v1\/accounts\/([^/]+)\/consumptions$/.exec(req.url ?? '')?.[1];
    if (req.method !== 'POST' || accountId === undefined) return answerJson(res, 200, HEALTH);
    let command: Record<string, unknown>;
    try {
      command = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return answerJson(res, 400, '{"error":"INVALID_JSON"}');
    }
    bus.execute(new ConsumeCreditsCommand(accountId, command as never, CTX)).then(
      (result) => answerJson(res, 201, JSON.stringify(result)),
      (error: unknown) => answerJson(res, error instanceof DomainError ? 409 : 500, JSON.stringify({ error: String(error) })),
    );
  });
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void ctx.close().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

void main();
