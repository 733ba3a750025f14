import { decide, dueScheduledCycles, nextScheduledCycle } from './decide';
import { DomainErrorCode } from './errors';
import { ClosingFigures, CreditConsumed, CreditRefunded, CreditThresholdCrossed, CycleReset, LedgerEvent, PlanChanged } from './events';
import { CreditTypePlan, Plan } from './plan';
import { evolve } from './evolve';
import { AccountState, OpenAccountState } from './state';
import { given } from './testing/given-when-then';
import { changePlan, changeSchedule, consume, grant, open, PLAN, refund, reset, run, scheduled, setThresholds, T0 } from './testing/fixtures';
import { LedgerCommand } from './commands';

const DEC1 = '2026-12-01T00:00:00.000Z';
const deny = { policy: 'deny' as const };

function events(...commands: LedgerCommand[]): LedgerEvent[] {
  return run(commands).events;
}
function open_(state: AccountState): OpenAccountState {
  if (state.status !== 'open') throw new Error('not open');
  return state;
}
function figures(state: AccountState, creditType = 'email') {
  return open_(state).creditTypes[creditType].figures;
}
function closingOf(event: LedgerEvent | undefined, creditType = 'email'): ClosingFigures {
  if (!event || event.type !== 'CycleReset') throw new Error(`expected a CycleReset, got ${event?.type}`);
  const closing = event.data.closing.find((entry) => entry.creditType === creditType);
  if (!closing) throw new Error(`no closing for ${creditType}`);
  return closing;
}
const resets = (evs: readonly LedgerEvent[]) => evs.filter((event): event is CycleReset => event.type === 'CycleReset');
/** A plan with one credit type `email`, other types of PLAN kept (a plan change keeps every type). */
function planWith(email: Partial<CreditTypePlan> & { allocation: number }): Record<string, CreditTypePlan> {
  return { ...PLAN.creditTypes, email: { overdraft: deny, ...email } };
}
function openWith(email: Partial<CreditTypePlan> & { allocation: number }, cycle: Plan['cycle'] = PLAN.cycle, at = T0) {
  return open(at, { creditTypes: planWith(email), cycle });
}

