import fc from 'fast-check';
import { LedgerCommand } from './commands';
import { decide } from './decide';
import { DomainError } from './errors';
import { BalanceFigures, LedgerEvent } from './events';
import { evolve, fold } from './evolve';
import { AccountState, initialState, OpenAccountState } from './state';
import { changePlan, changeSchedule, consume, grant, open, PLAN, refund, reset, run, setThresholds } from './testing/fixtures';
import { Plan } from './plan';

const START = Date.parse('2026-11-10T00:00:00.000Z');
const HOUR = 3_600_000;

/** The fixture plan with a rollover on email, so that rollovers, expiries and resets interact. */
const ROLLOVER_PLAN: Plan = {
  ...PLAN,
  creditTypes: { ...PLAN.creditTypes, email: { allocation: 100, overdraft: { policy: 'deny' }, rollover: { maxPercent: 30, expiresAfterCycles: 2 } } },
};

/**
 * Random command sequences over a small id space, so that retries, reuse and refunds collide often;
 * time moves on by 0..10 days per command, so scheduled resets (and catch-ups) happen inside movements.
 */
const commandArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('consume' as const),
      id: fc.integer({ min: 0, max: 30 }),
      credits: fc.integer({ min: 1, max: 40 }),
      type: fc.constantFrom('email', 'mobile', 'export'),
      dataKey: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('refund' as const),
      id: fc.integer({ min: 0, max: 10 }),
      of: fc.integer({ min: 0, max: 30 }),
      credits: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('grant' as const),
      id: fc.integer({ min: 0, max: 5 }),
      credits: fc.integer({ min: 1, max: 50 }),
      priority: fc.integer({ min: -2, max: 2 }),
      expiresInHours: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reset' as const), month: fc.integer({ min: 0, max: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('plan' as const),
      email: fc.integer({ min: 0, max: 300 }),
      effective: fc.constantFrom('now' as const, 'next_cycle' as const, undefined),
      rollover: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('thresholds' as const), percent: fc.integer({ min: 1, max: 120 }), remaining: fc.integer({ min: 0, max: 60 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('schedule' as const),
      anchorDay: fc.constantFrom(1, 15, 28, 'last' as const),
      timezone: fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York'),
    }),
  },
);

const toCommand = (c: fc.Arbitrary<unknown> extends never ? never : Parameters<Parameters<typeof commandArb.map>[0]>[0], at: string): LedgerCommand => {
  switch (c.k) {
    case 'consume':
      return consume(`c${c.id}`, c.credits, { creditType: c.type, dataKey: c.dataKey }, at);
    case 'refund':
      return refund(`r${c.id}`, `c${c.of}`, c.credits, at);
    case 'grant':
      return grant(
        `g${c.id}`,
        c.credits,
        { priority: c.priority, expiresAt: c.expiresInHours ? new Date(Date.parse(at) + c.expiresInHours * HOUR).toISOString() : undefined },
        at,
      );
    case 'reset':
      return reset(`cycle${c.month}`, at);
    case 'plan':
      return changePlan(
        `p${c.email}`,
        {
          ...ROLLOVER_PLAN.creditTypes,
          email: { allocation: c.email, overdraft: { policy: 'deny' }, ...(c.rollover ? { rollover: { maxCredits: 20 } } : {}) },
        },
        c.effective,
        at,
      );
    case 'thresholds':
      return setThresholds(
        {
          email: [
            { kind: 'percent_used', value: c.percent },
            { kind: 'remaining', value: c.remaining },
          ],
        },
        at,
      );
    case 'schedule':
      return changeSchedule({ period: 'month', anchorDay: c.anchorDay, timezone: c.timezone }, at);
  }
};

const scenarioArb = fc.array(fc.tuple(commandArb, fc.integer({ min: 0, max: 240 })), { minLength: 1, maxLength: 80 }).map((steps) => {
  let t = START;
  return steps.map(([c, hours]) => {
    t += hours * HOUR;
    return toCommand(c, new Date(t).toISOString());
  });
});

function checkFigures(f: BalanceFigures, where: string) {
  for (const v of [f.allocated, f.rolledIn, f.granted, f.used, f.refunded, f.expired, f.remaining]) expect(Number.isSafeInteger(v)).toBe(true);
  expect({ where, remaining: f.remaining }).toEqual({ where, remaining: f.allocated + f.rolledIn + f.granted - f.used + f.refunded - f.expired });
}

function runScenario(commands: LedgerCommand[]) {
  const opened = run([open(undefined, ROLLOVER_PLAN)]).events[0];
  let state: AccountState = evolve(initialState(), opened);
  const log: LedgerEvent[] = [opened];
  const accepted: LedgerCommand[] = [];
  for (const command of commands) {
    let d;
    try {
      d = decide(command, state);
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      continue;
    }
    if (d.kind === 'duplicate') continue;
    accepted.push(command);
    for (const e of d.events) {
      log.push(e);
      state = evolve(state, e);
      const s = state as OpenAccountState;
      if ('balanceAfter' in e.data) {
        // The figures an event reports are exactly the fold's figures after it.
        expect(s.creditTypes[e.data.creditType].figures).toEqual(e.data.balanceAfter);
      }
    }
  }
  return { state: state as OpenAccountState, log, accepted };
}

