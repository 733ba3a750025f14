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

const toCommand = (generated: fc.Arbitrary<unknown> extends never ? never : Parameters<Parameters<typeof commandArb.map>[0]>[0], at: string): LedgerCommand => {
  switch (generated.k) {
    case 'consume':
      return consume(`c${generated.id}`, generated.credits, { creditType: generated.type, dataKey: generated.dataKey }, at);
    case 'refund':
      return refund(`r${generated.id}`, `c${generated.of}`, generated.credits, at);
    case 'grant':
      return grant(
        `g${generated.id}`,
        generated.credits,
        {
          priority: generated.priority,
          expiresAt: generated.expiresInHours ? new Date(Date.parse(at) + generated.expiresInHours * HOUR).toISOString() : undefined,
        },
        at,
      );
    case 'reset':
      return reset(`cycle${generated.month}`, at);
    case 'plan':
      return changePlan(
        `p${generated.email}`,
        {
          ...ROLLOVER_PLAN.creditTypes,
          email: { allocation: generated.email, overdraft: { policy: 'deny' }, ...(generated.rollover ? { rollover: { maxCredits: 20 } } : {}) },
        },
        generated.effective,
        at,
      );
    case 'thresholds':
      return setThresholds(
        {
          email: [
            { kind: 'percent_used', value: generated.percent },
            { kind: 'remaining', value: generated.remaining },
          ],
        },
        at,
      );
    case 'schedule':
      return changeSchedule({ period: 'month', anchorDay: generated.anchorDay, timezone: generated.timezone }, at);
  }
};

const scenarioArb = fc.array(fc.tuple(commandArb, fc.integer({ min: 0, max: 240 })), { minLength: 1, maxLength: 80 }).map((steps) => {
  let nowMs = START;
  return steps.map(([generated, hours]) => {
    nowMs += hours * HOUR;
    return toCommand(generated, new Date(nowMs).toISOString());
  });
});

function checkFigures(figures: BalanceFigures, where: string) {
  for (const figure of [figures.allocated, figures.rolledIn, figures.granted, figures.used, figures.refunded, figures.expired, figures.remaining])
    expect(Number.isSafeInteger(figure)).toBe(true);
  expect({ where, remaining: figures.remaining }).toEqual({
    where,
    remaining: figures.allocated + figures.rolledIn + figures.granted - figures.used + figures.refunded - figures.expired,
  });
}

function runScenario(commands: LedgerCommand[]) {
  const opened = run([open(undefined, ROLLOVER_PLAN)]).events[0];
  let state: AccountState = evolve(initialState(), opened);
  const log: LedgerEvent[] = [opened];
  const accepted: LedgerCommand[] = [];
  for (const command of commands) {
    let decision;
    try {
      decision = decide(command, state);
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      continue;
    }
    if (decision.kind === 'duplicate') continue;
    accepted.push(command);
    for (const event of decision.events) {
      log.push(event);
      state = evolve(state, event);
      const openState = state as OpenAccountState;
      if ('balanceAfter' in event.data) {
        // The figures an event reports are exactly the fold's figures after it.
        expect(openState.creditTypes[event.data.creditType].figures).toEqual(event.data.balanceAfter);
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
        for (const event of log) {
          if (!('balanceAfter' in event.data)) continue;
          if (event.data.creditType === 'email') expect(event.data.balanceAfter.remaining).toBeGreaterThanOrEqual(0);
          if (event.data.creditType === 'mobile') expect(event.data.balanceAfter.remaining).toBeGreaterThanOrEqual(-5);
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
          expect(ct.buckets.reduce((sum, bucket) => sum + bucket.remaining, 0)).toBe(ct.figures.remaining);
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
        for (const event of log) {
          if (event.type === 'CreditConsumed') {
            expect(Number.isSafeInteger(event.data.creditsCharged)).toBe(true);
            expect(event.data.creditsCharged === 0 ? event.data.alreadyPurchased : event.data.creditsCharged >= 1).toBe(true);
            charged.set(event.data.consumptionId, event.data.creditsCharged);
          }
          if (event.type === 'CreditRefunded') {
            expect(Number.isSafeInteger(event.data.credits) && event.data.credits >= 1).toBe(true);
            refunded.set(event.data.consumptionId, (refunded.get(event.data.consumptionId) ?? 0) + event.data.credits);
          }
        }
        for (const [id, refundedCredits] of refunded) expect(refundedCredits).toBeLessThanOrEqual(charged.get(id) ?? 0);
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
        for (const command of accepted) {
          if (command.type === 'ChangePlan' || command.type === 'ChangeSchedule' || command.type === 'SetThresholds') puts.set(command.type, command);
          else expect(decide(command, state).kind).toBe('duplicate');
        }
        for (const command of puts.values()) expect(decide(command, state).kind).toBe('duplicate');
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
        for (const event of log) {
          if (event.type !== 'CycleReset') continue;
          for (const closing of event.data.closing) {
            checkFigures(closing, closing.creditType);
            expect(closing.allocated + closing.rolledIn + closing.granted).toBe(closing.used - closing.refunded + closing.remaining + closing.expired);
            expect(closing.remaining).toBe(closing.expiredAtReset + closing.carriedOver + closing.rolledOver - closing.overdrawn);
            expect(Math.min(closing.expiredAtReset, closing.carriedOver, closing.rolledOver, closing.overdrawn)).toBeGreaterThanOrEqual(0);
          }
          for (const opening of event.data.opening) {
            checkFigures(opening, opening.creditType);
            // What the closing cycle carried and rolled over is exactly what the next one starts with.
            const closing = event.data.closing.find((candidate) => candidate.creditType === opening.creditType);
            if (closing) {
              expect(opening.granted).toBe(closing.carriedOver);
              expect(opening.rolledIn).toBe(closing.rolledOver);
            }
          }
          // Cycles follow each other: each reset starts no earlier than the previous one.
          previousOpening = new Map(event.data.opening.map((opening) => [opening.creditType, opening]));
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
        for (const event of log) {
          if (event.type !== 'CycleReset') continue;
          expect(ids.has(event.data.cycleId)).toBe(false);
          ids.add(event.data.cycleId);
          // A scheduled reset starts exactly where the open cycle ends; a manual one closes it whenever it is asked.
          if (event.data.trigger === 'schedule') expect(event.data.startedAt).toBe(endsAt);
          else expect(event.data.startedAt >= startedAt).toBe(true);
          expect(event.data.endsAt > event.data.startedAt).toBe(true);
          ({ endsAt, startedAt } = event.data);
        }
      }),
      { numRuns: 200 },
    );
  });
});
