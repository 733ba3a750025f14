import fc from 'fast-check';
import { ConsumeCredits, LedgerCommand } from './commands';
import { checkSpend, decide } from './decide';
import { ledgerDecider } from './decider';
import { DomainError } from './errors';
import { CreditConsumed, LedgerEvent } from './events';
import { memberBudget } from './members';
import { DENY_OVERDRAFT, Plan, RateEntry } from './plan';
import { AccountState, OpenAccountState } from './state';
import { changePlan, open, PLAN, refund, reset, setMemberLimits } from './testing/fixtures';
import { SpendRequest } from './deciders/pricing';

const START = Date.parse('2026-11-10T00:00:00.000Z');
const HOUR = 3_600_000;
const USERS = ['ana', 'ben', 'cy'] as const;
const TYPES = ['email', 'mobile', 'export'] as const;
const ACTIONS = ['email_reveal', 'mobile_reveal', 'csv_export', 'unpriced'] as const;

const rateArb: fc.Arbitrary<RateEntry[]> = fc
  .record({ email: fc.integer({ min: 0, max: 5 }), mobile: fc.integer({ min: 0, max: 5 }), export: fc.integer({ min: 0, max: 5 }) })
  .map(({ email, mobile, export: exportRate }) => [
    { feature: 'people_search', creditType: 'email', credits: email },
    { feature: 'people_search', action: 'mobile_reveal', creditType: 'mobile', credits: mobile },
    { feature: 'people_search', action: 'csv_export', creditType: 'export', credits: exportRate },
  ]);

const spendArb = fc.record({
  userId: fc.constantFrom(...USERS),
  action: fc.constantFrom(...ACTIONS),
  priced: fc.boolean(),
  credits: fc.integer({ min: 1, max: 30 }),
  creditType: fc.constantFrom(...TYPES, 'sms'),
  units: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
  dataKey: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
});
type Spend = typeof spendArb extends fc.Arbitrary<infer T> ? T : never;

function spendRequest(spend: Spend): SpendRequest {
  return {
    userId: spend.userId,
    feature: 'people_search',
    action: spend.action,
    ...(spend.priced ? {} : { credits: spend.credits, creditType: spend.creditType }),
    ...(spend.units === undefined ? {} : { units: spend.units }),
    ...(spend.dataKey === undefined ? {} : { dataKey: spend.dataKey }),
  };
}

function consumeOf(id: number, spend: Spend, at: string): ConsumeCredits {
  return { type: 'ConsumeCredits', at, data: { consumptionId: `c${id}`, ...spendRequest(spend) } };
}

const limitArb = fc.option(fc.integer({ min: 0, max: 40 }), { nil: null });
const stepArb = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('consume' as const), id: fc.integer({ min: 0, max: 40 }), spend: spendArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('limits' as const),
      user: fc.constantFrom(...USERS, null),
      email: limitArb,
      mobile: limitArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('refund' as const),
      id: fc.integer({ min: 0, max: 10 }),
      of: fc.integer({ min: 0, max: 40 }),
      credits: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reset' as const), n: fc.integer({ min: 0, max: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('plan' as const),
      rates: rateArb,
      clientPrices: fc.boolean(),
      effective: fc.constantFrom('now' as const, 'next_cycle' as const),
    }),
  },
);
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

const historyArb = fc.record({
  rates: rateArb,
  steps: fc.array(fc.record({ step: stepArb, advanceHours: fc.integer({ min: 0, max: 120 }) }), { maxLength: 60 }),
});

