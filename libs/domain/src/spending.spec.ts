import { checkSpend } from './decide';
import { DomainErrorCode } from './errors';
import { CreditConsumed, LedgerEvent, MemberLimitsSet } from './events';
import { memberBudget } from './members';
import { CreditTypePlan, Plan } from './plan';
import { OpenAccountState } from './state';
import { given } from './testing/given-when-then';
import { changePlan, consume, consumeUnits, open, PLAN, PRICED_PLAN, RATES, refund, reset, run, setMemberLimits, T0 } from './testing/fixtures';

function events(...commands: Parameters<typeof run>[0]): LedgerEvent[] {
  return run(commands).events;
}
function stateOf(history: LedgerEvent[]): OpenAccountState {
  return given(...history).state as OpenAccountState;
}
function consumed(list: readonly LedgerEvent[]): CreditConsumed['data'] {
  const event = list.find((event) => event.type === 'CreditConsumed');
  if (!event) throw new Error(`no CreditConsumed in ${list.map((event) => event.type).join(', ')}`);
  return (event as CreditConsumed).data;
}

const CREDIT_TYPES: Record<string, CreditTypePlan> = PLAN.creditTypes;
const MID_DECEMBER = '2026-12-15T00:00:00.000Z';

describe('rate card pricing', () => {
  const opened = events(open(T0, PRICED_PLAN));

  it('prices units without credits at the rate in force: credits = rate x units, recorded with the rate and units', () => {
    const data = consumed(
      given(...opened)
        .when(consumeUnits('c1', 'mobile_reveal', { units: 3 }))
        .thenEvents(),
    );
    expect(data).toMatchObject({
      creditType: 'mobile',
      creditsRequested: null,
      units: 3,
      pricedBy: 'rate_card',
      rate: { feature: 'people_search', action: 'mobile_reveal', creditType: 'mobile', credits: 2 },
      creditsCharged: 6,
    });
    expect(data.balanceAfter.remaining).toBe(4);
  });

  it("uses the most specific entry: an action's own rate, else the feature's default (action null)", () => {
    const data = consumed(
      given(...opened)
        .when(consumeUnits('c1', 'email_reveal'))
        .thenEvents(),
    );
    expect(data).toMatchObject({ creditType: 'email', units: 1, creditsCharged: 1, rate: { action: null, credits: 1 } });
  });

  it('records a free action (rate 0) with nothing charged', () => {
    const data = consumed(
      given(...opened)
        .when(consumeUnits('c1', 'csv_export', { units: 5 }))
        .thenEvents(),
    );
    expect(data).toMatchObject({ creditType: 'export', creditsCharged: 0, units: 5, pricedBy: 'rate_card', drawnFrom: [] });
  });

  it('records client-priced consumptions as such, with their units', () => {
    const data = consumed(
      given(...opened)
        .when(consume('c1', 7, { units: 2 }))
        .thenEvents(),
    );
    expect(data).toMatchObject({ creditsRequested: 7, creditsCharged: 7, units: 2, pricedBy: 'client', rate: null });
  });
});

describe('rate card: what is not priced', () => {
  const opened = events(open(T0, PRICED_PLAN));

  it('refuses NO_RATE_FOR_ACTION without a rate and without credits, and a credit type that is not the rate’s', () => {
    given(...opened)
      .when(consumeUnits('c1', 'anything', {}, T0, 'enrichment'))
      .thenRefused(DomainErrorCode.NoRateForAction);
    given(...events(open()))
      .when(consumeUnits('c1', 'mobile_reveal'))
      .thenRefused(DomainErrorCode.NoRateForAction);
    const err = given(...opened)
      .when(consumeUnits('c1', 'mobile_reveal', { creditType: 'email' }))
      .thenRefused(DomainErrorCode.NoRateForAction);
    expect(err.details).toEqual({ feature: 'people_search', action: 'mobile_reveal', creditType: 'email' });
    given(...opened)
      .when(consumeUnits('c2', 'mobile_reveal', { creditType: 'mobile' }))
      .thenEvents();
  });
});

