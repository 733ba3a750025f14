import { changePlan, consume, grant, open, refund, reset } from '../../domain/src/testing/fixtures';
import { HistoryQueries } from './history/history.query';
import { activeTable, ProjectionRunner, projectionStates } from './projection-runner';
import { Projector } from './projector';
import { givenProjected, recordedFrom } from './testing/projection-fixtures';
import { UsageQueries } from './usage/usage.query';
import { openReadModelDb } from './read-model-db';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../domain/src/testing/fixtures';

const D1 = '2026-11-10T09:00:00.000Z';
const D2 = '2026-11-11T15:30:00.000Z';
const D3 = '2026-12-01T00:00:00.000Z';

const scenario = () => [
  open('2026-11-10T08:00:00.000Z'),
  consume('c1', 3, { userId: 'ana', feature: 'people_search', action: 'email_reveal', description: 'Jane Doe', dataRequested: 'email', dataKey: 'k1' }, D1),
  consume('c2', 1, { userId: 'ben', feature: 'people_search', action: 'email_reveal', dataKey: 'k1' }, D1),
  consume('c3', 2, { userId: 'ben', creditType: 'mobile', feature: 'people_search', action: 'mobile_reveal' }, D2),
  consume('c4', 5, { userId: 'ana', creditType: 'export', feature: 'exports', action: 'csv_export' }, D2),
  refund('r1', 'c1', 1, D2),
  grant('g1', 10, {}, D2),
  reset('2026-12', D3),
];

