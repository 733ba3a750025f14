import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { createLedgerApp } from '../../apps/ledger-api/src/app';
import { runConsumptionLoad } from '../../bench/consumption-load';
import { createTestDatabase, dropTestDatabase } from '@credit-ledger/event-store/testing';
import { accountStream, API_KEY_CACHE_TTL_MS } from '@credit-ledger/ledger';
import { ApiInstance, metricValue, runCli } from '../support/instances';
import { ADMIN_KEY, ManualClock, testConfig } from '../support/ledger-harness';
import { Json, SERVER_ENTRY } from '../support/server-process';

/**
 * Three API processes on one PostgreSQL database (LEDGER_STORE=postgres), nothing in a local
 * file: keys, the billing lease and index, projection checkpoints and read models are shared.
 * LEDGER_DATA_DIR names a directory that must never be created.
 */
describe('stateless API instances on one PostgreSQL database', () => {
  const root = mkdtempSync(join(tmpdir(), 'ledger-stateless-'));
  const unusedDataDir = join(root, 'never-created');
  let databaseUrl: string;
  let env: NodeJS.ProcessEnv;
  let instances: ApiInstance[] = [];
  const billingAccounts = Array.from({ length: 24 }, (_, index) => `bill-${index}`);
  const loadAccounts = Array.from({ length: 6 }, (_, index) => `load-${index}`);
  const admin = { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' };
  const plan = { creditTypes: { email: { allocation: 1_000_000_000 } } };

  /** A kept-alive connection the server closed just as it was reused fails before any answer: sent again (commands carry their id). */
  const fetchAgain = async (url: string, init: RequestInit): Promise<Response> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(url, init);
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  };
  const post = async (base: string, path: string, body: unknown, headers: Record<string, string> = admin) => {
    const res = await fetchAgain(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Json, headers: res.headers };
  };
  const get = async (base: string, path: string, headers: Record<string, string> = admin) => {
    const res = await fetchAgain(base + path, { headers });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const query = async <R extends Record<string, unknown>>(sql: string, values: unknown[] = []): Promise<R[]> => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query<R>(sql, values)).rows;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    databaseUrl = await createTestDatabase(undefined, 'stateless');
    // Accounts whose first cycle ended at the start of this month: one reset each is due.
    const now = new Date();
    const opened = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15, 12));
    const seeding = await createLedgerApp(testConfig(join(root, 'seed'), databaseUrl), { clock: new ManualClock(opened) });
    await seeding.init();
    await seeding.getHttpAdapter().getInstance().ready();
    for (const accountId of billingAccounts) {
      await request(seeding.getHttpServer()).post('/v1/accounts').set(admin).send({ accountId, name: accountId, plan }).expect(201);
    }
    await seeding.close();

    env = {
      ...process.env,
      LEDGER_STORE: 'postgres',
      DATABASE_URL: databaseUrl,
      LEDGER_DATA_DIR: unusedDataDir,
      LEDGER_ADMIN_KEY: ADMIN_KEY,
      LOG_LEVEL: 'warn',
      LEDGER_SHUTDOWN_GRACE_SECONDS: '1',
      LEDGER_CYCLES_INTERVAL_SECONDS: '10',
    };
    instances = await Promise.all([0, 1, 2].map(() => ApiInstance.create(env)));
    await Promise.all(instances.map((instance) => instance.start())); // three schedulers start at the same moment
    for (const accountId of loadAccounts) expect((await post(instances[0].base, '/v1/accounts', { accountId, name: accountId, plan })).status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.kill()));
    await dropTestDatabase(databaseUrl).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('the billing job, running on all three at once, resets each due account exactly once', async () => {
    const resets = () =>
      query<{ stream_id: string; cycle_id: string }>(`SELECT stream_id, data->>'cycleId' AS cycle_id FROM ledger_events WHERE type = 'CycleReset'`);
    for (let waited = 0; (await resets()).length < billingAccounts.length && waited < 60_000; waited += 250) await new Promise((r) => setTimeout(r, 250));
    // Two more scheduler periods: every instance ticks again and finds nothing left to do.
    await new Promise((r) => setTimeout(r, 21_000));
    const rows = await resets();
    expect(rows).toHaveLength(billingAccounts.length);
    expect(new Set(rows.map((row) => row.stream_id)).size).toBe(billingAccounts.length);
    const scrapes = await Promise.all(instances.map(async (instance) => (await fetch(`${instance.base}/metrics`)).text()));
    expect(scrapes.reduce((sum, text) => sum + metricValue(text, 'ledger_billing_cycle_resets_total'), 0)).toBe(billingAccounts.length);
    expect(scrapes.reduce((sum, text) => sum + metricValue(text, 'ledger_billing_runs_total', { outcome: 'completed' }), 0)).toBeGreaterThan(0);
  }, 120_000);

  it('a key created with the CLI is accepted by every instance; once revoked, every instance refuses it after the cache TTL', async () => {
    const cliEnv = { ...env, LOG_LEVEL: 'silent' };
    const created = runCli(cliEnv, 'keys', 'create', '--account', 'load-0', '--role', 'analyst', '--json');
    expect(created.status).toBe(0);
    const { key, keyId } = JSON.parse(created.stdout) as { key: string; keyId: string };
    const auth = { Authorization: `Bearer ${key}` };
    for (const instance of instances) expect((await get(instance.base, '/v1/accounts/load-0/balances', auth)).status).toBe(200);
    expect(runCli(cliEnv, 'keys', 'revoke', keyId).status).toBe(0);
    // The bound: API_KEY_CACHE_TTL_MS (500 ms) after the revocation, no instance accepts the key (documented as 1 s).
    await new Promise((r) => setTimeout(r, API_KEY_CACHE_TTL_MS + 50));
    for (const instance of instances) expect((await get(instance.base, '/v1/accounts/load-0/balances', auth)).status).toBe(401);
    expect(runCli(cliEnv, 'keys', 'list', '--account', 'load-0').stdout).toMatch(new RegExp(`${keyId}.*revoked`));
  });

  it('every read endpoint answers the same on every instance for the same minPosition', async () => {
    let position = 0;
    for (let index = 0; index < 9; index++) {
      const instance = instances[index % 3];
      const answer = await post(instance.base, '/v1/accounts/load-1/consumptions', {
        consumptionId: `read-${index}`,
        userId: `user-${index % 2}`,
        creditType: 'email',
        feature: 'search',
        action: 'reveal',
        credits: 2,
      });
      expect(answer.status).toBe(201);
      position = Math.max(position, answer.body.position as number);
    }
    // An explicit window: the default one ends "now", which differs by a few ms between two answers.
    const window = `from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 86_400_000).toISOString()}`;
    const paths = ['history', `usage/by-user?${window}`, `usage/by-feature?${window}`, `usage/series?${window}`, 'filters'].map(
      (path) => `/v1/accounts/load-1/${path}${path.includes('?') ? '&' : '?'}minPosition=${position}`,
    );
    paths.push('/v1/accounts/load-1/balances', '/v1/accounts/load-1/cycles', '/v1/accounts/load-1/events', '/v1/accounts/load-1/alerts');
    for (const path of paths) {
      const answers = await Promise.all(instances.map((instance) => get(instance.base, path)));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
      expect(answers[1].body).toEqual(answers[0].body);
      expect(answers[2].body).toEqual(answers[0].body);
    }
  });

  it('metrics: requests, commands and appends counted exactly as sent, process metrics present', async () => {
    const instance = instances[2];
    const scrape = async () => (await fetch(`${instance.base}/metrics`)).text();
    const before = await scrape();
    const route = '/v1/accounts/:accountId/consumptions';
    for (let index = 0; index < 7; index++)
      expect((await post(instance.base, '/v1/accounts/load-2/consumptions', consumptionOf(`m-${index}`))).status).toBe(201);
    expect((await post(instance.base, '/v1/accounts/load-2/consumptions', consumptionOf('m-0'))).status).toBe(200); // a retry
    const batch = await post(instance.base, '/v1/accounts/load-2/consumptions/batch', {
      items: [consumptionOf('mb-0'), consumptionOf('mb-1'), consumptionOf('mb-2')],
    });
    expect(batch.status).toBe(200);
    expect((await post(instance.base, '/v1/accounts/load-2/consumptions', { ...consumptionOf('m-big'), creditType: 'sms' })).status).toBe(409);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => metricValue(after, name, labels) - metricValue(before, name, labels);

    expect(delta('ledger_http_requests_total', { method: 'POST', route, status: '201' })).toBe(7);
    expect(delta('ledger_http_requests_total', { method: 'POST', route, status: '200' })).toBe(1);
    expect(delta('ledger_http_requests_total', { method: 'POST', route, status: '409' })).toBe(1);
    expect(delta('ledger_http_requests_total', { method: 'POST', route: `${route}/batch`, status: '200' })).toBe(1);
    expect(delta('ledger_http_request_duration_seconds_count', { route })).toBe(9);
    expect(delta('ledger_commands_total', { type: 'ConsumeCredits', outcome: 'accepted' })).toBe(10);
    expect(delta('ledger_commands_total', { type: 'ConsumeCredits', outcome: 'duplicate' })).toBe(1);
    expect(delta('ledger_commands_total', { type: 'ConsumeCredits', outcome: 'refused' })).toBe(1);
    // 7 single appends and 1 batch append, each durable.
    expect(delta('ledger_event_store_append_duration_seconds_count', { store: 'postgres', outcome: 'stored' })).toBe(8);
    expect(delta('ledger_event_store_appended_events_total', { store: 'postgres' })).toBeGreaterThanOrEqual(10);
    expect(delta('ledger_event_store_group_commit_appends_sum', { store: 'postgres' })).toBe(8);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'ledger_projection_lag_events']) {
      expect(after).toMatch(new RegExp(`^${name}`, 'm'));
    }
  });

  it('rolling restart under load: nothing acknowledged lost or doubled, only 503 with Retry-After, verify finds nothing', async () => {
    let stop = false;
    const load = runConsumptionLoad({
      bases: () => instances.map((instance) => instance.base),
      apiKey: ADMIN_KEY,
      accounts: loadAccounts,
      clients: 12,
      batchEvery: 3,
      batchSize: 5,
      idPrefix: 'roll',
      shouldStop: () => stop,
    });
    await new Promise((r) => setTimeout(r, 1_000));
    for (const instance of instances) {
      expect(await instance.terminate()).toBe(0);
      expect(instance.stdout).toMatch(/credit-ledger stopped: .*"cutConnections":false/);
      await instance.start();
      await new Promise((r) => setTimeout(r, 500));
    }
    stop = true;
    const report = await load;
    expect(report.violations).toEqual([]);
    expect(report.acknowledged.size).toBeGreaterThan(100);
    await expectStoredExactlyOnce(report.acknowledged, 'roll');
    // verify compares the read models with the log: let the projections apply the last events first.
    for (let waited = 0; waited < 60_000; waited += 200) {
      const lag = metricValue(await (await fetch(`${instances[0].base}/metrics`)).text(), 'ledger_projection_lag_events');
      if (lag === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const verify = runCli({ ...env, LOG_LEVEL: 'silent' }, 'verify');
    expect(verify.stdout).toMatch(/OK: .* 0 difference/);
    expect(verify.status).toBe(0);
  }, 240_000);

  it('one instance SIGKILLed under load loses nothing acknowledged', async () => {
    let stop = false;
    const load = runConsumptionLoad({
      bases: () => instances.map((instance) => instance.base),
      apiKey: ADMIN_KEY,
      accounts: loadAccounts,
      clients: 12,
      batchEvery: 3,
      batchSize: 5,
      idPrefix: 'kill',
      shouldStop: () => stop,
    });
    await new Promise((r) => setTimeout(r, 1_500));
    await instances[1].kill();
    await new Promise((r) => setTimeout(r, 1_000));
    await instances[1].start();
    await new Promise((r) => setTimeout(r, 1_000));
    stop = true;
    const report = await load;
    expect(report.violations).toEqual([]);
    await expectStoredExactlyOnce(report.acknowledged, 'kill');
  }, 180_000);

  it('never touched LEDGER_DATA_DIR', () => {
    expect(existsSync(unusedDataDir)).toBe(false);
  });

  function consumptionOf(consumptionId: string) {
    return { consumptionId, userId: 'metrics', creditType: 'email', feature: 'metrics', action: 'consume', credits: 1 };
  }

  /** Every acknowledged id is in the log once, nothing else of this run is; balances equal the fold of the log. */
  async function expectStoredExactlyOnce(acknowledged: Map<string, string>, prefix: string): Promise<void> {
    const rows = await query<{ id: string; copies: string; stream_id: string }>(
      `SELECT data->>'consumptionId' AS id, count(*) AS copies, min(stream_id) AS stream_id FROM ledger_events
       WHERE type = 'CreditConsumed' AND data->>'consumptionId' LIKE $1 GROUP BY 1`,
      [`${prefix}-%`],
    );
    const stored = new Map(rows.map((row) => [row.id, row]));
    for (const [id, accountId] of acknowledged) {
      expect(stored.get(id)).toMatchObject({ copies: '1', stream_id: accountStream(accountId) });
    }
    expect(rows.every((row) => row.copies === '1')).toBe(true);
    // Balances (decided on the folded stream) against the count of consumptions in the log.
    for (const accountId of loadAccounts) {
      const [row] = await query<{ used: string | null }>(
        `SELECT sum((data->>'creditsCharged')::bigint)::text AS used FROM ledger_events WHERE type = 'CreditConsumed' AND stream_id = $1`,
        [accountStream(accountId)],
      );
      const used = Number(row.used ?? 0);
      const balances = await get(instances[0].base, `/v1/accounts/${accountId}/balances`);
      expect(balances.body.balances[0]).toMatchObject({ used, remaining: 1_000_000_000 - used });
    }
  }
});

describe('start-up on EventStoreDB', () => {
  it('fails with a clear message without DATABASE_URL', () => {
    const { DATABASE_URL: _, ...rest } = process.env;
    const result = spawnSync(process.execPath, [SERVER_ENTRY], {
      env: { ...rest, LEDGER_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:2113?tls=false', PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('LEDGER_STORE=eventstoredb needs DATABASE_URL');
  });
});
