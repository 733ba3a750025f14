import { changePlan, consume, grant, open, refund, reset, run } from '@credit-ledger/domain/testing';
import { HistoryQueries } from '../history/history.query';
import { ALL_PROJECTORS, ProjectionRunner } from '../projection-runner';
import { Projector } from '../projector';
import { positionOf, ReadModelStore } from '../read-model-store';
import { UsageQueries } from '../usage/usage.query';
import { givenProjected, readModelStoreFactory, recordedFrom } from './projection-fixtures';

const D1 = '2026-11-10T09:00:00.000Z';
const D2 = '2026-11-11T15:30:00.000Z';
const D3 = '2026-12-01T00:00:00.000Z';

export const scenario = () => [
  open('2026-11-10T08:00:00.000Z'),
  consume('c1', 3, { userId: 'ana', feature: 'people_search', action: 'email_reveal', description: 'Jane Doe', dataRequested: 'email', dataKey: 'k1' }, D1),
  consume('c2', 1, { userId: 'ben', feature: 'people_search', action: 'email_reveal', dataKey: 'k1' }, D1),
  consume('c3', 2, { userId: 'ben', creditType: 'mobile', feature: 'people_search', action: 'mobile_reveal' }, D2),
  consume('c4', 5, { userId: 'ana', creditType: 'export', feature: 'exports', action: 'csv_export' }, D2),
  refund('r1', 'c1', 1, D2),
  grant('g1', 10, {}, D2),
  reset('2026-12', D3),
];

/** The filter options the scenario's usage gives. */
const SCENARIO_FILTERS = {
  features: [
    { feature: 'exports', actions: ['csv_export'] },
    { feature: 'people_search', actions: ['email_reveal', 'mobile_reveal'] },
  ],
  actions: ['csv_export', 'email_reveal', 'mobile_reveal'],
  users: ['ana', 'ben'],
  creditTypes: ['email', 'export', 'mobile'],
};

/** A projector with no tables that calls `check` on each batch (on either store): a test's way to make a batch fail. */
function checkingProjector(name: string, check: (batch: readonly { event: { type: string } }[]) => void): Projector {
  return { name, version: 1, schema: () => '', tables: () => [], prepare: () => check, applyPostgres: async (_client, _t, batch) => check(batch) };
}

/** Every row of every read model, in a stable order (for before/after comparisons). */
export async function snapshotReadModels(store: ReadModelStore): Promise<string> {
  const tables: string[] = [];
  for (const p of ALL_PROJECTORS) for (const base of p.tables((b) => b)) tables.push(await store.activeTable(p.name, base));
  const out: string[][] = [];
  for (const table of tables) out.push((await store.all<Record<string, unknown>>(`SELECT * FROM ${table}`)).map((r) => JSON.stringify(r)).sort());
  return JSON.stringify(out);
}

export async function tableExists(store: ReadModelStore, table: string): Promise<boolean> {
  const sql =
    store.kind === 'sqlite' ? 'SELECT name FROM sqlite_master WHERE name = ?' : 'SELECT table_name FROM information_schema.tables WHERE table_name = ?';
  return (await store.all(sql, [table])).length > 0;
}

/**
 * The projectors' given-when-then tests, for one store: the same events must give the same read
 * models and the same query answers on SQLite and on PostgreSQL.
 */
