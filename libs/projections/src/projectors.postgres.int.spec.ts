import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { SqliteEventStore } from '../../event-store/src';
import { createTestDatabase, dropTestDatabase } from '../../event-store/src/testing';
import { PostgresReadModelStore } from './postgres/postgres-read-model-store';
import { seedHistory } from './ops/seed';
import { verifyReadModels } from './ops/verify';
import { ProjectionRunner } from './projection-runner';
import { readModelStoreFactory } from './testing/projection-fixtures';
import { describeProjectors, snapshotReadModels } from './testing/projector-suite';

// The given-when-then suite of projectors.spec.ts, on PostgreSQL (a fresh database per store).
describeProjectors('postgres');

describe('projections on PostgreSQL: two processes at once', () => {
  const stores = readModelStoreFactory('postgres');
  const logDir = mkdtempSync(join(tmpdir(), 'ledger-rm-log-'));
  const log = SqliteEventStore.open(logDir);
  afterAll(async () => {
    await stores.closeAll();
    await log.close();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('two runners projecting the same log into the same database apply every event exactly once', async () => {
    await seedHistory(log, { accounts: 6, events: 4_000, seed: 11, months: 2, start: '2026-01-01T00:00:00Z' });
    const head = await log.headPosition();

    const reference = await ProjectionRunner.create(await stores.open());
    await reference.catchUp(log);

    const shared = await stores.open();
    const other = await stores.reopen(); // another pool: another process's connections
    const [a, b] = await Promise.all([ProjectionRunner.create(shared), ProjectionRunner.create(other)]);
    const applied = await Promise.all([a.catchUp(log, { batchSize: 250 }), b.catchUp(log, { batchSize: 250 })]);
    // Both read the whole log; the registry row locks made each batch count once.
    expect(applied.every((n) => n > 0)).toBe(true);
    expect(await a.checkpoint()).toBe(head);
    expect(await snapshotReadModels(shared)).toBe(await snapshotReadModels(reference.store));
    const report = await verifyReadModels(log, shared);
    expect({ differences: report.differenceCount, events: report.eventsChecked }).toEqual({ differences: 0, events: head });
    expect(new Set((await shared.states()).map((s) => s.status))).toEqual(new Set(['live']));
  }, 120_000);
});

describe('projections on PostgreSQL: a lost connection', () => {
  const logDir = mkdtempSync(join(tmpdir(), 'ledger-rm-log-'));
  const log = SqliteEventStore.open(logDir);
  let url = '';
  afterAll(async () => {
    await log.close();
    rmSync(logDir, { recursive: true, force: true });
    if (url) await dropTestDatabase(url);
  });

  /** Polls `condition` until it holds (a bounded number of times; never a wall-clock assertion). */
  async function eventually(condition: () => Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if (await condition()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`never happened: ${what}`);
  }

  it('a batch whose connection is killed mid-transaction is applied again, not marked failed, and never twice', async () => {
    url = await createTestDatabase(undefined, 'readmodels_lost');
    await seedHistory(log, { accounts: 2, events: 500, seed: 5, months: 1, start: '2026-01-01T00:00:00Z' });
    const store = await PostgresReadModelStore.connect(url, { applicationName: 'projections-under-test' });
    const runner = await ProjectionRunner.create(store);
    const admin = new Client({ connectionString: url });
    await admin.connect();
    // Hold the registry rows, so the first batch waits on them inside its transaction; then kill that connection.
    await admin.query('BEGIN');
    await admin.query('SELECT * FROM projection_registry FOR UPDATE');
    const retries: unknown[] = [];
    const subscription = await runner.follow(log, (e) => retries.push(e));
    try {
      let waiting: number | undefined;
      await eventually(async () => {
        const { rows } = await admin.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE application_name = 'projections-under-test' AND wait_event_type = 'Lock'",
        );
        waiting = rows[0]?.pid;
        return waiting !== undefined;
      }, 'a batch waiting on the registry lock');
      await admin.query('SELECT pg_terminate_backend($1)', [waiting]);
      await admin.query('ROLLBACK');
      const head = await log.headPosition();
      await eventually(async () => (await runner.checkpoint()) === head, 'the batch applied after the lost connection');
      expect(retries.length).toBeGreaterThan(0);
      expect((await store.states()).filter((s) => s.status === 'failed')).toEqual([]);
      const report = await verifyReadModels(log, store);
      expect({ differences: report.differenceCount, events: report.eventsChecked }).toEqual({ differences: 0, events: head });
    } finally {
      await admin.end();
      await subscription.stop();
      await store.close();
    }
  }, 120_000);
});