describe('ledger invariants (property-based)', () => {
  it('remaining never goes below 0 under deny, and never below -limit under allow with a limit', () => {
    fc.assert(
      fc.property(scenarioArb, (commands) => {
        const { log } = runScenario(commands);
        for (const e of log) {
          if (!('balanceAfter' in e.data)) continue;
          if (e.data.creditType === 'email') expect(e.data.balanceAfter.remaining).toBeGreaterThanOrEqual(0);
          if (e.data.creditType === 'mobile') expect(e.data.balanceAfter.remaining).toBeGreaterThanOrEqual(-5);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every balance is the fold of the events, and its figures add up to the buckets', () => {
    fc.assert(
      fc.property(scenarioArb, (commands) => {
        const { state, log } = runScenario(commands);
        const refolded = fold(log) as OpenAccountState;
        for (const [type, ct] of Object.entries(state.creditTypes)) {
          expect(refolded.creditTypes[type].figures).toEqual(ct.figures);
          checkFigures(ct.figures, type);
          expect(ct.buckets.reduce((sum, b) => sum + b.remaining, 0)).toBe(ct.figures.remaining);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a refund never exceeds its consumption, and credits are integers everywhere', () => {
    fc.assert(
      fc.property(scenarioArb, (commands) => {
        const { log } = runScenario(commands);
        const charged = new Map<string, number>();
        const refunded = new Map<string, number>();
        for (const e of log) {
          if (e.type === 'CreditConsumed') {
            expect(Number.isSafeInteger(e.data.creditsCharged)).toBe(true);
            expect(e.data.creditsCharged === 0 ? e.data.alreadyPurchased : e.data.creditsCharged >= 1).toBe(true);
            charged.set(e.data.consumptionId, e.data.creditsCharged);
          }
          if (e.type === 'CreditRefunded') {
            expect(Number.isSafeInteger(e.data.credits) && e.data.credits >= 1).toBe(true);
            refunded.set(e.data.consumptionId, (refunded.get(e.data.consumptionId) ?? 0) + e.data.credits);
          }
        }
        for (const [id, r] of refunded) expect(r).toBeLessThanOrEqual(charged.get(id) ?? 0);
      }),
      { numRuns: 300 },
    );
  });

  it('replaying any accepted command appends nothing (idempotency)', () => {
    fc.assert(
      fc.property(scenarioArb, (commands) => {
        const { state, accepted } = runScenario(commands);
        // Plan, schedule and threshold changes are PUTs: idempotent on the state they ask for, so
        // replaying the last one of each kind is a no-op (an older one would set an older value again).
        const puts = new Map<string, LedgerCommand>();
        for (const c of accepted) {
          if (c.type === 'ChangePlan' || c.type === 'ChangeSchedule' || c.type === 'SetThresholds') puts.set(c.type, c);
          else expect(decide(c, state).kind).toBe('duplicate');
        }
        for (const c of puts.values()) expect(decide(c, state).kind).toBe('duplicate');
      }),
      { numRuns: 200 },
    );
  });
});

// The same describe title: the second half of the invariants (blocks stay short).
describe('ledger invariants (property-based)', () => {
  it('closing figures of every cycle add up: allocated + rolledIn + granted = used - refunded + remaining + expired', () => {
    fc.assert(
      fc.property(scenarioArb, (commands) => {
        const { log } = runScenario(commands);
        let previousOpening = new Map<string, BalanceFigures>();
        for (const e of log) {
          if (e.type !== 'CycleReset') continue;
          for (const c of e.data.closing) {
            checkFigures(c, c.creditType);
            expect(c.allocated + c.rolledIn + c.granted).toBe(c.used - c.refunded + c.remaining + c.expired);
            expect(c.remaining).toBe(c.expiredAtReset + c.carriedOver + c.rolledOver - c.overdrawn);
            expect(Math.min(c.expiredAtReset, c.carriedOver, c.rolledOver, c.overdrawn)).toBeGreaterThanOrEqual(0);
          }
          for (const o of e.data.opening) {
            checkFigures(o, o.creditType);
            // What the closing cycle carried and rolled over is exactly what the next one starts with.
            const closing = e.data.closing.find((c) => c.creditType === o.creditType);
            if (closing) {
              expect(o.granted).toBe(closing.carriedOver);
              expect(o.rolledIn).toBe(closing.rolledOver);
            }
          }
          // Cycles follow each other: each reset starts no earlier than the previous one.
          previousOpening = new Map(e.data.opening.map((o) => [o.creditType, o]));
        }
        expect(previousOpening).toBeDefined();
      }),
      { numRuns: 300 },
    );
  });

  it('every cycle id is used once, and scheduled cycles tile time without gaps', () => {
    fc.assert(
      fc.property(scenarioArb, (commands) => {
        const { log } = runScenario(commands);
        const ids = new Set<string>();
        const first = (log[0] as { data: { cycleEndsAt: string; cycleStartedAt: string; cycleId: string } }).data;
        const cycleId = first.cycleId;
        let endsAt = first.cycleEndsAt;
        let startedAt = first.cycleStartedAt;
        ids.add(cycleId);
        for (const e of log) {
          if (e.type !== 'CycleReset') continue;
          expect(ids.has(e.data.cycleId)).toBe(false);
          ids.add(e.data.cycleId);
          // A scheduled reset starts exactly where the open cycle ends; a manual one closes it whenever it is asked.
          if (e.data.trigger === 'schedule') expect(e.data.startedAt).toBe(endsAt);
          else expect(e.data.startedAt >= startedAt).toBe(true);
          expect(e.data.endsAt > e.data.startedAt).toBe(true);
          ({ endsAt, startedAt } = e.data);
        }
      }),
      { numRuns: 200 },
    );
  });
});