describe('scheduled resets', () => {
  it('closes the cycle at its boundary with a schedule-derived id, once; not before the boundary', () => {
    const history = events(open(), consume('c1', 30));
    given(...history)
      .when(scheduled('2026-12', '2026-11-30T23:59:59.000Z'))
      .thenRefused(DomainErrorCode.CycleNotDue);
    const [cycleReset] = given(...history)
      .when(scheduled('2026-12', '2026-12-01T00:07:00.000Z'))
      .thenEvents();
    expect(cycleReset).toMatchObject({
      type: 'CycleReset',
      occurredAt: DEC1,
      data: { cycleId: '2026-12', previousCycleId: '2026-11', startedAt: DEC1, endsAt: '2027-01-01T00:00:00.000Z', trigger: 'schedule' },
    });
    expect(closingOf(cycleReset)).toMatchObject({ allocated: 100, used: 30, remaining: 70, expiredAtReset: 70 });
    const after = events(open(), consume('c1', 30), scheduled('2026-12', '2026-12-01T00:07:00.000Z'));
    given(...after)
      .when(scheduled('2026-12', '2026-12-01T00:09:00.000Z'))
      .thenDuplicate(); // a second job: no-op
    given(...after)
      .when(scheduled('2027-01', '2026-12-05T00:00:00.000Z'))
      .thenRefused(DomainErrorCode.CycleNotDue);
    given(...after)
      .when(scheduled('2027-02', '2027-01-05T00:00:00.000Z'))
      .thenRefused(DomainErrorCode.CycleNotDue); // skipping one
  });

  it('catches up three missed cycles in order, each closing its own cycle', () => {
    const history = events(open(), consume('c1', 30));
    let state = given(...history).state;
    const at = '2027-03-02T08:00:00.000Z';
    expect(dueScheduledCycles(open_(state), at).map((cycle) => cycle.cycleId)).toEqual(['2026-12', '2027-01', '2027-02', '2027-03']);
    const out: CycleReset[] = [];
    for (;;) {
      const openState = open_(state);
      if (openState.cycleEndsAt > at) break;
      const decision = decide(scheduled(nextScheduledCycle(openState).cycleId, at), openState);
      if (decision.kind !== 'accepted') throw new Error('expected events');
      for (const ev of decision.events) {
        state = evolve(state, ev);
        if (ev.type === 'CycleReset') out.push(ev);
      }
    }
    expect(out.map((cycleReset) => [cycleReset.data.cycleId, cycleReset.data.startedAt, cycleReset.data.endsAt])).toEqual([
      ['2026-12', DEC1, '2027-01-01T00:00:00.000Z'],
      ['2027-01', '2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
      ['2027-02', '2027-02-01T00:00:00.000Z', '2027-03-01T00:00:00.000Z'],
      ['2027-03', '2027-03-01T00:00:00.000Z', '2027-04-01T00:00:00.000Z'],
    ]);
    expect(closingOf(out[0])).toMatchObject({ used: 30, expiredAtReset: 70 });
    expect(closingOf(out[1])).toMatchObject({ used: 0, expiredAtReset: 100 });
  });
});

describe('scheduled resets', () => {
  it('a movement after a boundary first closes the ended cycles (the same events the job would write)', () => {
    const history = events(open(), consume('c1', 30));
    const evs = given(...history)
      .when(consume('c2', 5, {}, '2027-01-15T00:00:00.000Z'))
      .thenEvents();
    expect(evs.map((event) => event.type)).toEqual(['CycleReset', 'CycleReset', 'CreditConsumed']);
    expect(resets(evs).map((cycleReset) => cycleReset.data.cycleId)).toEqual(['2026-12', '2027-01']);
    expect((evs[2] as CreditConsumed).data).toMatchObject({ cycleId: '2027-01', drawnFrom: [{ bucketId: 'cycle:2027-01', credits: 5 }] });
    // ... and the job then has nothing to do.
    const after = events(open(), consume('c1', 30), consume('c2', 5, {}, '2027-01-15T00:00:00.000Z'));
    given(...after)
      .when(scheduled('2027-01', '2027-01-15T00:00:00.000Z'))
      .thenDuplicate();
  });

  it('a refused movement after a boundary changes nothing (the resets are not recorded either)', () => {
    const history = events(open());
    given(...history)
      .when(consume('c1', 500, {}, '2026-12-02T00:00:00.000Z'))
      .thenRefused(DomainErrorCode.InsufficientCredits);
    expect(open_(given(...history).state).cycleId).toBe('2026-11');
    expect(open_(given(...history).state).index.cycles.size).toBe(1);
  });

  it('does not reuse a cycleId a manual reset already took', () => {
    const history = events(open(), reset('2026-12', '2026-11-15T00:00:00.000Z'));
    const state = open_(given(...history).state);
    expect(state.cycleEndsAt).toBe(DEC1);
    expect(nextScheduledCycle(state).cycleId).toBe('2026-12.2');
    const [cycleReset] = given(...history)
      .when(scheduled('2026-12.2', '2026-12-01T00:00:00.000Z'))
      .thenEvents();
    expect(cycleReset.data).toMatchObject({ cycleId: '2026-12.2', previousCycleId: '2026-12', startedAt: DEC1 });
    given(...history)
      .when(scheduled('2026-12', '2026-12-01T00:00:00.000Z'))
      .thenDuplicate();
  });
});

describe('schedule changes', () => {
  it('take effect at the next boundary: the open cycle ends as planned', () => {
    const history = events(open(), changeSchedule({ period: 'month', anchorDay: 15, timezone: 'UTC' }));
    const state = open_(given(...history).state);
    expect(state.cycleEndsAt).toBe(DEC1);
    expect(state.pendingSchedule).toMatchObject({ anchorDay: 15 });
    given(...history)
      .when(changeSchedule({ period: 'month', anchorDay: 15, timezone: 'UTC' }))
      .thenDuplicate();
    const evs = given(...history)
      .when(consume('c1', 1, {}, '2026-12-20T00:00:00.000Z'))
      .thenEvents();
    expect(resets(evs).map((cycleReset) => [cycleReset.data.cycleId, cycleReset.data.startedAt, cycleReset.data.endsAt])).toEqual([
      ['2026-12-01', DEC1, '2026-12-15T00:00:00.000Z'], // the short cycle between the old and the new boundary
      ['2026-12', '2026-12-15T00:00:00.000Z', '2027-01-15T00:00:00.000Z'],
    ]);
    expect(resets(evs)[0].data.scheduleApplied).toMatchObject({ anchorDay: 15 });
  });

  it('refuses an invalid schedule', () => {
    given(...events(open()))
      .when(changeSchedule({ period: 'month', anchorDay: 31, timezone: 'UTC' }))
      .thenRefused(DomainErrorCode.InvalidSchedule);
  });
});

describe('rollover', () => {
  it('rolls unused allocation up to a cap in credits; the rest expires at the reset; rolled credits burn first and expire after their cycles', () => {
    const history = events(openWith({ allocation: 100, rollover: { maxCredits: 30 } }), consume('c1', 40));
    const [r1] = given(...history)
      .when(scheduled('2026-12', DEC1))
      .thenEvents();
    expect(closingOf(r1)).toMatchObject({ allocated: 100, used: 40, remaining: 60, rolledOver: 30, expiredAtReset: 30 });
    expect((r1 as CycleReset).data.rolledOver).toEqual([
      { bucketId: 'rollover:2026-11', creditType: 'email', credits: 30, expiresAt: '2027-01-01T00:00:00.000Z' },
    ]);
    const dec = events(openWith({ allocation: 100, rollover: { maxCredits: 30 } }), consume('c1', 40), scheduled('2026-12', DEC1));
    expect(figures(given(...dec).state)).toEqual({ allocated: 100, rolledIn: 30, granted: 0, used: 0, refunded: 0, expired: 0, remaining: 130 });
    const [c2] = given(...dec)
      .when(consume('c2', 20, {}, '2026-12-05T00:00:00.000Z'))
      .thenEvents();
    expect((c2 as CreditConsumed).data.drawnFrom).toEqual([{ bucketId: 'rollover:2026-11', credits: 20 }]);
    // At the next reset the 10 rolled credits left lapse (an event), and December's unused allocation rolls (cap 30).
    const decUsed = events(
      openWith({ allocation: 100, rollover: { maxCredits: 30 } }),
      consume('c1', 40),
      scheduled('2026-12', DEC1),
      consume('c2', 20, {}, '2026-12-05T00:00:00.000Z'),
    );
    const evs = given(...decUsed)
      .when(scheduled('2027-01', '2027-01-01T00:00:00.000Z'))
      .thenEvents();
    expect(evs.map((event) => event.type)).toEqual(['CreditsExpired', 'CycleReset']);
    expect(evs[0].data).toMatchObject({ bucketId: 'rollover:2026-11', grantId: null, credits: 10 });
    expect(closingOf(evs[1])).toMatchObject({ allocated: 100, rolledIn: 30, used: 20, expired: 10, remaining: 100, rolledOver: 30, expiredAtReset: 70 });
  });

  it('caps by percent of the allocation (rounded down) and keeps rolled credits for N cycles', () => {
    const plan = { allocation: 99, rollover: { maxPercent: 25, expiresAfterCycles: 2 } };
    const history = events(openWith(plan), consume('c1', 9));
    const [cycleReset] = given(...history)
      .when(scheduled('2026-12', DEC1))
      .thenEvents();
    // 25% of 99 = 24.75 -> 24 credits roll; they live through December and January.
    expect((cycleReset as CycleReset).data.rolledOver).toEqual([
      { bucketId: 'rollover:2026-11', creditType: 'email', credits: 24, expiresAt: '2027-02-01T00:00:00.000Z' },
    ]);
    const jan = events(
      openWith(plan),
      consume('c1', 9),
      scheduled('2026-12', DEC1),
      consume('c2', 99, {}, '2026-12-02T00:00:00.000Z'),
      scheduled('2027-01', '2027-01-01T00:00:00.000Z'),
    );
    const state = given(...jan).state;
    // December: 99 + 24 rolled in, 99 used: the cycle's 99 went first (expires sooner), 24 rolled credits are still live.
    expect(figures(state)).toMatchObject({ allocated: 99, rolledIn: 24, remaining: 123 });
  });
});

describe('grants: priority, expiry between consumptions, survival across resets', () => {
  it('burns by priority, then soonest expiry, then oldest', () => {
    const history = events(
      open(),
      grant('low', 10, { expiresAt: '2026-11-12T00:00:00Z' }),
      grant('high', 10, { priority: 5 }),
      grant('neg', 10, { priority: -1 }),
    );
    const [consumed] = given(...history)
      .when(consume('c1', 125))
      .thenEvents();
    expect((consumed as CreditConsumed).data.drawnFrom).toEqual([
      { bucketId: 'grant:high', credits: 10 },
      { bucketId: 'grant:low', credits: 10 },
      { bucketId: 'cycle:2026-11', credits: 100 },
      { bucketId: 'grant:neg', credits: 5 },
    ]);
  });

  it('a grant expiring between two consumptions lapses as an event; refunds to it then go to the open cycle', () => {
    const history = events(open(), grant('g', 10, { priority: 1, expiresAt: '2026-11-20T00:00:00Z' }), consume('c1', 4));
    const evs = given(...history)
      .when(consume('c2', 1, {}, '2026-11-21T00:00:00.000Z'))
      .thenEvents();
    expect(evs.map((event) => event.type)).toEqual(['CreditsExpired', 'CreditConsumed']);
    expect(evs[0].data).toMatchObject({ grantId: 'g', credits: 6 });
    const later = events(
      open(),
      grant('g', 10, { priority: 1, expiresAt: '2026-11-20T00:00:00Z' }),
      consume('c1', 4),
      consume('c2', 1, {}, '2026-11-21T00:00:00.000Z'),
    );
    const [refunded] = given(...later)
      .when(refund('r1', 'c1', 4, '2026-11-22T00:00:00.000Z'))
      .thenEvents();
    expect((refunded as CreditRefunded).data.returnedTo).toEqual([{ bucketId: 'cycle:2026-11', credits: 4 }]);
  });

  it('survives resets until it expires; a refund after the reset goes back to the grant while it lives', () => {
    const history = events(open(), grant('g', 50, { priority: 1, expiresAt: '2027-01-15T00:00:00Z' }), consume('c1', 20));
    const [cycleReset] = given(...history)
      .when(scheduled('2026-12', DEC1))
      .thenEvents();
    expect((cycleReset as CycleReset).data.carriedOverGrants).toEqual([{ grantId: 'g', creditType: 'email', credits: 30 }]);
    const after = events(open(), grant('g', 50, { priority: 1, expiresAt: '2027-01-15T00:00:00Z' }), consume('c1', 20), scheduled('2026-12', DEC1));
    const [ref] = given(...after)
      .when(refund('r1', 'c1', 5, '2026-12-02T00:00:00.000Z'))
      .thenEvents();
    expect((ref as CreditRefunded).data).toMatchObject({
      cycleId: '2026-12',
      returnedTo: [{ bucketId: 'grant:g', credits: 5 }],
      balanceAfter: { granted: 30, refunded: 5, remaining: 135 },
    });
  });
});

describe('refunds across cycles and backdated consumptions', () => {
  it('a grant used up and closed at a reset, not expired, is reopened by a refund; an expired one is not', () => {
    const history = events(open(), grant('g', 20, { priority: 5, expiresAt: '2026-12-10T00:00:00Z' }), consume('c1', 30), scheduled('2026-12', DEC1));
    expect(open_(given(...history).state).creditTypes.email.buckets.map((bucket) => bucket.id)).toEqual(['cycle:2026-12']);
    const [refunded] = given(...history)
      .when(refund('r1', 'c1', 25, '2026-12-02T00:00:00.000Z'))
      .thenEvents();
    expect((refunded as CreditRefunded).data.returnedTo).toEqual([
      { bucketId: 'cycle:2026-12', credits: 10 },
      { bucketId: 'grant:g', credits: 15 },
    ]);
    const state = given(...history)
      .when(refund('r1', 'c1', 25, '2026-12-02T00:00:00.000Z'))
      .stateAfter();
    expect(open_(state).creditTypes.email.buckets.find((bucket) => bucket.id === 'grant:g')).toMatchObject({
      remaining: 15,
      priority: 5,
      expiresAt: '2026-12-10T00:00:00.000Z',
    });
    const [late] = given(...history)
      .when(refund('r1', 'c1', 25, '2026-12-11T00:00:00.000Z'))
      .thenEvents();
    expect((late as CreditRefunded).data.returnedTo).toEqual([{ bucketId: 'cycle:2026-12', credits: 25 }]);
  });

  it("a refund of an earlier cycle's consumption returns to the open cycle; the closed cycle keeps its figures", () => {
    const history = events(open(), consume('c1', 30), scheduled('2026-12', DEC1));
    const [refunded] = given(...history)
      .when(refund('r1', 'c1', 10, '2026-12-03T00:00:00.000Z'))
      .thenEvents();
    expect((refunded as CreditRefunded).data).toMatchObject({ cycleId: '2026-12', returnedTo: [{ bucketId: 'cycle:2026-12', credits: 10 }] });
    expect((refunded as CreditRefunded).data.balanceAfter).toMatchObject({ allocated: 100, used: 0, refunded: 10, remaining: 110 });
    const state = open_(given(...history).state);
    expect(state.index.cycles.get('2026-11')?.closingFigures?.find((closing) => closing.creditType === 'email')).toMatchObject({ used: 30, refunded: 0 });
  });

  it('a backdated consumption (occurredAt in a closed cycle) is charged to the open cycle and keeps its occurredAt', () => {
    const history = events(open(), scheduled('2026-12', DEC1));
    const [consumed] = given(...history)
      .when(consume('late', 7, { occurredAt: '2026-11-20T00:00:00.000Z' }, '2026-12-02T00:00:00.000Z'))
      .thenEvents();
    expect(consumed).toMatchObject({
      occurredAt: '2026-11-20T00:00:00.000Z',
      data: { cycleId: '2026-12', drawnFrom: [{ bucketId: 'cycle:2026-12', credits: 7 }] },
    });
  });
});

// November 2026 has 30 days: the cycle is 2026-11-01 -> 2026-12-01.
const NOV21 = '2026-11-21T00:00:00.000Z'; // 10 of 30 days left
const NOV24 = '2026-11-24T00:00:00.000Z'; // 7 of 30 days left

describe('plan changes', () => {
  it('upgrade now: the extra allocation prorated by the part of the cycle left (1,000 -> 2,500 with 10/30 left: +500)', () => {
    const history = events(openWith({ allocation: 1000 }), consume('c1', 900, {}, '2026-11-20T00:00:00.000Z'));
    const [planChanged] = given(...history)
      .when(changePlan('pro', planWith({ allocation: 2500 }), 'now', NOV21))
      .thenEvents();
    const emailAdjustment = (planChanged as PlanChanged).data.adjustments.find((adjustment) => adjustment.creditType === 'email');
    expect(emailAdjustment).toMatchObject({
      previousAllocation: 1000,
      newAllocation: 2500,
      change: 500,
      remainingMs: 10 * 86_400_000,
      cycleMs: 30 * 86_400_000,
    });
    expect(emailAdjustment?.balanceAfter).toMatchObject({ allocated: 1500, used: 900, remaining: 600 });
    const state = given(...history)
      .when(changePlan('pro', planWith({ allocation: 2500 }), 'now', NOV21))
      .stateAfter();
    expect(open_(state).plan).toMatchObject({ planId: 'pro', creditTypes: { email: { allocation: 2500 } } });
    // The next cycle gets the full new allocation.
    const next = events(openWith({ allocation: 1000 }), changePlan('pro', planWith({ allocation: 2500 }), 'now', NOV21), scheduled('2026-12', DEC1));
    expect(figures(given(...next).state)).toMatchObject({ allocated: 2500, remaining: 2500 });
  });

  it("rounds an upgrade up: 100 -> 200 with 7/30 left is 23.33, so +24 (never more than one credit in the customer's favour)", () => {
    const [planChanged] = given(...events(openWith({ allocation: 100 })))
      .when(changePlan('pro', planWith({ allocation: 200 }), 'now', NOV24))
      .thenEvents();
    expect((planChanged as PlanChanged).data.adjustments.find((adjustment) => adjustment.creditType === 'email')).toMatchObject({
      change: 24,
      balanceAfter: { allocated: 124, remaining: 124 },
    });
  });

  it('a downgrade waits for the next cycle by default', () => {
    const history = events(openWith({ allocation: 1000 }));
    const [planChanged] = given(...history)
      .when(changePlan('basic', planWith({ allocation: 400 }), undefined, NOV21))
      .thenEvents();
    expect((planChanged as PlanChanged).data).toMatchObject({ effective: 'next_cycle', effectiveAt: DEC1, adjustments: [] });
    const after = events(openWith({ allocation: 1000 }), changePlan('basic', planWith({ allocation: 400 }), undefined, NOV21));
    expect(figures(given(...after).state)).toMatchObject({ allocated: 1000 });
    given(...after)
      .when(changePlan('basic', planWith({ allocation: 400 }), undefined, NOV24))
      .thenDuplicate();
    const [cycleReset] = given(...after)
      .when(scheduled('2026-12', DEC1))
      .thenEvents();
    expect((cycleReset as CycleReset).data).toMatchObject({ allocations: { email: 400 }, planApplied: { planId: 'basic' } });
  });
});

describe('plan changes', () => {
  it('an immediate downgrade removes the prorated difference, rounded down, never more than the unused allocation', () => {
    // 1,000 -> 400 with 10/30 left: floor(600 * 10 / 30) = 200 less.
    const used700 = events(openWith({ allocation: 1000 }), consume('c1', 700, {}, '2026-11-20T00:00:00.000Z'));
    const [downgradeUsed700] = given(...used700)
      .when(changePlan('basic', planWith({ allocation: 400 }), 'now', NOV21))
      .thenEvents();
    expect((downgradeUsed700 as PlanChanged).data.adjustments.find((adjustment) => adjustment.creditType === 'email')).toMatchObject({
      change: -200,
      uncappedChange: -200,
      balanceAfter: { allocated: 800, used: 700, remaining: 100 },
    });
    // With 900 used only 100 are left: the reduction stops there and remaining ends at 0, not -100.
    const used900 = events(openWith({ allocation: 1000 }), consume('c1', 900, {}, '2026-11-20T00:00:00.000Z'));
    const [downgradeUsed900] = given(...used900)
      .when(changePlan('basic', planWith({ allocation: 400 }), 'now', NOV21))
      .thenEvents();
    expect((downgradeUsed900 as PlanChanged).data.adjustments.find((adjustment) => adjustment.creditType === 'email')).toMatchObject({
      change: -100,
      uncappedChange: -200,
      balanceAfter: { allocated: 900, remaining: 0 },
    });
    // 7/30 left: floor(600 * 7 / 30) = 140.
    const [downgradeNov24] = given(...events(openWith({ allocation: 1000 })))
      .when(changePlan('basic', planWith({ allocation: 400 }), 'now', NOV24))
      .thenEvents();
    expect((downgradeNov24 as PlanChanged).data.adjustments.find((adjustment) => adjustment.creditType === 'email')).toMatchObject({ change: -140 });
  });

  it('adds a new credit type prorated, refuses removing one, and is a no-op for the plan in force', () => {
    const history = events(openWith({ allocation: 100 }));
    const withAi = { ...planWith({ allocation: 100 }), ai_research: { allocation: 30, overdraft: deny } };
    const state = given(...history)
      .when(changePlan('ai', withAi, 'now', NOV21))
      .stateAfter();
    expect(figures(state, 'ai_research')).toMatchObject({ allocated: 10, remaining: 10 });
    const { email: _, ...withoutEmail } = planWith({ allocation: 100 });
    given(...history)
      .when(changePlan('x', withoutEmail, 'now', NOV21))
      .thenRefused(DomainErrorCode.PlanRemovesCreditType);
    const pro = events(openWith({ allocation: 100 }), changePlan('pro', planWith({ allocation: 200 }), 'now', NOV21));
    given(...pro)
      .when(changePlan('pro', planWith({ allocation: 200 }), 'now', NOV24))
      .thenDuplicate();
  });
});

describe('threshold alerts', () => {
  it('alerts once per threshold per cycle (80% and 100% by default), not again after a refund and a new crossing', () => {
    const history = events(open(), consume('c1', 79));
    const evs = given(...history)
      .when(consume('c2', 1))
      .thenEvents();
    expect(evs.map((event) => event.type)).toEqual(['CreditConsumed', 'CreditThresholdCrossed']);
    expect((evs[1] as CreditThresholdCrossed).data).toMatchObject({
      creditType: 'email',
      cycleId: '2026-11',
      thresholdId: 'percent_used:80',
      percentUsed: 80,
      balanceAfter: { used: 80, remaining: 20 },
    });
    const crossed = events(open(), consume('c1', 79), consume('c2', 1), refund('r1', 'c2'));
    expect(
      given(...crossed)
        .when(consume('c3', 1))
        .thenEvents()
        .map((event) => event.type),
    ).toEqual(['CreditConsumed']);
    const all = given(...crossed)
      .when(consume('c3', 21))
      .thenEvents();
    expect(all.map((event) => (event.type === 'CreditThresholdCrossed' ? event.data.thresholdId : event.type))).toEqual(['CreditConsumed', 'percent_used:100']);
    // A new cycle alerts again.
    const nextCycle = given(...crossed)
      .when(consume('c4', 80, {}, '2026-12-02T00:00:00.000Z'))
      .thenEvents();
    expect(
      nextCycle
        .filter((event) => event.type === 'CreditThresholdCrossed')
        .map((event) => [event.data.cycleId, (event as CreditThresholdCrossed).data.thresholdId]),
    ).toEqual([['2026-12', 'percent_used:80']]);
  });

  it('supports absolute remaining thresholds, set per credit type', () => {
    const history = events(open(), setThresholds({ email: [{ kind: 'remaining', value: 10 }] }));
    expect(
      given(...history)
        .when(consume('c1', 85))
        .thenEvents()
        .map((event) => event.type),
    ).toEqual(['CreditConsumed']); // 85% but 80% is not configured any more
    const evs = given(...history)
      .when(consume('c1', 90))
      .thenEvents();
    expect((evs[1] as CreditThresholdCrossed).data).toMatchObject({ thresholdId: 'remaining:10', balanceAfter: { remaining: 10 } });
    given(...history)
      .when(setThresholds({ email: [{ kind: 'remaining', value: 10 }] }))
      .thenDuplicate();
    given(...history)
      .when(setThresholds({ sms: [{ kind: 'remaining', value: 10 }] }))
      .thenRefused(DomainErrorCode.UnknownCreditType);
  });

  it('a threshold set below the current usage alerts at once', () => {
    const history = events(open(), consume('c1', 60));
    const evs = given(...history)
      .when(setThresholds({ email: [{ kind: 'percent_used', value: 50 }] }))
      .thenEvents();
    expect(evs.map((event) => event.type)).toEqual(['ThresholdsSet', 'CreditThresholdCrossed']);
  });
});
