import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CONSOLE_ACCOUNT, CONSOLE_USERS, seedConsole, SeedResult } from '../../bench/console-seed';
import type { WebhooksConfig } from '@credit-ledger/webhooks';
import { ADMIN_KEY, LedgerHarness } from './ledger-harness';

export interface ConsoleServer {
  readonly harness: LedgerHarness;
  readonly url: string;
  readonly seed: SeedResult;
  readonly keys: { superuser: string; admin: string; analyst: string; member: string; otherMember: string; otherAdmin: string };
  /** GET with a key, JSON. */
  api<T = unknown>(path: string, key?: string): Promise<T>;
  /** Any method with a key (the superuser's by default), JSON. */
  request<T = unknown>(method: string, path: string, body?: unknown, key?: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * A real HTTP server (the API with the built console) on a free port, with a manual clock and
 * seeded usage: what the browser tests drive with Chromium.
 */
export async function startConsoleServer(rows: number, options: { webhooks?: Partial<WebhooksConfig> } = {}): Promise<ConsoleServer> {
  const harness = await LedgerHarness.start({ webhooks: options.webhooks });
  await harness.app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${((harness.app.getHttpServer() as Server).address() as AddressInfo).port}`;
  const request = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  };
  let seed: SeedResult;
  try {
    seed = await seedConsole(
      {
        post: (path, body) => request('POST', path, ADMIN_KEY, body),
        put: (path, body) => request('PUT', path, ADMIN_KEY, body),
        setClock: (iso) => harness.clock.set(iso),
      },
      { rows },
    );
    // The read models caught up with the seed before any page is opened.
    await request('GET', `/v1/accounts/${CONSOLE_ACCOUNT}/history?limit=1&minPosition=${seed.head}`, ADMIN_KEY);
  } catch (e) {
    await harness.stop();
    throw e;
  }
  const keys = {
    superuser: ADMIN_KEY,
    admin: await harness.createKey(CONSOLE_ACCOUNT, 'admin'),
    analyst: await harness.createKey(CONSOLE_ACCOUNT, 'analyst'),
    member: await harness.createKey(CONSOLE_ACCOUNT, 'member', CONSOLE_USERS[0]),
    otherMember: await harness.createKey(CONSOLE_ACCOUNT, 'member', CONSOLE_USERS[1]),
    otherAdmin: await harness.createKey('globex', 'admin'),
  };
  return {
    harness,
    url,
    seed,
    keys,
    api: (path, key = ADMIN_KEY) => request('GET', path, key),
    request: (method, path, body, key = ADMIN_KEY) => request(method, path, key, body),
    stop: () => harness.stop(),
  };
}