describe('rate card refusals and repeats', () => {
  it('refuses CLIENT_PRICE_NOT_ALLOWED when the plan prices every action itself', () => {
    const strict = events(open(T0, { ...PRICED_PLAN, clientPrices: false }));
    given(...strict)
      .when(consume('c1', 1))
      .thenRefused(DomainErrorCode.ClientPriceNotAllowed);
    given(...strict)
      .when(consumeUnits('c1', 'email_reveal'))
      .thenEvents();
  });

  it('refuses CHARGE_TOO_LARGE when rate x units is beyond one movement', () => {
    const expensive: Plan = { ...PLAN, rates: [{ feature: 'people_search', creditType: 'export', credits: 1_000_000 }] };
    given(...events(open(T0, expensive)))
      .when(consumeUnits('c1', 'x', { units: 1_001 }))
      .thenRefused(DomainErrorCode.ChargeTooLarge);
  });

  it('charges 0 for a dataKey already purchased under a rate', () => {
    const history = events(open(T0, PRICED_PLAN), consumeUnits('c1', 'mobile_reveal', { dataKey: 'contact_1' }));
    const data = consumed(
      given(...history)
        .when(consumeUnits('c2', 'mobile_reveal', { dataKey: 'contact_1', units: 4 }))
        .thenEvents(),
    );
    expect(data).toMatchObject({ creditsCharged: 0, alreadyPurchased: true, paidByConsumptionId: 'c1', pricedBy: 'rate_card', units: 4 });
  });

  it('answers a retry with the first outcome even after the rate changed; the credit type may be left out or repeated', () => {
    const history = events(
      open(T0, PRICED_PLAN),
      consumeUnits('c1', 'mobile_reveal'),
      changePlan('pricier', CREDIT_TYPES, 'now', T0),
      // the plan change above drops the rate card: a retry must not be priced again
    );
    given(...history)
      .when(consumeUnits('c1', 'mobile_reveal'))
      .thenDuplicate();
    given(...history)
      .when(consumeUnits('c1', 'mobile_reveal', { creditType: 'mobile' }))
      .thenDuplicate();
    given(...history)
      .when(consumeUnits('c1', 'mobile_reveal', { units: 2 }))
      .thenRefused(DomainErrorCode.IdempotencyKeyReused);
    given(...history)
      .when(consumeUnits('c1', 'mobile_reveal', { creditType: 'mobile', credits: 2 }))
      .thenRefused(DomainErrorCode.IdempotencyKeyReused);
  });
});

describe('rate changes', () => {
  const doubled = RATES.map((rate) => ({ ...rate, credits: rate.credits * 2 }));

  it('a rate change at the next cycle keeps the old price until the boundary, then the new one', () => {
    const history = events(open(T0, PRICED_PLAN), {
      ...changePlan('doubled', CREDIT_TYPES, 'next_cycle', T0),
      data: { planId: 'doubled', creditTypes: CREDIT_TYPES, rates: doubled, effective: 'next_cycle' },
    });
    expect(stateOf(history).pendingPlan?.rates).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'mobile_reveal', credits: 4 })]));
    expect(
      consumed(
        given(...history)
          .when(consumeUnits('c1', 'mobile_reveal'))
          .thenEvents(),
      ).creditsCharged,
    ).toBe(2);
    const after = given(...history)
      .when(consumeUnits('c2', 'mobile_reveal', {}, MID_DECEMBER))
      .thenEvents();
    expect(after.map((event) => event.type)).toEqual(['CycleReset', 'CreditConsumed']);
    expect(consumed(after)).toMatchObject({ cycleId: '2026-12', creditsCharged: 4, rate: { credits: 4 } });
  });

  it('a plan switch effective now changes prices mid-cycle, at once', () => {
    const history = events(open(T0, PRICED_PLAN), consumeUnits('c1', 'mobile_reveal'), {
      ...changePlan('doubled', CREDIT_TYPES, 'now', '2026-11-20T00:00:00.000Z'),
      data: { planId: 'doubled', creditTypes: CREDIT_TYPES, rates: doubled, effective: 'now' },
    });
    const data = consumed(
      given(...history)
        .when(consumeUnits('c2', 'mobile_reveal', {}, '2026-11-20T00:00:01.000Z'))
        .thenEvents(),
    );
    expect(data).toMatchObject({ cycleId: '2026-11', creditsCharged: 4, rate: { credits: 4 } });
  });

  it('a plan change with the same allocations and rates is a duplicate; other rates are a change', () => {
    const history = events(open(T0, PRICED_PLAN), {
      ...changePlan('p', CREDIT_TYPES, 'now', T0),
      data: { planId: 'p', creditTypes: CREDIT_TYPES, rates: RATES, effective: 'now' },
    });
    given(...history)
      .when({ ...changePlan('p', CREDIT_TYPES, 'now', T0), data: { planId: 'p', creditTypes: CREDIT_TYPES, rates: [...RATES].reverse(), effective: 'now' } })
      .thenDuplicate();
    given(...history)
      .when({ ...changePlan('p', CREDIT_TYPES, 'now', T0), data: { planId: 'p', creditTypes: CREDIT_TYPES, rates: doubled, effective: 'now' } })
      .thenEvents();
  });

  it('refuses a rate card naming a credit type outside the plan, or two rates for one action', () => {
    given()
      .when(open(T0, { ...PLAN, rates: [{ feature: 'f', creditType: 'sms', credits: 1 }] }))
      .thenRefused(DomainErrorCode.InvalidRates);
    given()
      .when(
        open(T0, {
          ...PLAN,
          rates: [
            { feature: 'f', action: 'a', creditType: 'email', credits: 1 },
            { feature: 'f', action: 'a', creditType: 'mobile', credits: 1 },
          ],
        }),
      )
      .thenRefused(DomainErrorCode.InvalidRates);
  });
});

