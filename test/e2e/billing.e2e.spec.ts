import { CommandBus } from '@nestjs/cqrs';
import { CyclesJob, CyclesScheduler, DueIndex, EVENT_STORE, loadConfig } from '@credit-ledger/ledger';
import { EventStore } from '@credit-ledger/event-store';
import { consumption, LedgerHarness, PLAN } from '../support/ledger-harness';

const DAY = 86_400_000;

/** CycleReset events per account and cycleId, straight from the store: "exactly once" is checked here. */
async function resetsByAccount(h: LedgerHarness): Promise<Map<string, string[]>> {
  const store = h.app.get<EventStore>(EVENT_STORE);
  const out = new Map<string, string[]>();
  for (let after = 0; ;) {
    const page = await store.readAll({ after, limit: 10_000 });
    if (page.length === 0) return out;
    for (const e of page) {
      if (e.type !== 'CycleReset') continue;
      const account = e.streamId.slice('account-'.length);
      out.set(account, [...(out.get(account) ?? []), (e.data as { cycleId: string }).cycleId]);
    }
    after = page[page.length - 1].position;
  }
}

describe('billing cycles (HTTP, billing job, embedded store, controllable clock)', () => {
  let h: LedgerHarness;
  let job: CyclesJob;
  beforeEach(async () => {
    h = await LedgerHarness.start();
    job = h.app.get(CyclesJob);
  });
  afterEach(() => h.stop());

  const open = (accountId: string, plan: unknown = PLAN) => h.as().post('/v1/accounts', { accountId, name: `Account ${accountId}`, plan });
  const openMany = async (n: number, prefix = 'a', plan: unknown = PLAN) => {
    for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => open(`${prefix}${i + k}`, plan).expect(201)));
  };

  it('the job resets every due account once; run twice, the second run finds nothing to do', async () => {
    await openMany(20);
    await h
      .as()
      .post('/v1/accounts/a0/consumptions', consumption('c1', { credits: 30 }))
      .expect(201);
    h.clock.set('2026-11-30T23:59:00.000Z');
    expect(await job.run()).toMatchObject({ due: 0, reset: 0 });
    h.clock.set('2026-12-01T00:05:00.000Z');
    const first = await job.run();
    expect(first).toMatchObject({ due: 20, reset: 20, cyclesReset: 20, skipped: 0, failed: 0 });
    const second = await job.run();
    expect(second).toMatchObject({ due: 0, reset: 0, failed: 0 });
    const resets = await resetsByAccount(h);
    expect(resets.size).toBe(20);
    for (const ids of resets.values()) expect(ids).toEqual(['2026-12']);
    const cycles = (await h.as().get('/v1/accounts/a0/cycles').expect(200)).body;
    expect(cycles.items[0]).toMatchObject({ cycleId: '2026-12', status: 'open', trigger: 'schedule', startedAt: '2026-12-01T00:00:00.000Z', closing: null });
    expect(cycles.items[1]).toMatchObject({ cycleId: '2026-11', status: 'closed', closedAt: '2026-12-01T00:00:00.000Z' });
    expect(cycles.items[1].closing.find((c: { creditType: string }) => c.creditType === 'email')).toEqual({
      creditType: 'email',
      allocated: 100,
      rolledIn: 0,
      granted: 0,
      used: 30,
      refunded: 0,
      expired: 0,
      remaining: 70,
      expiredAtReset: 70,
      carriedOver: 0,
      rolledOver: 0,
      overdrawn: 0,
      reservedAtReset: 0,
    });
    // Forcing the job on an account already reset: a duplicate, nothing appended.
    expect(await job.run({ accountId: 'a0' })).toMatchObject({ due: 1, reset: 0, skipped: 1 });
  });

  it('two jobs at once: every account is reset exactly once', async () => {
    await openMany(40);
    h.clock.set('2026-12-01T00:05:00.000Z');
    const [a, b] = await Promise.all([job.run({ concurrency: 7 }), job.run({ concurrency: 5 })]);
    expect(a.reset + b.reset).toBe(40);
    expect(a.failed + b.failed).toBe(0);
    for (const ids of (await resetsByAccount(h)).values()) expect(ids).toEqual(['2026-12']);
  });

  it('a run stopped half-way and started again resets the rest, each account once', async () => {
    await openMany(60);
    h.clock.set('2026-12-01T00:05:00.000Z');
    const stop = new AbortController();
    const bus = h.app.get(CommandBus);
    const execute = bus.execute.bind(bus);
    let calls = 0;
    const spy = jest.spyOn(bus, 'execute').mockImplementation((command) => {
      if (++calls === 10) stop.abort(); // the "crash": no new account is taken after the 10th
      return execute(command);
    });
    const partial = await job.run({ concurrency: 2, signal: stop.signal });
    spy.mockRestore();
    expect(partial.aborted).toBe(true);
    expect(partial.reset).toBeGreaterThanOrEqual(10);
    expect(partial.reset).toBeLessThan(60);
    const rest = await job.run();
    expect(rest).toMatchObject({ failed: 0, reset: 60 - partial.reset });
    const resets = await resetsByAccount(h);
    expect(resets.size).toBe(60);
    for (const ids of resets.values()) expect(ids).toEqual(['2026-12']);
  });

  it('catches up three missed cycles in order, each closing its own cycle', async () => {
    await open('late').expect(201);
    await h
      .as()
      .post('/v1/accounts/late/consumptions', consumption('n1', { credits: 10 }))
      .expect(201);
    h.clock.set('2027-02-15T00:00:00.000Z');
    expect(await job.run()).toMatchObject({ due: 1, reset: 1, cyclesReset: 3 });
    const items = (await h.as().get('/v1/accounts/late/cycles').expect(200)).body.items;
    expect(items.map((c: { cycleId: string; startedAt: string; endsAt: string }) => [c.cycleId, c.startedAt, c.endsAt])).toEqual([
      ['2027-02', '2027-02-01T00:00:00.000Z', '2027-03-01T00:00:00.000Z'],
      ['2027-01', '2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
      ['2026-12', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
      ['2026-11', '2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ]);
    const email = (c: { closing: { creditType: string; used: number }[] }) => c.closing.find((x) => x.creditType === 'email');
    expect(email(items[3])).toMatchObject({ used: 10, expiredAtReset: 90 });
    expect(email(items[2])).toMatchObject({ used: 0, expiredAtReset: 100 });
  });

  it('one failing account never stops the others; failures are listed with their reason', async () => {
    await openMany(5);
    await h.app.get(DueIndex).update('ghost', '2026-11-01T00:00:00.000Z'); // a stale row for an account that does not exist
    h.clock.set('2026-12-01T00:05:00.000Z');
    const summary = await job.run();
    expect(summary).toMatchObject({ due: 6, reset: 5, failed: 1, failures: [{ accountId: 'ghost', error: 'ACCOUNT_NOT_FOUND' }] });
  });

  it('dry run lists what would be reset and changes nothing', async () => {
    await openMany(3);
    h.clock.set('2027-01-02T00:00:00.000Z');
    expect(await job.run({ dryRun: true })).toMatchObject({ due: 3, reset: 3, cyclesReset: 6 });
    expect((await resetsByAccount(h)).size).toBe(0);
  });

  it('schedules: last day of the month (Jan 31 -> Feb 28) and a DST zone, through PUT /schedule and the job', async () => {
    h.clock.set('2027-01-10T12:00:00.000Z');
    await open('eom', { ...PLAN, cycle: { period: 'month', anchorDay: 'last', timezone: 'UTC' } }).expect(201);
    const opened = (await h.as().get('/v1/accounts/eom/balances').expect(200)).body;
    expect(opened).toMatchObject({ cycleId: '2026-12', cycleStartedAt: '2026-12-31T00:00:00.000Z', cycleEndsAt: '2027-01-31T00:00:00.000Z' });
    await open('paris').expect(201);
    const put = await h.as().put('/v1/accounts/paris/schedule', { period: 'month', anchorDay: 1, timezone: 'Europe/Paris' }).expect(201);
    expect(put.body).toMatchObject({ schedule: { timezone: 'UTC' }, pendingSchedule: { timezone: 'Europe/Paris' }, effectiveAt: '2027-02-01T00:00:00.000Z' });
    await h.as().put('/v1/accounts/paris/schedule', { period: 'month', anchorDay: 1, timezone: 'Europe/Paris' }).expect(200);
    h.clock.set('2027-04-15T00:00:00.000Z');
    await job.run();
    const eom = (await h.as().get('/v1/accounts/eom/cycles').expect(200)).body.items.map((c: { cycleId: string; startedAt: string }) => [
      c.cycleId,
      c.startedAt,
    ]);
    expect(eom.slice(0, 3).reverse()).toEqual([
      ['2027-01', '2027-01-31T00:00:00.000Z'],
      ['2027-02', '2027-02-28T00:00:00.000Z'],
      ['2027-03', '2027-03-31T00:00:00.000Z'],
    ]);
    const paris = (await h.as().get('/v1/accounts/paris/cycles').expect(200)).body.items.map((c: { cycleId: string; startedAt: string }) => [
      c.cycleId,
      c.startedAt,
    ]);
    // UTC until Feb 1 (the change waited for the boundary), then midnight in Paris: CET (+1) in March, CEST (+2) from April.
    expect(paris.slice(0, 3).reverse()).toEqual([
      ['2027-02-01', '2027-02-01T00:00:00.000Z'], // starts on the old boundary, not a Paris one: labelled with its date
      ['2027-03', '2027-02-28T23:00:00.000Z'],
      ['2027-04', '2027-03-31T22:00:00.000Z'],
    ]);
  });

  it('validates schedules, plans and thresholds field by field (400) and refuses with stable codes (409)', async () => {
    await open('v').expect(201);
    const bad = async (path: string, body: unknown, field: string) => {
      const res = await h.as().put(path, body).expect(400);
      expect(res.body.error).toBe('VALIDATION_FAILED');
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    };
    await bad('/v1/accounts/v/schedule', { period: 'month', anchorDay: 31, timezone: 'UTC' }, 'anchorDay');
    await bad('/v1/accounts/v/schedule', { period: 'month', anchorDay: 1, timezone: 'Mars/Olympus' }, 'timezone');
    await bad('/v1/accounts/v/schedule', { period: 'week', timezone: 'UTC' }, 'anchorDate');
    await bad('/v1/accounts/v/schedule', { period: 'day', every: 0, anchorDate: '2026-11-01', timezone: 'UTC' }, 'every');
    await bad('/v1/accounts/v/plan', { planId: 'pro', creditTypes: { email: { allocation: 1.5 } } }, 'creditTypes.email.allocation');
    await bad(
      '/v1/accounts/v/plan',
      { planId: 'pro', creditTypes: { email: { allocation: 1, rollover: { maxCredits: 1, maxPercent: 2 } } } },
      'creditTypes.email.rollover.maxCredits',
    );
    await bad('/v1/accounts/v/plan', { planId: 'pro', creditTypes: { email: { allocation: 1 } }, effective: 'later' }, 'effective');
    await bad('/v1/accounts/v/thresholds', { creditTypes: { email: [{ kind: 'percent_used', value: 0 }] } }, 'creditTypes.email.0.value');
    await bad('/v1/accounts/v/thresholds', { creditTypes: { email: [{ kind: 'used', value: 3 }] } }, 'creditTypes.email.0.kind');
    await bad('/v1/accounts/v/thresholds', { creditTypes: { email: 'x' } }, 'creditTypes.email');
    const removed = await h
      .as()
      .put('/v1/accounts/v/plan', { planId: 'small', creditTypes: { email: { allocation: 10 } } })
      .expect(409);
    expect(removed.body).toMatchObject({ error: 'PLAN_REMOVES_CREDIT_TYPE', details: { creditTypes: ['export', 'mobile'] } });
    expect(
      (
        await h
          .as()
          .put('/v1/accounts/v/thresholds', { creditTypes: { sms: [] } })
          .expect(409)
      ).body.error,
    ).toBe('UNKNOWN_CREDIT_TYPE');
    await h
      .as()
      .put('/v1/accounts/nobody/plan', { planId: 'p', creditTypes: { email: { allocation: 1 } } })
      .expect(404);
    const analyst = await h.createKey('v', 'analyst');
    await h
      .as(analyst)
      .put('/v1/accounts/v/plan', { planId: 'p', creditTypes: { email: { allocation: 1 } } })
      .expect(403);
    await h.as(analyst).get('/v1/accounts/v/cycles').expect(200);
    await h.as(analyst).get('/v1/accounts/v/alerts').expect(200);
    await h.as().get('/v1/accounts/v/cycles?limit=0').expect(400);
  });

  it('plan changes with exact proration: upgrade now +500, immediate downgrade capped at the unused allocation, default downgrade at the next cycle', async () => {
    const plan = (email: number) => ({
      email: { allocation: email },
      mobile: { allocation: 10, overdraft: { policy: 'allow', limit: 5 } },
      export: { allocation: 50 },
    });
    await open('up', { creditTypes: plan(1000) }).expect(201);
    await open('down', { creditTypes: plan(1000) }).expect(201);
    await h
      .as()
      .post('/v1/accounts/down/consumptions', consumption('d1', { credits: 900 }))
      .expect(201);
    h.clock.set('2026-11-21T00:00:00.000Z'); // 10 of November's 30 days left
    const up = await h
      .as()
      .put('/v1/accounts/up/plan', { planId: 'pro', creditTypes: plan(2500), effective: 'now' })
      .expect(201);
    expect(up.body.lastChange.adjustments.find((a: { creditType: string }) => a.creditType === 'email')).toMatchObject({
      previousAllocation: 1000,
      newAllocation: 2500,
      change: 500,
    });
    expect(up.body.balances.find((b: { creditType: string }) => b.creditType === 'email')).toMatchObject({ allocated: 1500, remaining: 1500 });
    expect(
      (
        await h
          .as()
          .put('/v1/accounts/up/plan', { planId: 'pro', creditTypes: plan(2500), effective: 'now' })
          .expect(200)
      ).body,
    ).toEqual(up.body);
    const down = await h
      .as()
      .put('/v1/accounts/down/plan', { planId: 'basic', creditTypes: plan(400), effective: 'now' })
      .expect(201);
    // floor(600 * 10 / 30) = 200 less, but only 100 are unused: remaining stops at 0.
    expect(down.body.lastChange.adjustments.find((a: { creditType: string }) => a.creditType === 'email')).toMatchObject({
      change: -100,
      uncappedChange: -200,
    });
    expect(down.body.balances.find((b: { creditType: string }) => b.creditType === 'email')).toMatchObject({ allocated: 900, used: 900, remaining: 0 });
    const later = await h
      .as()
      .put('/v1/accounts/up/plan', { planId: 'basic', creditTypes: plan(400) })
      .expect(201);
    expect(later.body).toMatchObject({
      planId: 'pro',
      pending: { planId: 'basic', effectiveAt: '2026-12-01T00:00:00.000Z' },
      lastChange: { effective: 'next_cycle' },
    });
    h.clock.set('2026-12-01T00:01:00.000Z');
    await job.run();
    expect(
      (await h.as().get('/v1/accounts/up/balances').expect(200)).body.balances.find((b: { creditType: string }) => b.creditType === 'email'),
    ).toMatchObject({ allocated: 400, remaining: 400 });
  });

  it('thresholds alert once per cycle, are listed at /alerts and in the audit trail, and alert again in the next cycle', async () => {
    await open('t').expect(201);
    await h
      .as()
      .put('/v1/accounts/t/thresholds', {
        creditTypes: {
          email: [
            { kind: 'percent_used', value: 80 },
            { kind: 'remaining', value: 5 },
          ],
        },
      })
      .expect(201);
    await h
      .as()
      .post('/v1/accounts/t/consumptions', consumption('t1', { credits: 85 }))
      .expect(201);
    await h.as().post('/v1/accounts/t/refunds', { refundId: 'tr1', consumptionId: 't1', credits: 10, reason: 'bounce' }).expect(201);
    await h
      .as()
      .post('/v1/accounts/t/consumptions', consumption('t2', { credits: 10 }))
      .expect(201); // back above 80%: no second alert
    await h
      .as()
      .post('/v1/accounts/t/consumptions', consumption('t3', { credits: 12 }))
      .expect(201); // remaining 3
    let alerts = (await h.as().get('/v1/accounts/t/alerts').expect(200)).body;
    expect(alerts.items.map((a: { thresholdId: string }) => a.thresholdId)).toEqual(['remaining:5', 'percent_used:80']);
    expect(alerts.items[1]).toMatchObject({ creditType: 'email', cycleId: '2026-11', percentUsed: 85, balance: { used: 85, remaining: 15 } });
    const trail = (await h.as().get('/v1/accounts/t/events?limit=1000').expect(200)).body.items;
    expect(trail.filter((e: { type: string }) => e.type === 'CreditThresholdCrossed')).toHaveLength(2);
    h.clock.set('2026-12-02T00:00:00.000Z');
    await h
      .as()
      .post('/v1/accounts/t/consumptions', consumption('t4', { credits: 80 }))
      .expect(201);
    alerts = (await h.as().get('/v1/accounts/t/alerts').expect(200)).body;
    expect(alerts.items[0]).toMatchObject({ thresholdId: 'percent_used:80', cycleId: '2026-12' });
  });

  it('refunds after a reset go to the open cycle; a grant expiring between consumptions lapses as an event', async () => {
    await open('r').expect(201);
    await h
      .as()
      .post('/v1/accounts/r/grants', { grantId: 'g1', creditType: 'email', credits: 20, reason: 'promo', priority: 5, expiresAt: '2026-12-10T00:00:00Z' })
      .expect(201);
    await h
      .as()
      .post('/v1/accounts/r/consumptions', consumption('r1', { credits: 30 }))
      .expect(201); // 20 from g1 (priority), 10 from the cycle
    h.clock.set('2026-12-01T00:01:00.000Z');
    await job.run();
    const refund = await h.as().post('/v1/accounts/r/refunds', { refundId: 'rf1', consumptionId: 'r1', credits: 25, reason: 'bounce' }).expect(201);
    // Newest draw first: 10 drawn from the (closed) November cycle go to December's; 15 back to g1, used up
    // and closed at the reset but not expired: reopened with its expiry and priority.
    expect(refund.body.balance).toMatchObject({ allocated: 100, granted: 0, refunded: 25, remaining: 125 });
    h.clock.set('2026-12-11T00:00:00.000Z');
    const after = await h
      .as()
      .post('/v1/accounts/r/consumptions', consumption('r2', { credits: 1 }))
      .expect(201);
    expect(after.body.balance).toMatchObject({ expired: 15, used: 1, remaining: 109 });
    const types = (await h.as().get('/v1/accounts/r/events?limit=1000').expect(200)).body.items.map((e: { type: string }) => e.type);
    expect(types.slice(-2)).toEqual(['CreditsExpired', 'CreditConsumed']);
  });

  it('the day after an idle weekend: a movement after the boundary closes the cycle itself (same cycle id as the job)', async () => {
    await open('m').expect(201);
    h.clock.set(new Date(Date.parse('2026-12-01T00:00:00.000Z') + 2 * DAY).toISOString());
    const res = await h
      .as()
      .post('/v1/accounts/m/consumptions', consumption('m1', { credits: 1 }))
      .expect(201);
    expect(res.body.balance).toMatchObject({ allocated: 100, used: 1, remaining: 99 });
    expect((await h.as().get('/v1/accounts/m/balances').expect(200)).body.cycleId).toBe('2026-12');
    expect(await job.run({ accountId: 'm' })).toMatchObject({ reset: 0, skipped: 1 });
  });

  it('in the server: with two API instances on one data dir, one scheduled run holds the lease; every account is reset once', async () => {
    await openMany(30);
    const other = await LedgerHarness.start({ dataDir: h.dataDir, clock: h.clock });
    try {
      h.clock.set('2026-12-01T00:05:00.000Z');
      const index = h.app.get(DueIndex);
      expect(await index.tryLease('probe', 'x', 60_000)).toBe(true);
      expect(await other.app.get(DueIndex).tryLease('probe', 'y', 60_000)).toBe(false); // held by x
      expect(await index.tryLease('probe', 'x', 60_000)).toBe(true); // renewed by its holder
      expect(await other.app.get(DueIndex).tryLease('probe', 'y', 60_000, Date.now() + 120_000)).toBe(true); // lapsed: taken over
      await Promise.all([h.app.get(CyclesScheduler).tick(), other.app.get(CyclesScheduler).tick()]);
      await Promise.all([h.app.get(CyclesScheduler).tick(), other.app.get(CyclesScheduler).tick()]);
      const resets = await resetsByAccount(h);
      expect(resets.size).toBe(30);
      for (const ids of resets.values()) expect(ids).toEqual(['2026-12']);
    } finally {
      await other.stop({ keepData: true });
    }
  });

  it('the scheduled job is off by default and enabled by configuration', () => {
    expect(loadConfig({}).cyclesIntervalSeconds).toBeUndefined();
    expect(loadConfig({ LEDGER_CYCLES_INTERVAL_SECONDS: '300', LEDGER_CYCLES_CONCURRENCY: '16' })).toMatchObject({
      cyclesIntervalSeconds: 300,
      cyclesConcurrency: 16,
    });
    expect(() => loadConfig({ LEDGER_CYCLES_INTERVAL_SECONDS: '5' })).toThrow(/LEDGER_CYCLES_INTERVAL_SECONDS/);
    expect(() => loadConfig({ LEDGER_CYCLES_CONCURRENCY: '0' })).toThrow(/LEDGER_CYCLES_CONCURRENCY/);
  });
});
