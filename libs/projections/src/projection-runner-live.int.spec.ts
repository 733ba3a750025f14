import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { waitFor } from '@credit-ledger/event-store/testing';
import { seedHistory } from './ops/seed';
import { verifyReadModels } from './ops/verify';
import { ProjectionRunner } from './projection-runner';
import { readModelStoreFactory } from './testing/projection-fixtures';

describe('following the log live (SQLite log and read models)', () => {
  const readModels = readModelStoreFactory('sqlite');
  let dir: string;
  let log: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-live-'));
    log = SqliteEventStore.open(dir);
  });
  afterEach(async () => {
    await readModels.closeAll();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends arriving while a live batch waits its interval are applied together, in one transaction, and the read models match the log', async () => {
    const store = await readModels.open();
    const runner = await ProjectionRunner.create(store);
    const batches: number[] = [];
    const apply = runner.applyBatch.bind(runner);
    runner.applyBatch = (records) => {
      batches.push(records.length);
      return apply(records);
    };
    // A long interval, so that every append of the seed below lands within it whatever the machine's speed.
    const subscription = await runner.follow(log, undefined, 5_000);
    try {
      // One append at a time: 8 accounts, each its own appends.
      const seeded = await seedHistory(log, { accounts: 8, events: 200, seed: 11, months: 1, start: '2026-01-01T00:00:00Z', appendsInFlight: 1 });
      const head = await log.headPosition();
      expect(head).toBe(seeded.events);
      await waitFor('every event applied', async () => (await runner.checkpoint()) === head);
      // The first two appends are applied as soon as they are seen (no steady stream yet); the
      // others arrived during the interval after the second.
      expect(batches.length).toBeLessThanOrEqual(3);
      expect(batches.reduce((sum, n) => sum + n, 0)).toBe(head);
      const report = await verifyReadModels(log, store);
      expect({ differences: report.differenceCount, events: report.eventsChecked }).toEqual({ differences: 0, events: head });
    } finally {
      // A stop ends the interval's wait at once (this test would time out otherwise).
      await subscription.stop();
    }
  });
});
