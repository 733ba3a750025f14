import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore } from '../../libs/event-store/src';
import { openReadModelDb, ProjectionRunner, READ_MODEL_FILE_NAME, seedHistory } from '../../libs/projections/src';
import { tempDataDir } from '../support/ledger-harness';

const CLI = join(__dirname, '../../dist/apps/ledger-cli/src/main.js');

function cli(dataDir: string, ...args: string[]) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it first)`);
  return spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, LEDGER_DATA_DIR: dataDir }, encoding: 'utf8' });
}

describe('operator commands: seed, replay, verify', () => {
  const dataDir = tempDataDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('seeds a reproducible history, replays every read model from 0, and verify finds no difference', () => {
    const seeded = cli(dataDir, 'seed', '--accounts', '12', '--events', '6000', '--seed', '7');
    expect(seeded.status).toBe(0);
    expect(seeded.stdout).toMatch(/seeded \d+ events for 12 accounts/);
    const replay = cli(dataDir, 'replay');
    expect(replay.status).toBe(0);
    expect(replay.stderr).toMatch(/starting replay of history, usage_by_user/);
    expect(replay.stdout).toMatch(/replayed \d+ events/);
    const verify = cli(dataDir, 'verify');
    expect(verify.stdout).toMatch(/^OK: \d+ events, 12 accounts checked: 0 difference\(s\)/m);
    expect(verify.status).toBe(0);
    expect(cli(dataDir, 'verify', '--account', 'seed_00003').status).toBe(0);
  });

  it('verify detects a tampered read-model row and exits 1', () => {
    const db = new Database(join(dataDir, READ_MODEL_FILE_NAME));
    const victim = db.prepare('SELECT account_id, day, user_id, credit_type, feature, action FROM usage_by_user_v1 LIMIT 1').get() as Record<string, string>;
    db.prepare('UPDATE usage_by_user_v1 SET consumed = consumed + 1 WHERE account_id = @account_id AND day = @day AND user_id = @user_id AND credit_type = @credit_type AND feature = @feature AND action = @action').run(victim);
    db.prepare("UPDATE history_v1 SET credits = credits + 5 WHERE row_id = (SELECT MAX(row_id) FROM history_v1 WHERE kind = 'consumption')").run();
    db.prepare("UPDATE balances_v1 SET remaining = remaining - 1 WHERE account_id = 'seed_00001' AND credit_type = 'email' AND cycle_id = '2026-11'").run();
    db.close();
    const verify = cli(dataDir, 'verify');
    expect(verify.status).toBe(1);
    expect(verify.stdout).toMatch(/DIFF usage_by_user /);
    expect(verify.stdout).toMatch(/DIFF history row \d+ credits/);
    expect(verify.stdout).toMatch(/DIFF balances seed_00001\|email\|2026-11 remaining/);
    expect(verify.stdout).toMatch(/DIFF balances \(fold\) seed_00001\|email\|2026-11 remaining/);
    // A replay repairs it.
    expect(cli(dataDir, 'replay').status).toBe(0);
    expect(cli(dataDir, 'verify').status).toBe(0);
  });

  it('an interrupted replay resumes from its committed checkpoint and ends equal to a full one', async () => {
    const dir = tempDataDir();
    const store = SqliteEventStore.open(dir);
    try {
    await seedHistory(store, { accounts: 5, events: 8000, seed: 3, months: 3, start: '2026-01-01T00:00:00Z' });
    const full = openReadModelDb(tempDataDir());
    await new ProjectionRunner(full).catchUp(store);

    const db = openReadModelDb(dir);
    const first = new ProjectionRunner(db);
    first.reset();
    let batches = 0;
    await first.catchUp(store, { batchSize: 1000, shouldStop: () => batches++ >= 3 });
    expect(first.checkpoint()).toBe(3000);
    expect(db.prepare("SELECT DISTINCT status FROM projection_registry").all()).toEqual([{ status: 'rebuilding' }]);
    const resumed = new ProjectionRunner(db);
    await resumed.catchUp(store, { batchSize: 1000 });
    expect(db.prepare("SELECT DISTINCT status FROM projection_registry").all()).toEqual([{ status: 'live' }]);
    for (const table of ['history_v1', 'usage_by_user_v1', 'usage_by_feature_v1', 'usage_feature_users_v1', 'usage_hourly_v1', 'balances_v1', 'filter_catalog_v1']) {
      const rows = (d: Database.Database) => JSON.stringify(d.prepare(`SELECT * FROM ${table}`).all().map((r) => JSON.stringify(r)).sort());
      expect({ table, same: rows(db) === rows(full) }).toEqual({ table, same: true });
    }
    db.close();
    full.close();
    } finally {
      await store.close();
    }
  });

  it('refuses unknown projections and bad arguments', () => {
    const r = cli(dataDir, 'replay', '--projection', 'nope');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown projection nope/);
    expect(cli(dataDir, 'seed', '--events', '-5').status).not.toBe(0);
  });
});