function toCommands(rates: RateEntry[], steps: readonly { step: Step; advanceHours: number }[]): LedgerCommand[] {
  const plan: Plan = { ...PLAN, rates };
  const commands: LedgerCommand[] = [open(new Date(START).toISOString(), plan)];
  let now = START;
  for (const { step, advanceHours } of steps) {
    now += advanceHours * HOUR;
    const at = new Date(now).toISOString();
    if (step.k === 'consume') commands.push(consumeOf(step.id, step.spend, at));
    else if (step.k === 'limits') commands.push(setMemberLimits(step.user, { email: step.email, mobile: step.mobile }, at));
    else if (step.k === 'refund') commands.push(refund(`r${step.id}`, `c${step.of}`, step.credits, at));
    else if (step.k === 'reset') commands.push(reset(`manual-${step.n}-${now}`, at));
    else {
      const change = changePlan('p', PLAN.creditTypes, step.effective, at);
      commands.push({ ...change, data: { ...change.data, planId: `p-${now}`, rates: step.rates, clientPrices: step.clientPrices } });
    }
  }
  return commands;
}

/** Folds the commands, calling `onEvent` with the state right before each accepted event. */
function replay(commands: readonly LedgerCommand[], onEvent: (before: OpenAccountState, event: LedgerEvent) => void = () => undefined): AccountState {
  let state = ledgerDecider.initialState();
  for (const command of commands) {
    let events: readonly LedgerEvent[];
    try {
      const decision = decide(command, state);
      if (decision.kind !== 'accepted') continue;
      events = decision.events;
    } catch (error) {
      if (error instanceof DomainError) continue;
      throw error;
    }
    for (const event of events) {
      if (state.status === 'open') onEvent(state, event);
      state = ledgerDecider.evolve(state, event);
    }
  }
  return state;
}

describe('spending invariants (fast-check)', () => {
  it('no consumption ever takes a member past their limit, nor an account past its overdraft', () => {
    fc.assert(
      fc.property(historyArb, ({ rates, steps }) => {
        replay(toCommands(rates, steps), (before, event) => {
          if (event.type !== 'CreditConsumed' || event.data.creditsCharged === 0) return;
          const data = (event as CreditConsumed).data;
          const budget = memberBudget(before, data.userId, data.creditType);
          if (budget.limit !== null) expect(budget.used + data.creditsCharged).toBeLessThanOrEqual(budget.limit);
          const overdraft = before.plan.creditTypes[data.creditType].overdraft ?? DENY_OVERDRAFT;
          if (overdraft.policy === 'deny') expect(data.balanceAfter.remaining).toBeGreaterThanOrEqual(0);
          else if (overdraft.limit !== undefined) expect(data.balanceAfter.remaining).toBeGreaterThanOrEqual(-overdraft.limit);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('check says allowed exactly when the same consumption would be accepted on the same state, at the same price', () => {
    fc.assert(
      fc.property(historyArb, spendArb, fc.integer({ min: 0, max: 400 }), ({ rates, steps }, spend, laterHours) => {
        const commands = toCommands(rates, steps);
        const state = replay(commands);
        const last = Date.parse(commands[commands.length - 1].at);
        const at = new Date(last + laterHours * HOUR).toISOString();
        const consumption = consumeOf(999, spend, at);
        let accepted: CreditConsumed['data'] | undefined;
        let refusal: DomainError | undefined;
        try {
          const decision = decide(consumption, state);
          if (decision.kind === 'accepted') accepted = (decision.events.find((event) => event.type === 'CreditConsumed') as CreditConsumed).data;
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          refusal = error;
        }
        let check: ReturnType<typeof checkSpend> | undefined;
        let thrown: DomainError | undefined;
        try {
          check = checkSpend(state, spendRequest(spend), at);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          thrown = error;
        }
        if (accepted) {
          expect(check).toMatchObject({
            allowed: true,
            creditType: accepted.creditType,
            credits: accepted.creditsCharged,
            alreadyPurchased: accepted.alreadyPurchased,
          });
          expect(check?.reason).toBeUndefined();
        } else if (thrown) {
          expect(thrown.code).toBe(refusal?.code);
        } else {
          expect(check).toMatchObject({ allowed: false, reason: refusal?.code });
        }
      }),
      { numRuns: 400 },
    );
  });
});
