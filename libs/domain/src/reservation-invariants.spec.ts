import fc from 'fast-check';
import { LedgerCommand } from './commands';
import { ledgerDecider } from './decider';
import { DomainError } from './errors';
import { LedgerEvent } from './events';
import { DENY_OVERDRAFT } from './plan';
import { AccountState, availableOf, OpenAccountState, reservedOf } from './state';
import { capture, consume, grant, open, PLAN, refund, release, reserve, reset, setMemberLimits, sweep } from './testing/fixtures';

const START = Date.parse('2026-11-10T00:00:00.000Z');
const TYPES = ['email', 'mobile', 'export'] as const;
const USERS = ['ana', 'ben'] as const;

const stepArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('reserve' as const),
      id: fc.integer({ min: 0, max: 15 }),
      credits: fc.integer({ min: 1, max: 40 }),
      creditType: fc.constantFrom(...TYPES),
      user: fc.constantFrom(...USERS),
      seconds: fc.integer({ min: 1, max: 7200 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('capture' as const),
      id: fc.integer({ min: 0, max: 15 }),
      consumption: fc.integer({ min: 0, max: 20 }),
      credits: fc.option(fc.integer({ min: 0, max: 45 }), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('release' as const), id: fc.integer({ min: 0, max: 15 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('consume' as const),
      consumption: fc.integer({ min: 0, max: 20 }),
      credits: fc.integer({ min: 1, max: 30 }),
      creditType: fc.constantFrom(...TYPES),
      user: fc.constantFrom(...USERS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('refund' as const), consumption: fc.integer({ min: 0, max: 20 }), id: fc.integer({ min: 0, max: 5 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('grant' as const),
      id: fc.integer({ min: 0, max: 5 }),
      credits: fc.integer({ min: 1, max: 30 }),
      hours: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('limit' as const),
      user: fc.constantFrom(...USERS),
      limit: fc.option(fc.integer({ min: 0, max: 50 }), { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('sweep' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reset' as const), id: fc.integer({ min: 0, max: 3 }) }) },
);
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

function commandOf(step: Step, at: string): LedgerCommand {
  switch (step.k) {
    case 'reserve':
      return reserve(`h${step.id}`, step.credits, { creditType: step.creditType, userId: step.user, expiresInSeconds: step.seconds }, at);
    case 'capture':
      return capture(`h${step.id}`, `c${step.consumption}`, step.credits, at);
    case 'release':
      return release(`h${step.id}`, undefined, at);
    case 'consume':
      return consume(`c${step.consumption}`, step.credits, { creditType: step.creditType, userId: step.user }, at);
    case 'refund':
      return refund(`r${step.id}-${step.consumption}`, `c${step.consumption}`, undefined, at);
    case 'grant':
      return grant(`g${step.id}`, step.credits, { expiresAt: new Date(Date.parse(at) + step.hours * 3_600_000).toISOString(), priority: 1 }, at);
    case 'limit':
      return setMemberLimits(step.user, { email: step.limit }, at);
    case 'sweep':
      return sweep(at);
    case 'reset':
      return reset(`cycle-${step.id}-${at}`, at);
    default: {
      const unknown: never = step;
      throw new Error(`unknown step ${JSON.stringify(unknown)}`);
    }
  }
}

/** Two states are the same account: figures, buckets, holds, burn, and every index entry. */
function expectSameState(given: AccountState, folded: AccountState): void {
  const plain = (state: AccountState) => {
    if (state.status !== 'open') return state;
    const index = Object.fromEntries(
      Object.entries(state.index).map(([name, value]) => [name, Array.isArray(value) ? value : [...(value as ReadonlyMap<string, unknown>).entries()]]),
    );
    return { ...state, index };
  };
  expect(plain(given)).toEqual(plain(folded));
}

/** Runs the steps 10 minutes apart; returns every state after an accepted decision and all the events. */
function runSteps(steps: readonly Step[]): { states: OpenAccountState[]; events: LedgerEvent[] } {
  let state: AccountState = ledgerDecider.initialState();
  const events: LedgerEvent[] = [];
  const states: OpenAccountState[] = [];
  const commands = [
    open(new Date(START).toISOString(), PLAN),
    ...steps.map((step, index) => commandOf(step, new Date(START + (index + 1) * 600_000).toISOString())),
  ];
  commands.push(sweep(new Date(START + (steps.length + 20) * 600_000).toISOString()));
  for (const command of commands) {
    try {
      const decision = ledgerDecider.decide(command, state);
      if (decision.kind === 'duplicate') continue;
      for (const event of decision.events) {
        events.push(event);
        state = ledgerDecider.evolve(state, event);
      }
      // A decision that hands its state over hands exactly the fold of its events.
      if (decision.state !== undefined) expectSameState(decision.state, state);
      states.push(state as OpenAccountState);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
  }
  return { states, events };
}

const ENDS = new Set(['ReservationCaptured', 'ReservationReleased', 'ReservationExpired']);

describe('reservation invariants (fast-check)', () => {
  it('available never goes below minus the overdraft limit; captured never exceeds held; balances and holds are the fold of the events', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60 }), (steps) => {
        const { states, events } = runSteps(steps);
        for (const state of states) {
          for (const creditType of TYPES) {
            const overdraft = state.plan.creditTypes[creditType].overdraft ?? DENY_OVERDRAFT;
            const floor = overdraft.policy === 'deny' ? 0 : overdraft.limit === undefined ? -Infinity : -overdraft.limit;
            expect(availableOf(state, creditType)).toBeGreaterThanOrEqual(floor);
            const { figures, buckets } = state.creditTypes[creditType];
            expect(figures.remaining).toBe(figures.allocated + figures.rolledIn + figures.granted - figures.used + figures.refunded - figures.expired);
            const held = state.holds.open.filter((hold) => hold.creditType === creditType).reduce((sum, hold) => sum + hold.credits, 0);
            expect(reservedOf(state, creditType)).toBe(held);
            expect(buckets.reduce((sum, bucket) => sum + bucket.remaining, 0)).toBe(figures.remaining - held);
          }
        }
        for (const event of events) if (event.type === 'ReservationCaptured') expect(event.data.captured).toBeLessThanOrEqual(event.data.held);
        const last = states[states.length - 1];
        const folded = events.reduce(ledgerDecider.evolve, ledgerDecider.initialState()) as OpenAccountState;
        expect(folded.creditTypes).toEqual(last.creditTypes);
        expect(folded.holds).toEqual(last.holds);
      }),
      { numRuns: 300 },
    );
  });

  it('every reservation ends exactly once: captured, released or expired', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60 }), (steps) => {
        const { states, events } = runSteps(steps);
        const ends = new Map<string, number>();
        const reserved = new Set<string>();
        for (const event of events) {
          if (event.type === 'CreditsReserved') reserved.add(event.data.reservationId);
          if (ENDS.has(event.type)) {
            const id = (event.data as { reservationId: string }).reservationId;
            ends.set(id, (ends.get(id) ?? 0) + 1);
          }
        }
        // The final sweep comes after every expiry: nothing is left open.
        expect(states[states.length - 1].holds.open).toEqual([]);
        for (const id of reserved) expect(ends.get(id)).toBe(1);
        expect([...ends.keys()].every((id) => reserved.has(id))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
