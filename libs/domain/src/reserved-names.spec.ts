import fc from 'fast-check';
import { LedgerCommand } from './commands';
import { ledgerDecider } from './decider';
import { DomainError } from './errors';
import { RESERVED_NAMES } from './limits';
import { AccountState, OpenAccountState } from './state';
import { changePlan, consume, grant, open, planOf, refund, reset, setMemberLimits, setThresholds, T0 } from './testing/fixtures';

/**
 * The transport refuses reserved names (400), but the domain must not depend on it: a name like
 * `__proto__` or `constructor` as a credit type, feature, action, user id or plan key is either
 * refused with a domain error or handled like any other name. Never a TypeError, never a polluted
 * prototype, and the fold stays what the movements say.
 */
const NAMES = [...RESERVED_NAMES, 'prototype'];

function decideAll(commands: readonly LedgerCommand[]): { state: AccountState; refusals: string[] } {
  let state = ledgerDecider.initialState();
  const refusals: string[] = [];
  for (const command of commands) {
    try {
      const decision = ledgerDecider.decide(command, state);
      if (decision.kind === 'accepted') for (const event of decision.events) state = ledgerDecider.evolve(state, event);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      refusals.push(error.code);
    }
  }
  return { state, refusals };
}

describe('reserved names reaching the domain', () => {
  it('as a credit type, feature, action, user id and plan key: decided like any name, nothing polluted', () => {
    fc.assert(
      fc.property(fc.constantFrom(...NAMES), fc.integer({ min: 1, max: 9 }), (name, credits) => {
        const { state } = decideAll([
          open(T0, planOf({ [name]: 10, email: 10 })),
          consume('c1', credits, { creditType: name, feature: name, action: name, userId: name }),
          consume('c2', 1, { creditType: 'email', userId: name, dataKey: name }),
          refund('r1', 'c1', 1),
          grant('g1', 5, { creditType: name }),
          setThresholds({ [name]: [{ kind: 'percent_used', value: 50 }] }),
          setMemberLimits(name, { [name]: 20, email: 20 }),
          consume('c3', 1, { creditType: name, userId: name }),
          changePlan('next', planOf({ [name]: 30, email: 10 }).creditTypes, 'now', T0),
          changePlan('later', planOf({ [name]: 40, email: 10 }).creditTypes, 'next_cycle', T0),
        ]);
        const opened = state as OpenAccountState;
        expect(opened.status).toBe('open');
        expect(Object.hasOwn(opened.creditTypes, name)).toBe(true);
        const figures = opened.creditTypes[name].figures;
        // Used: c1 then c3; refunded 1; granted 5: the identity of the figures holds.
        expect(figures.used).toBe(credits + 1);
        expect(figures.refunded).toBe(1);
        expect(figures.remaining).toBe(figures.allocated + figures.rolledIn + figures.granted - figures.used + figures.refunded - figures.expired);
        expect(Object.keys(opened.creditTypes).sort()).toEqual([name, 'email'].sort());
        // A reset takes the pending plan's allocation for the name, and the name keeps working after it.
        const { state: afterReset } = decideAll([
          ...[open(T0, planOf({ [name]: 10, email: 10 })), consume('c1', credits, { creditType: name, userId: name })],
          changePlan('later', planOf({ [name]: 40, email: 10 }).creditTypes, 'next_cycle', T0),
          reset('2026-12', '2026-12-01T00:05:00.000Z', { [name]: 40 }),
          consume('c2', 2, { creditType: name, userId: name }, '2026-12-02T00:00:00.000Z'),
        ]);
        const next = (afterReset as OpenAccountState).creditTypes[name].figures;
        expect({ allocated: next.allocated, used: next.used }).toEqual({ allocated: 40, used: 2 });
        // Nothing reached Object.prototype.
        expect(({} as Record<string, unknown>).allocation).toBeUndefined();
        expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual([...RESERVED_NAMES].sort());
      }),
      { numRuns: NAMES.length * 3 },
    );
  });

  it('an unknown credit type named like a prototype member is refused as unknown, not found on the prototype', () => {
    for (const name of NAMES) {
      const { refusals } = decideAll([open(T0, planOf({ email: 10 })), consume('c1', 1, { creditType: name }), grant('g1', 1, { creditType: name })]);
      expect(refusals).toEqual(['UNKNOWN_CREDIT_TYPE', 'UNKNOWN_CREDIT_TYPE']);
    }
  });
});
