import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../event-store/src';
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
