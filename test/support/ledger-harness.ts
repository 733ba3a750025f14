import { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createLedgerApp } from '../../apps/ledger-api/src/app';
import { createTestDatabase, dropTestDatabase } from '@credit-ledger/event-store/testing';
import { ApiKeyStore, Clock, LedgerConfig } from '@credit-ledger/ledger';
import { Role } from '@credit-ledger/domain';
import { DEFAULT_WEBHOOKS_CONFIG, WebhooksConfig } from '@credit-ledger/webhooks';
import { planOf } from '@credit-ledger/domain/testing';
import { conformsTo, OpenApiContract } from './openapi-contract';

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

type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Paths outside the API's contract (Swagger UI and the document itself). */
const UNDOCUMENTED_PATHS = /^\/docs(\/|$)/;

/**
 * supertest on the server where every answer is checked against the server's own OpenAPI
 * document (operation, status, body schema): a test fails when the contract drifts.
 */
export function contractRequests(server: Parameters<typeof request>[0], contract: OpenApiContract, headers: Record<string, string> = {}) {
  const send = (method: HttpMethod, path: string) => {
    const test = request(server)[method](path).set(headers);
    return UNDOCUMENTED_PATHS.test(path) ? test : test.expect(conformsTo(contract, method, path));
  };
  return {
    get: (path: string) => send('get', path),
    post: (path: string) => send('post', path),
    put: (path: string) => send('put', path),
    patch: (path: string) => send('patch', path),
    delete: (path: string) => send('delete', path),
  };
}

/** A real app on a temporary data dir, driven over HTTP with supertest. */
export class LedgerHarness {
  private constructor(
    readonly app: INestApplication,
    readonly dataDir: string,
    readonly clock: ManualClock,
    /** The server's OpenAPI document, against which every answer is checked. */
    readonly contract: OpenApiContract,
    /** The fresh PostgreSQL database of this harness (store 'postgres'): event log and read models. */
    readonly databaseUrl?: string,
  ) {}

  static async start(
    options: { dataDir?: string; clock?: ManualClock; store?: HarnessStore; config?: Partial<LedgerConfig>; webhooks?: Partial<WebhooksConfig> } = {},
  ): Promise<LedgerHarness> {
    const dataDir = options.dataDir ?? tempDataDir();
    const clock = options.clock ?? new ManualClock();
    const databaseUrl = options.store === 'postgres' ? await createTestDatabase(undefined, 'harness') : undefined;
    const webhooks = { ...DEFAULT_WEBHOOKS_CONFIG, ...options.webhooks };
    const app = await createLedgerApp({ ...testConfig(dataDir, databaseUrl), ...options.config }, { clock, webhooks });
    await app.init();
    // Fastify adds its routes when ready: supertest then talks to its server.
    await app.getHttpAdapter().getInstance().ready();
    const document = (await request(app.getHttpServer()).get('/docs/json').expect(200)).body;
    return new LedgerHarness(app, dataDir, clock, new OpenApiContract(document), databaseUrl);
  }

  /** Requests without a key; every answer is checked against the OpenAPI document. */
  http() {
    return contractRequests(this.app.getHttpServer(), this.contract);
  }

  /** Requests as the superuser, or with `key`; every answer is checked against the OpenAPI document. */
  as(key: string = ADMIN_KEY) {
    const requests = contractRequests(this.app.getHttpServer(), this.contract, { Authorization: `Bearer ${key}` });
    return {
      get: (path: string) => requests.get(path),
      post: (path: string, body?: unknown) => requests.post(path).send(body as object),
      put: (path: string, body?: unknown) => requests.put(path).send(body as object),
      patch: (path: string, body?: unknown) => requests.patch(path).send(body as object),
      delete: (path: string) => requests.delete(path),
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
