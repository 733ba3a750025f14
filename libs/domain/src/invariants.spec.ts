import fc from 'fast-check';
import { LedgerCommand } from './commands';
import { decide } from './decide';
import { DomainError } from './errors';
import { BalanceFigures, LedgerEvent } from './events';
import { AccountState, evolve, fold, initialState, OpenAccountState } from './state';
import { consume, grant, open, refund, reset, run } from './testing/fixtures';

const START = Date.parse('2026-11-10T00:00:00.000Z');
const HOUR = 3_600_000;

/** Random command sequences over a small id space, so that retries, reuse and refunds collide often. */
const commandArb = (i: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ k: fc.constant('consume' as const), id: fc.integer({ min: 0, max: 30 }), credits: fc.integer({ min: 1, max: 40 }), type: fc.constantFrom('email', 'mobile', 'export'), dataKey: fc.option(fc.constantFrom('a', 'b', 'c'), { nil: undefined }) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('refund' as const), id: fc.integer({ min: 0, max: 10 }), of: fc.integer({ min: 0, max: 30 }), credits: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('grant' as const), id: fc.integer({ min: 0, max: 5 }), credits: fc.integer({ min: 1, max: 50 }), expiresInHours: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('reset' as const), month: fc.integer({ min: 0, max: 3 }) }) },
  ).map((c): LedgerCommand => {
    const at = new Date(START + i * HOUR * 7).toISOString();
    switch (c.k) {
      case 'consume':
        return consume(`c${c.id}`, c.credits, { creditType: c.type, dataKey: c.dataKey }, at);
      case 'refund':
        return refund(`r${c.id}`, `c${c.of}`, c.credits, at);
      case 'grant':
        return grant(`g${c.id}`, c.credits, { expiresAt: c.expiresInHours ? new Date(Date.parse(at) + c.expiresInHours * HOUR).toISOString() : undefined }, at);
      case 'reset':
        return reset(`cycle${c.month}`, at);
    }
    throw new Error('unreachable');
  });

const scenarioArb = fc.integer({ min: 1, max: 80 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => commandArb(i + 1))));

function checkFigures(f: BalanceFigures, where: string) {
  for (const v of [f.allocated, f.granted, f.used, f.refunded, f.expired, f.remaining]) expect(Number.isSafeInteger(v)).toBe(true);
  expect({ where, remaining: f.remaining }).toEqual({ where, remaining: f.allocated + f.granted - f.used + f.refunded - f.expired });
}

function runScenario(commands: LedgerCommand[]) {
  const opened = run([open()]).events[0];
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
        for (const c of accepted) {
          expect(decide(c, state).kind).toBe('duplicate');
        }
      }),
      { numRuns: 200 },
    );
  });

  it('closing figures of every cycle add up', () => {
    fc.assert(
      fc.property(scenarioArb, (commands) => {
        const { log } = runScenario(commands);
        for (const e of log) {
          if (e.type !== 'CycleReset') continue;
          for (const c of e.data.closing) {
            checkFigures(c, c.creditType);
            expect(c.remaining).toBe(c.expiredAtReset + c.carriedOver - c.overdrawn);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