export function describeProjectors(kind: 'sqlite' | 'postgres'): void {
  const stores = readModelStoreFactory(kind);
  afterAll(() => stores.closeAll());
  const given = (commands: Parameters<typeof givenProjected>[1]) => givenProjected(stores, commands);

  describe(`projectors on ${kind} (given events, when projected, then read models)`, () => {
    it('history: one row per movement, refunds negative, already-purchased accesses at 0, newest first', async () => {
      const { store } = await given(scenario());
      const page = await new HistoryQueries(store).page({ accountId: 'acme', includeRefunds: true }, 100);
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
      expect(typeof r!.rowId).toBe('number'); // bigint columns come back as exact numbers, not strings
    });

    it('usage by user and by feature: consumed, refunded, net, count, distinct users', async () => {
      const { store } = await given(scenario());
      const q = new UsageQueries(store);
      const range = { accountId: 'acme', from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-12-01T00:00:00Z') };
      expect(await q.byUser(range)).toEqual({
        items: [
          { userId: 'ana', consumed: 8, refunded: 1, net: 7, count: 2 },
          { userId: 'ben', consumed: 2, refunded: 0, net: 2, count: 2 },
        ],
        totals: { consumed: 10, refunded: 1, net: 9, count: 4 },
      });
      expect((await q.byFeature(range)).items).toEqual([
        { feature: 'exports', action: 'csv_export', consumed: 5, refunded: 0, net: 5, count: 1, distinctUsers: 1 },
        { feature: 'people_search', action: 'email_reveal', consumed: 3, refunded: 1, net: 2, count: 2, distinctUsers: 2 },
        { feature: 'people_search', action: 'mobile_reveal', consumed: 2, refunded: 0, net: 2, count: 1, distinctUsers: 1 },
      ]);
      expect((await q.byUser({ ...range, creditType: 'email' })).totals).toEqual({ consumed: 3, refunded: 1, net: 2, count: 2 });
    });

    it('balances per account, credit type and cycle, with the closing figures on the past cycle', async () => {
      const { store } = await given(scenario());
      const rows = await store.all(
        `SELECT cycle_id, credit_type, used, refunded, granted, remaining FROM ${await store.activeTable('balances', 'balances')} ORDER BY cycle_id, credit_type`,
      );
      expect(rows).toEqual([
        { cycle_id: '2026-11', credit_type: 'email', used: 3, refunded: 1, granted: 10, remaining: 108 },
        { cycle_id: '2026-11', credit_type: 'export', used: 5, refunded: 0, granted: 0, remaining: 45 },
        { cycle_id: '2026-11', credit_type: 'mobile', used: 2, refunded: 0, granted: 0, remaining: 8 },
        { cycle_id: '2026-12', credit_type: 'email', used: 0, refunded: 0, granted: 10, remaining: 110 },
        { cycle_id: '2026-12', credit_type: 'export', used: 0, refunded: 0, granted: 0, remaining: 50 },
        { cycle_id: '2026-12', credit_type: 'mobile', used: 0, refunded: 0, granted: 0, remaining: 10 },
      ]);
    });

    it('filter catalog: only what has usage', async () => {
      const { store } = await given(scenario());
      expect(await new UsageQueries(store).filters('acme')).toEqual(SCENARIO_FILTERS);
    });

    it('is idempotent: the same events applied again change nothing', async () => {
      const { store, runner, records } = await given(scenario());
      const before = await snapshotReadModels(store);
      await runner.applyBatch(records);
      await runner.applyBatch(records.slice(2, 5));
      expect(await snapshotReadModels(store)).toBe(before);
      expect(await runner.checkpoint()).toBe(records[records.length - 1].position);
    });

    it('a batch applied in parts, or with overlaps, gives the same read models as in one go', async () => {
      const { store: whole, records } = await given(scenario());
      const parts = await ProjectionRunner.create(await stores.open());
      await parts.applyBatch(records.slice(0, 3));
      await parts.applyBatch(records.slice(1, 6)); // overlaps what was applied
      await parts.applyBatch(records.slice(6));
      expect(await snapshotReadModels(parts.store)).toBe(await snapshotReadModels(whole));
    });

    it('cannot apply part of a batch: a failing projector rolls back every read model and the checkpoints, and says where', async () => {
      const store = await stores.open();
      const failIfRefund = (batch: readonly { event: { type: string } }[]) => {
        if (batch.some((e) => e.event.type === 'CreditRefunded')) throw new Error('cannot project a refund');
      };
      const runner = await ProjectionRunner.create(store, [...ALL_PROJECTORS, checkingProjector('poison', failIfRefund)]);
      const records = recordedFrom(run(scenario()).events);
      await runner.applyBatch(records.slice(0, 5)); // no refund yet
      await expect(runner.applyBatch(records.slice(5))).rejects.toThrow('cannot project a refund');
      expect(await runner.checkpoint()).toBe(5);
      expect(await store.all(`SELECT COUNT(*) AS n FROM ${await store.activeTable('history', 'history')}`)).toEqual([{ n: 4 }]);
      expect((await store.states()).find((s) => s.name === 'history')).toMatchObject({ status: 'failed', error: expect.stringContaining('position 6') });
    });

    it('a batch rolled back is written again in full when applied again (no applier remembers rows that were rolled back)', async () => {
      const store = await stores.open();
      let failures = 1;
      const failOnce = (batch: readonly { event: { type: string } }[]) => {
        if (batch.some((e) => e.event.type === 'CreditConsumed') && failures-- > 0) throw new Error('the disk is full');
      };
      const runner = await ProjectionRunner.create(store, [...ALL_PROJECTORS, checkingProjector('flaky', failOnce)]);
      const records = recordedFrom(run(scenario()).events);
      await expect(runner.applyBatch(records.slice(0, 5))).rejects.toThrow('the disk is full');
      await runner.applyBatch(records.slice(0, 5));
      expect(await new UsageQueries(store).filters('acme')).toEqual(SCENARIO_FILTERS);
    });

    it('a reset by another writer of the same read models is seen: the next batch writes every row it needs', async () => {
      const store = await stores.open();
      const live = await ProjectionRunner.create(store);
      const records = recordedFrom(run(scenario()).events);
      await live.applyBatch(records.slice(0, 3)); // ana and ben on people_search / email_reveal
      const other = await ProjectionRunner.create(await stores.reopen());
      await other.store.reset(ALL_PROJECTORS); // a replay elsewhere starts over: the tables are empty
      await other.applyBatch(records.slice(0, 1));
      await live.applyBatch(records.slice(1, 5)); // the same users and features again, and more
      expect(await new UsageQueries(store).filters('acme')).toEqual(SCENARIO_FILTERS);
    });

    it('a poison event stops the read models exactly at it: the events before it in the batch are applied, it and the rest are not', async () => {
      const store = await stores.open();
      const runner = await ProjectionRunner.create(store);
      const records = recordedFrom(run(scenario()).events);
      records[5] = { ...records[5], type: 'CreditTeleported' }; // position 6: a type this program does not know
      await expect(runner.applyBatch(records)).rejects.toThrow(/position 6 \(CreditTeleported/);
      expect(await runner.checkpoint()).toBe(5);
      expect(await store.all(`SELECT COUNT(*) AS n FROM ${await store.activeTable('history', 'history')}`)).toEqual([{ n: 4 }]);
      const states = await store.states();
      expect(states.every((s) => s.status === 'failed' && s.error!.startsWith('stopped at position 6:'))).toBe(true);
      expect(positionOf(states)).toBe(await store.position()); // failed read models count for neither
      await expect(runner.applyBatch(records.slice(5))).rejects.toThrow(/position 6/); // never skipped
      expect(await runner.checkpoint()).toBe(5);
    });

    it('builds a new version next to the live one and switches over when it caught up', async () => {
      const store = await stores.open();
      const records = recordedFrom(run(scenario()).events);
      const v1 = await ProjectionRunner.create(store);
      await v1.applyBatch(records);
      await v1.promoteCaughtUp(records.length);
      const history = v1.projectors.find((p) => p.name === 'history')!;
      const live = `history_v${history.version}`;
      const next = `history_v${history.version + 1}`;
      const v2 = await ProjectionRunner.create(store, [{ ...history, version: history.version + 1 }]);
      expect(await store.activeTable('history', 'history')).toBe(live); // queries stay on the live version while the next builds
      await v2.applyBatch(records.slice(0, 3));
      await v2.promoteCaughtUp(records.length);
      expect(await store.activeTable('history', 'history')).toBe(live);
      await v2.applyBatch(records.slice(3));
      await v2.promoteCaughtUp(records.length);
      expect(await store.activeTable('history', 'history')).toBe(next);
      expect(await tableExists(store, live)).toBe(false);
      expect((await new HistoryQueries(store).page({ accountId: 'acme', includeRefunds: true }, 100)).items).toHaveLength(9);
    });

    it('a reset rebuilds from checkpoint 0, marked rebuilding, and ends equal', async () => {
      const { store, runner, records } = await given(scenario());
      const before = await snapshotReadModels(store);
      await runner.reset(['history']);
      expect((await store.states()).find((s) => s.name === 'history')).toMatchObject({ status: 'rebuilding', checkpoint: 0 });
      expect(await runner.checkpoint()).toBe(0);
      // /health computes the position from the states it read: the same answer as position().
      expect(positionOf(await store.states())).toBe(await store.position());
      await runner.applyBatch(records.slice(0, 4));
      expect(positionOf(await store.states())).toBe(await store.position());
      await runner.applyBatch(records);
      await runner.promoteCaughtUp(records.length);
      expect(await snapshotReadModels(store)).toBe(before);
      expect(new Set((await store.states()).map((s) => s.status))).toEqual(new Set(['live']));
      expect(await store.position()).toBe(records.length);
    });
  });

  describe(`projectors on ${kind}: billing events`, () => {
    it('threshold alerts are non-credit history rows; a plan change effective now is a prorated credit row and updates the balance', async () => {
      const { store } = await given([
        open('2026-11-01T00:00:00.000Z'),
        consume('c1', 85, { userId: 'ana' }, '2026-11-05T00:00:00.000Z'),
        changePlan(
          'pro',
          {
            email: { allocation: 400, overdraft: { policy: 'deny' } },
            mobile: { allocation: 10, overdraft: { policy: 'allow', limit: 5 } },
            export: { allocation: 50, overdraft: { policy: 'allow' } },
          },
          'now',
          '2026-11-16T00:00:00.000Z',
        ),
      ]);
      const items = (await new HistoryQueries(store).page({ accountId: 'acme', includeRefunds: true }, 100)).items;
      const alert = items.find((i) => i.kind === 'threshold_alert');
      expect(alert).toMatchObject({ creditType: 'email', credits: 0, userId: null });
      expect(alert!.description).toMatch(/80% used|threshold/);
      const plan = items.find((i) => i.kind === 'plan_change' && i.creditType === 'email');
      expect(plan!.description).toMatch(/allocation 100 → 400/);
      expect(plan!.credits).toBeGreaterThan(0);
      const [email] = await store.all<{ allocated: number; remaining: number }>(
        `SELECT allocated, remaining FROM ${await store.activeTable('balances', 'balances')} WHERE credit_type = 'email' AND cycle_id = '2026-11'`,
      );
      expect(email.allocated).toBe(100 + plan!.credits);
      expect(email.remaining).toBe(100 + plan!.credits - 85);
      // Usage read models count consumptions only.
      expect(
        (await new UsageQueries(store).byUser({ accountId: 'acme', from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-12-01T00:00:00Z') })).totals,
      ).toEqual({
        consumed: 85,
        refunded: 0,
        net: 85,
        count: 1,
      });
    });
  });
}
