import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ADMIN_KEY, consumption, LedgerHarness, PLAN, tempDataDir } from '../support/ledger-harness';

const SERVER_ENTRY = join(__dirname, '../../dist/apps/ledger-api/src/main.js');

describe('durability: a restart keeps every acknowledged movement', () => {
  it('in process: close and reopen the data dir, same balances and same audit trail', async () => {
    const dataDir = tempDataDir();
    const first = await LedgerHarness.start({ dataDir });
    await first.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
    for (let i = 0; i < 20; i++) await first.as().post('/v1/accounts/acme/consumptions', consumption(`c${i}`, { credits: 2 })).expect(201);
    await first.as().post('/v1/accounts/acme/refunds', { refundId: 'r1', consumptionId: 'c3', reason: 'bounced' }).expect(201);
    await first.as().post('/v1/accounts/acme/grants', { grantId: 'g1', creditType: 'mobile', credits: 5, reason: 'promo' }).expect(201);
    const balances = (await first.as().get('/v1/accounts/acme/balances').expect(200)).body;
    const events = (await first.as().get('/v1/accounts/acme/events?limit=1000').expect(200)).body;
    await first.stop({ keepData: true });

    const second = await LedgerHarness.start({ dataDir });
    try {
      expect((await second.as().get('/v1/accounts/acme/balances').expect(200)).body).toEqual(balances);
      expect((await second.as().get('/v1/accounts/acme/events?limit=1000').expect(200)).body).toEqual(events);
      // Idempotency survives the restart: a retry answers the first outcome.
      expect((await second.as().post('/v1/accounts/acme/consumptions', consumption('c0', { credits: 2 })).expect(200)).body.balance.remaining).toBe(98);
    } finally {
      await second.stop();
    }
  });

  it('separate process killed with SIGKILL under load: every acknowledged consumption is there exactly once', async () => {
    if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run npm run build (npm test does it first)`);
    const dataDir = tempDataDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const headers = { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' };
    const acknowledged = new Map<string, number>(); // consumptionId -> position
    const unknown = new Set<string>();
    let server: ChildProcess | undefined;
    try {
      server = await startServer(dataDir, port);
      await post(base, headers, '/v1/accounts', { accountId: 'crash', name: 'Crash', plan: { creditTypes: { email: { allocation: 1_000_000 } } } });
      let next = 0;
      for (let round = 0; round < 4; round++) {
        if (round > 0) server = await startServer(dataDir, port);
        let stop = false;
        const workers = Array.from({ length: 16 }, async () => {
          while (!stop) {
            const id = `c${next++}`;
            try {
              const res = await post(base, headers, '/v1/accounts/crash/consumptions', consumption(id));
              if (res.status === 201 || res.status === 200) acknowledged.set(id, res.body.position);
              else unknown.add(id);
            } catch {
              unknown.add(id); // connection cut by the kill: outcome unknown to the client
              return;
            }
          }
        });
        await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 250)));
        server.kill('SIGKILL');
        stop = true;
        await Promise.all(workers);
        await exited(server);
      }
      server = await startServer(dataDir, port);
      const events: { revision: number; type: string; data: { consumptionId?: string } }[] = [];
      for (let after = 0; ; ) {
        const page = (await get(base, headers, `/v1/accounts/crash/events?limit=1000&after=${after}`)).body;
        events.push(...page.items);
        if (page.nextAfter === null) break;
        after = page.nextAfter;
      }
      expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
      const stored = events.filter((e) => e.type === 'CreditConsumed').map((e) => e.data.consumptionId as string);
      expect(new Set(stored).size).toBe(stored.length);
      expect(acknowledged.size).toBeGreaterThan(50);
      for (const id of acknowledged.keys()) expect(stored).toContain(id);
      const balance = (await get(base, headers, '/v1/accounts/crash/balances')).body.balances[0];
      expect(balance.used).toBe(stored.length);
      // Retrying the requests whose outcome was unknown never charges twice.
      for (const id of unknown) {
        const res = await post(base, headers, '/v1/accounts/crash/consumptions', consumption(id));
        expect(res.status).toBe(stored.includes(id) ? 200 : 201);
      }
      const after = (await get(base, headers, '/v1/accounts/crash/balances')).body.balances[0];
      expect(after.used).toBe(new Set([...stored, ...unknown]).size);
    } finally {
      server?.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function startServer(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: { ...process.env, LEDGER_DATA_DIR: dataDir, PORT: String(port), LEDGER_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return child;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function post(base: string, headers: Record<string, string>, path: string, body: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function get(base: string, headers: Record<string, string>, path: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(base + path, { headers });
  return { status: res.status, body: await res.json() };
}
