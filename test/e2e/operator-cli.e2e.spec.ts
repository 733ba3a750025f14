import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { createTestDatabase, dropTestDatabase } from '@credit-ledger/event-store/testing';
import { historyProjector, ProjectionRunner, READ_MODEL_FILE_NAME, seedHistory } from '@credit-ledger/projections';
import { readModelStoreFactory, snapshotReadModels } from '@credit-ledger/projections/testing';
import { ADMIN_KEY, consumption, PLAN, tempDataDir } from '../support/ledger-harness';
import { exited, freePort, get, post, startServer } from '../support/server-process';

const CLI = join(__dirname, '../../dist/apps/ledger-cli/src/main.js');

describe.each(['sqlite', 'postgres'] as const)('operator commands on %s: seed, replay, verify', (kind) => {
  const dataDir = tempDataDir();
  let databaseUrl = '';
  const stores = readModelStoreFactory(kind);
  beforeAll(async () => {
    if (kind === 'postgres') databaseUrl = await createTestDatabase(undefined, 'operator_cli');
  });
  afterAll(async () => {
    await stores.closeAll();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const storeEnv = () => ({
    ...process.env,
    LEDGER_DATA_DIR: dataDir,
    ...(kind === 'postgres' ? { LEDGER_STORE: 'postgres', DATABASE_URL: databaseUrl } : { LEDGER_STORE: 'sqlite' }),
  });

  function cli(...args: string[]) {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it first)`);
    return spawnSync(process.execPath, [CLI, ...args], { env: storeEnv(), encoding: 'utf8' });
  }

  /** Changes read-model rows behind the projections' back (the same SQL on both stores). */
  async function tamper(statements: string[]): Promise<void> {
    if (kind === 'sqlite') {
      const db = new Database(join(dataDir, READ_MODEL_FILE_NAME));
      for (const sql of statements) db.exec(sql);
      db.close();
      return;
    }
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      for (const sql of statements) await client.query(sql);
    } finally {
      await client.end();
    }
  }

  it('seeds a reproducible history, replays every read model from 0, and verify finds no difference', () => {
    const seeded = cli('seed', '--accounts', '12', '--events', '6000', '--seed', '7');
    expect(seeded.status === 0 ? 'ok' : seeded.stderr).toBe('ok');
    expect(seeded.stdout).toMatch(/seeded \d+ events for 12 accounts/);
    const replay = cli('replay');
    expect(replay.stderr).toMatch(/starting replay of history, usage_by_user/);
    expect(replay.status).toBe(0);
    expect(replay.stdout).toMatch(/replayed \d+ events/);
    const verify = cli('verify');
    expect(verify.stdout).toMatch(/^OK: \d+ events, 12 accounts checked: 0 difference\(s\)/m);
    expect(verify.status).toBe(0);
    expect(cli('verify', '--account', 'seed_00003').status).toBe(0);
    // The read models are where the store says: a file next to the SQLite log, else none at all.
    expect(existsSync(join(dataDir, READ_MODEL_FILE_NAME))).toBe(kind === 'sqlite');
  });

  it('verify detects a tampered read-model row and exits 1', async () => {
    await tamper([
      `UPDATE usage_by_user_v1 SET consumed = consumed + 1 WHERE (account_id, day, user_id, credit_type, feature, action) =
         (SELECT account_id, day, user_id, credit_type, feature, action FROM usage_by_user_v1 ORDER BY account_id, day, user_id, credit_type, feature, action LIMIT 1)`,
      `UPDATE history_v${historyProjector.version} SET credits = credits + 5 WHERE row_id = (SELECT MAX(row_id) FROM history_v${historyProjector.version} WHERE kind = 'consumption')`,
      "UPDATE balances_v1 SET remaining = remaining - 1 WHERE account_id = 'seed_00001' AND credit_type = 'email' AND cycle_id = '2026-11'",
    ]);
    const verify = cli('verify');
    expect(verify.status).toBe(1);
    expect(verify.stdout).toMatch(/DIFF usage_by_user /);
    expect(verify.stdout).toMatch(/DIFF history row \d+ credits/);
    expect(verify.stdout).toMatch(/DIFF balances seed_00001\|email\|2026-11 remaining/);
    expect(verify.stdout).toMatch(/DIFF balances \(fold\) seed_00001\|email\|2026-11 remaining/);
    expect(cli('verify', '--account', 'seed_00001').status).toBe(1);
    // A replay repairs it.
    expect(cli('replay').status).toBe(0);
    expect(cli('verify').status).toBe(0);
  });

  it('an interrupted replay resumes from its committed checkpoint and ends equal to a full one', async () => {
    const dir = tempDataDir();
    const store = SqliteEventStore.open(dir);
    try {
      await seedHistory(store, { accounts: 5, events: 8000, seed: 3, months: 3, start: '2026-01-01T00:00:00Z' });
      const full = await ProjectionRunner.create(await stores.open());
      await full.catchUp(store);

      const readModels = await stores.open();
      const first = await ProjectionRunner.create(readModels);
      await first.reset();
      let batches = 0;
      await first.catchUp(store, { batchSize: 1000, shouldStop: () => batches++ >= 3 });
      expect(await first.checkpoint()).toBe(3000);
      expect(new Set((await readModels.states()).map((s) => s.status))).toEqual(new Set(['rebuilding']));
      const resumed = await ProjectionRunner.create(await stores.reopen());
      await resumed.catchUp(store, { batchSize: 1000 });
      expect(new Set((await readModels.states()).map((s) => s.status))).toEqual(new Set(['live']));
      expect(await snapshotReadModels(readModels)).toBe(await snapshotReadModels(full.store));
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('project keeps the read models of a server started with LEDGER_PROJECTIONS=off up to date', async () => {
    const env = { ...storeEnv(), LEDGER_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', LEDGER_PROJECTIONS: 'off' };
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const headers = { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' };
    const server = await startServer(env, port);
    const projector = spawn(process.execPath, [CLI, 'project'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let projectorLog = '';
    projector.stderr.on('data', (d: Buffer) => (projectorLog += d.toString()));
    try {
      expect((await post(base, headers, '/v1/accounts', { accountId: 'projected', name: 'Projected', plan: PLAN })).status).toBe(201);
      const consumed = await post(base, headers, '/v1/accounts/projected/consumptions', consumption('p1', { userId: 'ana' }));
      expect(consumed.status).toBe(201);
      // The server projects nothing itself: only the separate process can bring the read models there.
      // A 503 READ_MODELS_BEHIND says "retry": a client does, for as long as the projector may take to start on a busy machine.
      let history = await get(base, headers, `/v1/accounts/projected/history?minPosition=${consumed.body.position}`);
      for (const deadline = Date.now() + 60_000; history.status === 503 && Date.now() < deadline;) {
        expect(history.body.error).toBe('READ_MODELS_BEHIND');
        await new Promise((resolve) => setTimeout(resolve, 500));
        history = await get(base, headers, `/v1/accounts/projected/history?minPosition=${consumed.body.position}`);
      }
      expect({ status: history.status, log: projectorLog }).toMatchObject({ status: 200 });
      expect(history.body.items.map((i: { consumptionId: string }) => i.consumptionId)).toEqual(['p1']);
    } finally {
      projector.kill('SIGTERM');
      await exited(projector);
      server.kill('SIGKILL');
      await exited(server);
    }
    expect({ exitCode: projector.exitCode, signal: projector.signalCode, log: projectorLog }).toMatchObject({ exitCode: 0 });
    expect(projectorLog).toMatch(/projecting from position \d+/);
  }, 60_000);

  it('refuses unknown projections and bad arguments', () => {
    const r = cli('replay', '--projection', 'nope');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown projection nope/);
    expect(cli('seed', '--events', '-5').status).not.toBe(0);
  });
});
