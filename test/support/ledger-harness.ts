import { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createLedgerApp } from '../../apps/ledger-api/src/app';
import { createTestDatabase, dropTestDatabase } from '@credit-ledger/event-store/testing';
import { ApiKeyStore, Clock, LedgerConfig } from '@credit-ledger/ledger';
import { Role } from '@credit-ledger/domain';
import { planOf } from '@credit-ledger/domain/testing';

export const ADMIN_KEY = 'test-superuser-key-0123456789abcdef';

/** A clock the scenario moves by hand. */
export class ManualClock extends Clock {
  constructor(private current = new Date('2026-11-10T12:00:00.000Z')) {
    super();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(iso: string): void {
    this.current = new Date(iso);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'ledger-e2e-'));
}

export function testConfig(dataDir: string, databaseUrl?: string): LedgerConfig {
  const store = databaseUrl === undefined ? { store: 'sqlite' as const } : { store: 'postgres' as const, databaseUrl };
  return { port: 0, dataDir, adminKey: ADMIN_KEY, logLevel: 'silent', projections: 'inline', ...store };
}

export type HarnessStore = 'sqlite' | 'postgres';

/** A real app on a temporary data dir, driven over HTTP with supertest. */
export class LedgerHarness {
  private constructor(
    readonly app: INestApplication,
    readonly dataDir: string,
    readonly clock: ManualClock,
    /** The fresh PostgreSQL database of this harness (store 'postgres'): event log and read models. */
    readonly databaseUrl?: string,
  ) {}

  static async start(options: { dataDir?: string; clock?: ManualClock; store?: HarnessStore } = {}): Promise<LedgerHarness> {
    const dataDir = options.dataDir ?? tempDataDir();
    const clock = options.clock ?? new ManualClock();
    const databaseUrl = options.store === 'postgres' ? await createTestDatabase(undefined, 'harness') : undefined;
    const app = await createLedgerApp(testConfig(dataDir, databaseUrl), { clock });
    await app.init();
    return new LedgerHarness(app, dataDir, clock, databaseUrl);
  }

  http() {
    return request(this.app.getHttpServer());
  }

  /** Requests as the superuser, or with `key`. */
  as(key: string = ADMIN_KEY) {
    const server = this.app.getHttpServer();
    const auth = { Authorization: `Bearer ${key}` };
    return {
      get: (path: string) => request(server).get(path).set(auth),
      post: (path: string, body?: unknown) =>
        request(server)
          .post(path)
          .set(auth)
          .send(body as object),
      put: (path: string, body?: unknown) =>
        request(server)
          .put(path)
          .set(auth)
          .send(body as object),
    };
  }

  async createKey(accountId: string, role: Role, userId?: string): Promise<string> {
    return (await this.app.get(ApiKeyStore).create({ accountId, role, userId })).key;
  }

  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    await this.app.close();
    if (options.keepData) return;
    rmSync(this.dataDir, { recursive: true, force: true });
    if (this.databaseUrl) await dropTestDatabase(this.databaseUrl);
  }
}

/** email 100, mobile 10 (may go 5 below zero), export 50, monthly: the accounts of the HTTP tests. */
export const PLAN = planOf({ email: 100, mobile: 10, export: 50 }, { mobile: { policy: 'allow', limit: 5 } });

export function consumption(consumptionId: string, extra: Record<string, unknown> = {}) {
  return { consumptionId, userId: 'ana', creditType: 'email', feature: 'people_search', action: 'email_reveal', credits: 1, ...extra };
}
