import { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createTestDatabase, ThrowawayPostgresCluster } from '@credit-ledger/event-store/testing';
import { ADMIN_KEY, consumption, tempDataDir } from '../support/ledger-harness';
import { exited, freePort, get, post, startServer } from '../support/server-process';

/**
 * A PostgreSQL outage under a running server (LEDGER_STORE=postgres, read models in the same
 * database): while the database is down, /health says 503 and why, commands answer 503
 * STORE_UNAVAILABLE (never a 500, never an acknowledgement); once it is back, the same requests
 * succeed without a restart, nothing is charged twice, and the read models catch up by themselves.
 */
describe('PostgreSQL outage under a running server', () => {
  let cluster: ThrowawayPostgresCluster;
  let server: ChildProcess | undefined;
  const dataDir = tempDataDir();

  beforeAll(async () => {
    cluster = await ThrowawayPostgresCluster.start(); // its own: this test stops the database server
  });
  afterAll(async () => {
    server?.kill('SIGKILL');
    if (server) await exited(server);
    cluster.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 while the database is down, and recovers by itself when it is back', async () => {
    const url = await createTestDatabase(cluster.url, 'outage');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const headers = { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' };
    server = await startServer(
      { ...process.env, LEDGER_STORE: 'postgres', DATABASE_URL: url, LEDGER_DATA_DIR: dataDir, LEDGER_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'silent' },
      port,
    );
    expect(
      (await post(base, headers, '/v1/accounts', { accountId: 'outage', name: 'Outage', plan: { creditTypes: { email: { allocation: 100 } } } })).status,
    ).toBe(201);
    expect((await post(base, headers, '/v1/accounts/outage/consumptions', consumption('before'))).status).toBe(201);

    cluster.stop('fast'); // every connection of the server is cut
    const health = await get(base, {}, '/health');
    expect(health.status).toBe(503);
    expect(JSON.stringify(health.body)).toMatch(/eventStore/);
    const refused = await post(base, headers, '/v1/accounts/outage/consumptions', consumption('during'));
    expect(refused).toMatchObject({ status: 503, body: { error: 'STORE_UNAVAILABLE' } });

    cluster.restart();
    // The same request again (same id), as a client told to retry would send it.
    let retried = await post(base, headers, '/v1/accounts/outage/consumptions', consumption('during'));
    for (let i = 0; i < 50 && retried.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 100));
      retried = await post(base, headers, '/v1/accounts/outage/consumptions', consumption('during'));
    }
    expect([200, 201]).toContain(retried.status);
    const again = await post(base, headers, '/v1/accounts/outage/consumptions', consumption('during'));
    expect(again.status).toBe(200); // an idempotent replay: charged once
    const position: number = again.body.position;

    // The read models follow the log again without a restart (their reads were retried).
    // As a client told 503 READ_MODELS_BEHIND (Retry-After: 1) would: ask again a few times.
    let history = await get(base, headers, `/v1/accounts/outage/history?minPosition=${position}`);
    for (let i = 0; i < 5 && history.status === 503; i++) history = await get(base, headers, `/v1/accounts/outage/history?minPosition=${position}`);
    if (history.status !== 200)
      process.stdout.write(`history: ${JSON.stringify(history.body)}\nhealth: ${JSON.stringify((await get(base, {}, '/health')).body)}\n`);
    expect(history.status).toBe(200);
    expect(history.body.items.map((r: { consumptionId: string }) => r.consumptionId).sort()).toEqual(['before', 'during']);
    const balances = await get(base, headers, '/v1/accounts/outage/balances');
    expect(balances.body.balances[0]).toMatchObject({ allocated: 100, used: 2, remaining: 98 });
    expect((await get(base, {}, '/health')).status).toBe(200);
  }, 120_000);
});