describe('projectors (given events, when projected, then read models)', () => {
  it('history: one row per movement, refunds negative, already-purchased accesses at 0, newest first', () => {
    const { db } = givenProjected(scenario());
    const page = new HistoryQueries(db).page({ accountId: 'acme', includeRefunds: true }, 100);
    expect(page.items.map((i) => [i.kind, i.creditType, i.credits, i.userId])).toEqual([
      ['cycle_reset', 'mobile', 10, null],
      ['cycle_reset', 'export', 50, null],
      ['cycle_reset', 'email', 100, null],
      ['grant', 'email', 10, null],
      ['refund', 'email', -1, 'ana'],
      ['consumption', 'export', 5, 'ana'],
      ['consumption', 'mobile', 2, 'ben'],
      ['consumption', 'email', 0, 'ben'],
      ['consumption', 'email', 3, 'ana'],
    ]);
    const consumption = page.items.find((i) => i.consumptionId === 'c2');
    expect(consumption).toMatchObject({ alreadyPurchased: true, credits: 0, feature: 'people_search', action: 'email_reveal' });
    const r = page.items.find((i) => i.kind === 'refund');
    expect(r).toMatchObject({ consumptionId: 'c1', refundId: 'r1', description: 'bounced', feature: 'people_search' });
  });

  it('usage by user and by feature: consumed, refunded, net, count, distinct users', () => {
    const { db } = givenProjected(scenario());
    const q = new UsageQueries(db);
    const range = { accountId: 'acme', from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-12-01T00:00:00Z') };
    expect(q.byUser(range)).toEqual({
      items: [
        { userId: 'ana', consumed: 8, refunded: 1, net: 7, count: 2 },
        { userId: 'ben', consumed: 2, refunded: 0, net: 2, count: 2 },
      ],
      totals: { consumed: 10, refunded: 1, net: 9, count: 4 },
    });
    expect(q.byFeature(range).items).toEqual([
      { feature: 'exports', action: 'csv_export', consumed: 5, refunded: 0, net: 5, count: 1, distinctUsers: 1 },
      { feature: 'people_search', action: 'email_reveal', consumed: 3, refunded: 1, net: 2, count: 2, distinctUsers: 2 },
      { feature: 'people_search', action: 'mobile_reveal', consumed: 2, refunded: 0, net: 2, count: 1, distinctUsers: 1 },
    ]);
    expect(q.byUser({ ...range, creditType: 'email' }).totals).toEqual({ consumed: 3, refunded: 1, net: 2, count: 2 });
  });

  it('balances per account, credit type and cycle, with the closing figures on the past cycle', () => {
    const { db } = givenProjected(scenario());
    const rows = db.prepare(`SELECT cycle_id, credit_type, used, refunded, granted, remaining FROM ${activeTable(db, 'balances', 'balances')} ORDER BY cycle_id, credit_type`).all();
    expect(rows).toEqual([
      { cycle_id: '2026-11', credit_type: 'email', used: 3, refunded: 1, granted: 10, remaining: 108 },
      { cycle_id: '2026-11', credit_type: 'export', used: 5, refunded: 0, granted: 0, remaining: 45 },
      { cycle_id: '2026-11', credit_type: 'mobile', used: 2, refunded: 0, granted: 0, remaining: 8 },
      { cycle_id: '2026-12', credit_type: 'email', used: 0, refunded: 0, granted: 10, remaining: 110 },
      { cycle_id: '2026-12', credit_type: 'export', used: 0, refunded: 0, granted: 0, remaining: 50 },
      { cycle_id: '2026-12', credit_type: 'mobile', used: 0, refunded: 0, granted: 0, remaining: 10 },
    ]);
  });

  it('filter catalog: only what has usage', () => {
    const { db } = givenProjected(scenario());
    expect(new UsageQueries(db).filters('acme')).toEqual({
      features: [
        { feature: 'exports', actions: ['csv_export'] },
        { feature: 'people_search', actions: ['email_reveal', 'mobile_reveal'] },
      ],
      actions: ['csv_export', 'email_reveal', 'mobile_reveal'],
      users: ['ana', 'ben'],
      creditTypes: ['email', 'export', 'mobile'],
    });
  });

  it('is idempotent: the same events applied again change nothing', () => {
    const { db, runner, records } = givenProjected(scenario());
    const snapshot = () =>
      ['history', 'usage_by_user', 'usage_hourly', 'balances', 'filter_catalog'].map((n) => db.prepare(`SELECT * FROM ${activeTable(db, n, n)}`).all());
    const before = JSON.stringify(snapshot());
    runner.applyBatch(records);
    runner.applyBatch(records.slice(2, 5));
    expect(JSON.stringify(snapshot())).toBe(before);
    expect(runner.checkpoint()).toBe(records[records.length - 1].position);
  });

  it('cannot apply part of a batch: a failing projector rolls back every read model and the checkpoints, and says where', () => {
    const db = openReadModelDb(mkdtempSync(join(tmpdir(), 'ledger-rm-')));
    const poison: Projector = {
      name: 'poison',
      version: 1,
      schema: () => '',
      tables: () => [],
      prepare: () => (batch) => {
        if (batch.some((e) => e.event.type === 'CreditRefunded')) throw new Error('cannot project a refund');
      },
    };
    const runner = new ProjectionRunner(db, [...new ProjectionRunner(db).projectors, poison]);
    const records = recordedFrom(run(scenario()).events);
    runner.applyBatch(records.slice(0, 5)); // no refund yet
    expect(() => runner.applyBatch(records.slice(5))).toThrow('cannot project a refund');
    expect(runner.checkpoint()).toBe(5);
    expect(db.prepare(`SELECT COUNT(*) AS n FROM ${activeTable(db, 'history', 'history')}`).get()).toEqual({ n: 4 });
    expect(projectionStates(db).find((s) => s.name === 'history')).toMatchObject({ status: 'failed', error: expect.stringContaining('position 6') });
  });

  it('builds a new version next to the live one and switches over when it caught up', () => {
    const db = openReadModelDb(mkdtempSync(join(tmpdir(), 'ledger-rm-')));
    const records = recordedFrom(run(scenario()).events);
    const v1 = new ProjectionRunner(db);
    v1.applyBatch(records);
    v1.promoteCaughtUp(records.length);
    const history = v1.projectors.find((p) => p.name === 'history')!;
    const v2 = new ProjectionRunner(db, [{ ...history, version: 2 }]);
    expect(activeTable(db, 'history', 'history')).toBe('history_v1'); // queries stay on v1 while v2 builds
    v2.applyBatch(records.slice(0, 3));
    v2.promoteCaughtUp(records.length);
    expect(activeTable(db, 'history', 'history')).toBe('history_v1');
    v2.applyBatch(records.slice(3));
    v2.promoteCaughtUp(records.length);
    expect(activeTable(db, 'history', 'history')).toBe('history_v2');
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'history_v1'").get()).toBeUndefined();
  });
});

describe('projectors: billing events', () => {
  it('threshold alerts are non-credit history rows; a plan change effective now is a prorated credit row and updates the balance', () => {
    const { db } = givenProjected([
      open('2026-11-01T00:00:00.000Z'),
      consume('c1', 85, { userId: 'ana' }, '2026-11-05T00:00:00.000Z'),
      changePlan('pro', { email: { allocation: 400, overdraft: { policy: 'deny' } }, mobile: { allocation: 10, overdraft: { policy: 'allow', limit: 5 } }, export: { allocation: 50, overdraft: { policy: 'allow' } } }, 'now', '2026-11-16T00:00:00.000Z'),
    ]);
    const items = new HistoryQueries(db).page({ accountId: 'acme', includeRefunds: true }, 100).items;
    const alert = items.find((i) => i.kind === 'threshold_alert');
    expect(alert).toMatchObject({ creditType: 'email', credits: 0, userId: null });
    expect(alert!.description).toMatch(/80% used|threshold/);
    const plan = items.find((i) => i.kind === 'plan_change' && i.creditType === 'email');
    expect(plan!.description).toMatch(/allocation 100 → 400/);
    expect(plan!.credits).toBeGreaterThan(0);
    const email = db.prepare(`SELECT allocated, remaining FROM ${activeTable(db, 'balances', 'balances')} WHERE credit_type = 'email' AND cycle_id = '2026-11'`).get() as { allocated: number; remaining: number };
    expect(email.allocated).toBe(100 + plan!.credits);
    expect(email.remaining).toBe(100 + plan!.credits - 85);
    // Usage read models count consumptions only.
    expect(new UsageQueries(db).byUser({ accountId: 'acme', from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-12-01T00:00:00Z') }).totals).toEqual({ consumed: 85, refunded: 0, net: 85, count: 1 });
  });
});