describe('member budgets', () => {
  const limited = events(open(T0, PRICED_PLAN), setMemberLimits('ana', { email: 5 }));

  it('records limit changes as events, the same limits again is a duplicate, an unknown credit type is refused', () => {
    const [event] = given(...events(open()))
      .when(setMemberLimits('ana', { email: 5, mobile: null }))
      .thenEvents() as MemberLimitsSet[];
    expect(event.data).toEqual({ userId: 'ana', creditTypes: { email: 5, mobile: null }, limits: { email: 5 }, cycleId: '2026-11' });
    given(...limited)
      .when(setMemberLimits('ana', { email: 5 }))
      .thenDuplicate();
    given(...limited)
      .when(setMemberLimits('ana', { sms: 5 }))
      .thenRefused(DomainErrorCode.UnknownCreditType);
  });

  it('lets a member reach exactly their limit, then refuses MEMBER_LIMIT_EXCEEDED with the figures', () => {
    const atFour = events(...[open(T0, PRICED_PLAN), setMemberLimits('ana', { email: 5 }), consume('c1', 4)]);
    given(...atFour)
      .when(consume('c2', 2))
      .thenRefused(DomainErrorCode.MemberLimitExceeded);
    const atFive = given(...atFour)
      .when(consume('c2', 1))
      .stateAfter() as OpenAccountState;
    expect(memberBudget(atFive, 'ana', 'email')).toEqual({ used: 5, reserved: 0, limit: 5, limitSource: 'member', remaining: 0 });
    const history = events(open(T0, PRICED_PLAN), setMemberLimits('ana', { email: 5 }), consume('c1', 4), consume('c2', 1));
    const err = given(...history)
      .when(consumeUnits('c3', 'email_reveal'))
      .thenRefused(DomainErrorCode.MemberLimitExceeded);
    expect(err.details).toEqual({ creditType: 'email', limit: 5, used: 5, reserved: 0, requested: 1 });
    // Others, other credit types, free actions and repeated purchases are not held by it.
    given(...history)
      .when(consume('c4', 1, { userId: 'ben' }))
      .thenEvents();
    given(...history)
      .when(consumeUnits('c5', 'mobile_reveal'))
      .thenEvents();
    given(...history)
      .when(consumeUnits('c6', 'csv_export'))
      .thenEvents();
  });

  it('charges 0 for a repeated purchase even at the limit', () => {
    const history = events(open(T0, PRICED_PLAN), setMemberLimits('ana', { email: 1 }), consume('c1', 1, { dataKey: 'k1' }));
    expect(
      consumed(
        given(...history)
          .when(consume('c2', 1, { dataKey: 'k1' }))
          .thenEvents(),
      ).creditsCharged,
    ).toBe(0);
  });
});

describe('member budgets over time', () => {
  it('refunds give room back to the member', () => {
    const history = events(...[open(T0, PRICED_PLAN), setMemberLimits('ana', { email: 5 }), consume('c1', 5), refund('r1', 'c1', 2)]);
    expect(memberBudget(stateOf(history), 'ana', 'email')).toMatchObject({ used: 3, remaining: 2 });
    given(...history)
      .when(consume('c2', 2))
      .thenEvents();
    given(...history)
      .when(consume('c2', 3))
      .thenRefused(DomainErrorCode.MemberLimitExceeded);
  });

  it('renews limits with the cycle; a refund of an earlier cycle gives no room in this one', () => {
    const history = events(open(T0, PRICED_PLAN), setMemberLimits('ana', { email: 5 }), consume('c1', 5));
    const december = given(...history)
      .when(consume('c2', 5, {}, MID_DECEMBER))
      .thenEvents();
    expect(december.map((event) => event.type)).toContain('CycleReset');
    const afterReset = events(...[open(T0, PRICED_PLAN), setMemberLimits('ana', { email: 5 }), consume('c1', 5), reset('2026-12', MID_DECEMBER)]);
    expect(memberBudget(stateOf(afterReset), 'ana', 'email')).toEqual({ used: 0, reserved: 0, limit: 5, limitSource: 'member', remaining: 5 });
    const refunded = [
      ...afterReset,
      ...given(...afterReset)
        .when(refund('r1', 'c1', 5, MID_DECEMBER))
        .thenEvents(),
    ];
    expect(memberBudget(stateOf(refunded), 'ana', 'email').used).toBe(0);
    given(...refunded)
      .when(consume('c3', 6, {}, MID_DECEMBER))
      .thenRefused(DomainErrorCode.MemberLimitExceeded);
  });

  it("applies the account default to members without their own limit; removing a member's limit falls back to the default", () => {
    const history = events(open(T0, PRICED_PLAN), setMemberLimits(null, { email: 2 }), setMemberLimits('ana', { email: 10 }));
    expect(memberBudget(stateOf(history), 'ben', 'email')).toEqual({ used: 0, reserved: 0, limit: 2, limitSource: 'default', remaining: 2 });
    expect(memberBudget(stateOf(history), 'ana', 'email')).toMatchObject({ limit: 10, limitSource: 'member' });
    given(...history)
      .when(consume('c1', 3, { userId: 'ben' }))
      .thenRefused(DomainErrorCode.MemberLimitExceeded);
    const removed = events(
      ...[open(T0, PRICED_PLAN), setMemberLimits(null, { email: 2 }), setMemberLimits('ana', { email: 10 }), setMemberLimits('ana', { email: null })],
    );
    expect(memberBudget(stateOf(removed), 'ana', 'email')).toMatchObject({ limit: 2, limitSource: 'default' });
    const none = events(...[open(T0, PRICED_PLAN), setMemberLimits(null, { email: 2 }), setMemberLimits(null, { email: null })]);
    expect(memberBudget(stateOf(none), 'ben', 'email')).toEqual({ used: 0, reserved: 0, limit: null, limitSource: null, remaining: null });
  });
});

describe('check', () => {
  const history = events(open(T0, PRICED_PLAN), setMemberLimits('ana', { mobile: 4 }), consumeUnits('c1', 'mobile_reveal', { dataKey: 'k1' }));
  const state = stateOf(history);
  const ask = (request: Partial<Parameters<typeof checkSpend>[1]>) =>
    checkSpend(state, { userId: 'ana', feature: 'people_search', action: 'mobile_reveal', ...request }, T0);

  it('answers allowed with the price, the balance and the member room, writing nothing', () => {
    const figures = { remaining: 8, reserved: 0, available: 8 };
    expect(ask({})).toEqual({ allowed: true, creditType: 'mobile', credits: 2, ...figures, memberRemaining: 2, alreadyPurchased: false });
    expect(ask({ dataKey: 'k1' })).toEqual({ allowed: true, creditType: 'mobile', credits: 0, ...figures, memberRemaining: 2, alreadyPurchased: true });
    expect(ask({ userId: 'ben', units: 4 })).toEqual({
      allowed: true,
      creditType: 'mobile',
      credits: 8,
      ...figures,
      memberRemaining: null,
      alreadyPurchased: false,
    });
  });

  it('answers not allowed with the reason a consumption would be refused with', () => {
    expect(ask({ units: 2 })).toMatchObject({ allowed: false, reason: 'MEMBER_LIMIT_EXCEEDED', credits: 4, memberRemaining: 2 });
    expect(ask({ userId: 'ben', units: 7 })).toMatchObject({ allowed: false, reason: 'INSUFFICIENT_CREDITS', credits: 14, remaining: 8 });
    expect(ask({ feature: 'enrichment' })).toEqual({
      allowed: false,
      reason: 'NO_RATE_FOR_ACTION',
      creditType: null,
      credits: null,
      remaining: null,
      reserved: null,
      available: null,
      memberRemaining: null,
      alreadyPurchased: false,
    });
    expect(ask({ credits: 1, creditType: 'sms' })).toMatchObject({ allowed: false, reason: 'UNKNOWN_CREDIT_TYPE', creditType: 'sms', remaining: null });
  });

  it('throws the refusals that are not reasons (the request itself is refused)', () => {
    const strict = stateOf(events(open(T0, { ...PRICED_PLAN, clientPrices: false })));
    expect(() => checkSpend(strict, { userId: 'ana', feature: 'people_search', action: 'x', credits: 1, creditType: 'email' }, T0)).toThrow(
      expect.objectContaining({ code: DomainErrorCode.ClientPriceNotAllowed }),
    );
    expect(() => checkSpend({ status: 'none' }, { userId: 'ana', feature: 'f', action: 'a' }, T0)).toThrow(
      expect.objectContaining({ code: DomainErrorCode.AccountNotFound }),
    );
  });

  it('sees the next cycle at once when its boundary passed: renewed budgets and the pending rates', () => {
    const full = stateOf(events(open(T0, PRICED_PLAN), setMemberLimits('ana', { mobile: 2 }), consumeUnits('c1', 'mobile_reveal')));
    expect(checkSpend(full, { userId: 'ana', feature: 'people_search', action: 'mobile_reveal' }, T0)).toMatchObject({ allowed: false });
    expect(checkSpend(full, { userId: 'ana', feature: 'people_search', action: 'mobile_reveal' }, MID_DECEMBER)).toMatchObject({
      allowed: true,
      remaining: 10,
      memberRemaining: 2,
    });
  });
});
