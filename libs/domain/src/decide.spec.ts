import { DomainErrorCode } from './errors';
import { CreditConsumed, CreditRefunded, CycleReset, LedgerEvent } from './events';
import { AccountState, OpenAccountState } from './state';
import { given } from './testing/given-when-then';
import { consume, grant, open, PLAN, refund, reset, run, T0 } from './testing/fixtures';
import { decide } from './decide';

function events(...commands: Parameters<typeof run>[0]): LedgerEvent[] {
  return run(commands).events;
}
function balanceOf(state: AccountState, creditType = 'email') {
  if (state.status !== 'open') throw new Error('not open');
  return state.creditTypes[creditType].figures;
}

describe('OpenAccount', () => {
  it('opens the account and its first cycle with the plan allocations', () => {
    const [accountOpened] = given().when(open()).thenEvents();
    expect(accountOpened).toMatchObject({
      type: 'AccountOpened',
      data: { accountId: 'acme', cycleId: '2026-11', cycleStartedAt: '2026-11-01T00:00:00.000Z', cycleEndsAt: '2026-12-01T00:00:00.000Z' },
    });
    const state = given(accountOpened).state as OpenAccountState;
    expect(state.creditTypes.email.figures).toEqual({ allocated: 100, rolledIn: 0, granted: 0, used: 0, refunded: 0, expired: 0, remaining: 100 });
  });
  it('is idempotent with the same body and refuses another body', () => {
    const history = events(open());
    given(...history)
      .when(open())
      .thenDuplicate();
    given(...history)
      .when({ ...open(), data: { ...open().data, name: 'Other' } })
      .thenRefused(DomainErrorCode.IdempotencyKeyReused);
  });
  it('refuses commands on an account that does not exist', () => {
    given().when(consume('c1', 1)).thenRefused(DomainErrorCode.AccountNotFound);
  });
});

describe('ConsumeCredits', () => {
  const opened = events(open());
  it('charges the credits and reports the balance after', () => {
    const [event] = given(...opened)
      .when(consume('c1', 3, { description: 'Jane Doe', dataRequested: 'email' }))
      .thenEvents();
    expect(event.type).toBe('CreditConsumed');
    const data = (event as CreditConsumed).data;
    expect(data).toMatchObject({ creditsCharged: 3, alreadyPurchased: false, drawnFrom: [{ bucketId: 'cycle:2026-11', credits: 3 }] });
    expect(data.balanceAfter).toEqual({ allocated: 100, rolledIn: 0, granted: 0, used: 3, refunded: 0, expired: 0, remaining: 97 });
  });
  it('a retry with the same id and payload is a duplicate; another payload is refused', () => {
    const history = events(open(), consume('c1', 3));
    given(...history)
      .when(consume('c1', 3))
      .thenDuplicate();
    given(...history)
      .when(consume('c1', 3, { occurredAt: T0 }))
      .thenDuplicate();
    given(...history)
      .when(consume('c1', 4))
      .thenRefused(DomainErrorCode.IdempotencyKeyReused);
    given(...history)
      .when(consume('c1', 3, { occurredAt: '2026-11-09T00:00:00Z' }))
      .thenRefused(DomainErrorCode.IdempotencyKeyReused);
  });
  it('refuses INSUFFICIENT_CREDITS under deny and changes nothing', () => {
    const history = events(open(), consume('c1', 99));
    const err = given(...history)
      .when(consume('c2', 2))
      .thenRefused(DomainErrorCode.InsufficientCredits);
    expect(err.details).toEqual({ creditType: 'email', requested: 2, remaining: 1, reserved: 0, available: 1 });
    given(...history)
      .when(consume('c3', 1))
      .thenEvents();
  });
  it('allows an overdraft up to the limit under allow', () => {
    const history = events(open(), consume('m1', 10, { creditType: 'mobile' }));
    const [consumed] = given(...history)
      .when(consume('m2', 5, { creditType: 'mobile' }))
      .thenEvents();
    expect((consumed as CreditConsumed).data.balanceAfter.remaining).toBe(-5);
    given(...history)
      .when(consume('m3', 6, { creditType: 'mobile' }))
      .thenRefused(DomainErrorCode.InsufficientCredits);
  });
  it('allows an unlimited overdraft when allow has no limit', () => {
    const [consumed] = given(...events(open()))
      .when(consume('x1', 500, { creditType: 'export' }))
      .thenEvents();
    expect((consumed as CreditConsumed).data.balanceAfter.remaining).toBe(-450);
  });
  it('refuses a credit type that is not in the plan', () => {
    given(...events(open()))
      .when(consume('c1', 1, { creditType: 'ai_research' }))
      .thenRefused(DomainErrorCode.UnknownCreditType);
  });
});

// The same describe title: the second half of the ConsumeCredits cases (blocks stay short).
describe('ConsumeCredits', () => {
  it('charges once for data already bought, and records the access with 0 credits', () => {
    const history = events(open(), consume('c1', 1, { dataKey: 'contact-42' }));
    const [consumed] = given(...history)
      .when(consume('c2', 1, { dataKey: 'contact-42' }))
      .thenEvents();
    expect((consumed as CreditConsumed).data).toMatchObject({ creditsCharged: 0, alreadyPurchased: true, paidByConsumptionId: 'c1', drawnFrom: [] });
    // Another credit type is another purchase.
    const [mobileConsumed] = given(...history)
      .when(consume('c3', 1, { dataKey: 'contact-42', creditType: 'mobile' }))
      .thenEvents();
    expect((mobileConsumed as CreditConsumed).data.creditsCharged).toBe(1);
  });
  it('charges again when the purchase was fully refunded, not when partially refunded', () => {
    const partly = events(open(), consume('c1', 2, { dataKey: 'k' }), refund('r1', 'c1', 1));
    const [afterPartialRefund] = given(...partly)
      .when(consume('c2', 2, { dataKey: 'k' }))
      .thenEvents();
    expect((afterPartialRefund as CreditConsumed).data.alreadyPurchased).toBe(true);
    const fully = events(open(), consume('c1', 2, { dataKey: 'k' }), refund('r1', 'c1'));
    const [afterFullRefund] = given(...fully)
      .when(consume('c2', 2, { dataKey: 'k' }))
      .thenEvents();
    expect((afterFullRefund as CreditConsumed).data).toMatchObject({ alreadyPurchased: false, creditsCharged: 2 });
  });
  it('draws the soonest-expiring bucket first: the cycle before a grant without expiry, an expiring grant before the cycle', () => {
    const history = events(open(), grant('g1', 10), grant('g2', 5, { expiresAt: '2026-11-20T00:00:00Z' }));
    const [consumed] = given(...history)
      .when(consume('c1', 107))
      .thenEvents();
    expect((consumed as CreditConsumed).data.drawnFrom).toEqual([
      { bucketId: 'grant:g2', credits: 5 },
      { bucketId: 'cycle:2026-11', credits: 100 },
      { bucketId: 'grant:g1', credits: 2 },
    ]);
  });
  it('expires a lapsed grant (an event) before charging', () => {
    const history = events(open(), grant('g1', 10, { expiresAt: '2026-11-15T00:00:00Z' }));
    const out = given(...history).when(consume('c1', 105, {}, '2026-11-16T00:00:00.000Z'));
    out.thenRefused(DomainErrorCode.InsufficientCredits);
    const evs = given(...history)
      .when(consume('c1', 5, {}, '2026-11-16T00:00:00.000Z'))
      .thenEvents();
    expect(evs.map((event) => event.type)).toEqual(['CreditsExpired', 'CreditConsumed']);
    expect(evs[0].data).toMatchObject({ grantId: 'g1', credits: 10 });
    expect(
      balanceOf(
        given(...history)
          .when(consume('c1', 5, {}, '2026-11-16T00:00:00.000Z'))
          .stateAfter(),
      ),
    ).toEqual({
      allocated: 100,
      rolledIn: 0,
      granted: 10,
      used: 5,
      refunded: 0,
      expired: 10,
      remaining: 95,
    });
  });
});

describe('RefundCredits', () => {
  const history = events(open(), consume('c1', 5));
  it('refunds what is left when credits are omitted, partially otherwise', () => {
    const [full] = given(...history)
      .when(refund('r1', 'c1'))
      .thenEvents();
    expect((full as CreditRefunded).data).toMatchObject({
      credits: 5,
      consumptionFullyRefunded: true,
      returnedTo: [{ bucketId: 'cycle:2026-11', credits: 5 }],
    });
    const [part] = given(...history)
      .when(refund('r1', 'c1', 2))
      .thenEvents();
    expect((part as CreditRefunded).data).toMatchObject({ credits: 2, consumptionFullyRefunded: false });
    expect((part as CreditRefunded).data.balanceAfter).toMatchObject({ used: 5, refunded: 2, remaining: 97 });
  });
  it('never refunds more than charged minus earlier refunds', () => {
    const after = events(open(), consume('c1', 5), refund('r1', 'c1', 3));
    given(...after)
      .when(refund('r2', 'c1', 3))
      .thenRefused(DomainErrorCode.RefundExceedsConsumption);
    given(...after)
      .when(refund('r2', 'c1', 2))
      .thenEvents();
    given(...events(open(), consume('c1', 5), refund('r1', 'c1')))
      .when(refund('r2', 'c1'))
      .thenRefused(DomainErrorCode.RefundExceedsConsumption);
  });
  it('refuses an unknown consumption', () => {
    given(...history)
      .when(refund('r1', 'nope'))
      .thenRefused(DomainErrorCode.ConsumptionNotFound);
  });
  it('is idempotent per refundId', () => {
    const after = events(open(), consume('c1', 5), refund('r1', 'c1', 2));
    given(...after)
      .when(refund('r1', 'c1', 2))
      .thenDuplicate();
    given(...after)
      .when(refund('r1', 'c1', 1))
      .thenRefused(DomainErrorCode.IdempotencyKeyReused);
  });
  it('has nothing to refund on an already-purchased access', () => {
    const after = events(open(), consume('c1', 1, { dataKey: 'k' }), consume('c2', 1, { dataKey: 'k' }));
    given(...after)
      .when(refund('r1', 'c2'))
      .thenRefused(DomainErrorCode.RefundExceedsConsumption);
  });
  it('returns credits of a closed cycle to the current cycle', () => {
    const after = events(open(), consume('c1', 5), reset('2026-12', '2026-12-01T00:00:00.000Z'));
    const [refunded] = given(...after)
      .when(refund('r1', 'c1', 2, '2026-12-02T00:00:00.000Z'))
      .thenEvents();
    expect((refunded as CreditRefunded).data.returnedTo).toEqual([{ bucketId: 'cycle:2026-12', credits: 2 }]);
    expect((refunded as CreditRefunded).data.balanceAfter).toMatchObject({ allocated: 100, used: 0, refunded: 2, remaining: 102 });
  });
});

describe('GrantCredits', () => {
  it('adds a grant bucket and is idempotent per grantId', () => {
    const history = events(open());
    const [granted] = given(...history)
      .when(grant('g1', 25))
      .thenEvents();
    expect(granted.data).toMatchObject({ credits: 25, balanceAfter: { granted: 25, remaining: 125 } });
    given(...events(open(), grant('g1', 25)))
      .when(grant('g1', 25))
      .thenDuplicate();
    given(...events(open(), grant('g1', 25)))
      .when(grant('g1', 26))
      .thenRefused(DomainErrorCode.IdempotencyKeyReused);
  });
  it('refuses an expiry in the past and an unknown credit type', () => {
    given(...events(open()))
      .when(grant('g1', 1, { expiresAt: '2026-01-01T00:00:00Z' }))
      .thenRefused(DomainErrorCode.GrantAlreadyExpired);
    given(...events(open()))
      .when(grant('g1', 1, { creditType: 'nope' }))
      .thenRefused(DomainErrorCode.UnknownCreditType);
  });
});

describe('ResetCycle', () => {
  it('closes the cycle with its figures and opens the next with fresh allocations; a lapsed grant expires as an event first', () => {
    const history = events(open(), consume('c1', 30), grant('g1', 10), grant('g2', 5, { expiresAt: '2026-11-20T00:00:00Z' }), refund('r1', 'c1', 4));
    const evs = given(...history)
      .when(reset('2026-12', '2026-12-01T00:00:00.000Z'))
      .thenEvents();
    expect(evs.map((event) => event.type)).toEqual(['CreditsExpired', 'CycleReset']);
    expect(evs[0].data).toMatchObject({ bucketId: 'grant:g2', grantId: 'g2', credits: 5, expiredAt: '2026-11-20T00:00:00.000Z' });
    const data = (evs[1] as CycleReset).data;
    expect([data.previousCycleId, data.endsAt, data.trigger]).toEqual(['2026-11', '2027-01-01T00:00:00.000Z', 'manual']);
    const email = data.closing.find((closing) => closing.creditType === 'email');
    // 30 drawn from the cycle (the grants came later); the refund of 4 goes back to it; g2 (5) lapsed on Nov 20.
    expect(email).toEqual({
      creditType: 'email',
      allocated: 100,
      rolledIn: 0,
      granted: 15,
      used: 30,
      refunded: 4,
      expired: 5,
      remaining: 84,
      expiredAtReset: 74,
      carriedOver: 10,
      rolledOver: 0,
      overdrawn: 0,
      reservedAtReset: 0,
    });
    const state = given(...history)
      .when(reset('2026-12', '2026-12-01T00:00:00.000Z'))
      .stateAfter();
    expect(balanceOf(state)).toEqual({ allocated: 100, rolledIn: 0, granted: 10, used: 0, refunded: 0, expired: 0, remaining: 110 });
  });
  it('is a no-op for the same cycleId (including the first cycle) and refuses other allocations', () => {
    const history = events(open(), reset('2026-12', '2026-12-01T00:00:00.000Z', { email: 200 }));
    given(...history)
      .when(reset('2026-12', '2026-12-01T00:00:00.000Z', { email: 200 }))
      .thenDuplicate();
    given(...history)
      .when(reset('2026-11', '2026-12-01T00:00:00.000Z'))
      .thenDuplicate();
    given(...history)
      .when(reset('2026-12', '2026-12-01T00:00:00.000Z', { email: 300 }))
      .thenRefused(DomainErrorCode.IdempotencyKeyReused);
    expect(balanceOf(given(...history).state)).toMatchObject({ allocated: 200, remaining: 200 });
  });
  it('records an overdraft as overdrawn and starts the next cycle from its allocation', () => {
    const history = events(open(), consume('m1', 14, { creditType: 'mobile' }));
    const [cycleReset] = given(...history)
      .when(reset('2026-12', '2026-12-01T00:00:00.000Z'))
      .thenEvents();
    expect((cycleReset as CycleReset).data.closing.find((closing) => closing.creditType === 'mobile')).toMatchObject({
      remaining: -4,
      overdrawn: 4,
      expiredAtReset: 0,
    });
    expect(
      balanceOf(
        given(...history)
          .when(reset('2026-12', '2026-12-01T00:00:00.000Z'))
          .stateAfter(),
        'mobile',
      ).remaining,
    ).toBe(10);
  });
  it('refuses allocations for a credit type outside the plan', () => {
    given(...events(open()))
      .when(reset('2026-12', '2026-12-01T00:00:00.000Z', { nope: 1 }))
      .thenRefused(DomainErrorCode.UnknownCreditType);
  });
});

describe('decide is pure', () => {
  it('does not change the state it is given', () => {
    const { state } = run([open(), consume('c1', 5)]);
    const before = JSON.stringify({ ...(state as OpenAccountState), index: undefined });
    decide(consume('c2', 5), state);
    decide(refund('r1', 'c1'), state);
    expect(JSON.stringify({ ...(state as OpenAccountState), index: undefined })).toBe(before);
    expect(PLAN.creditTypes.email.allocation).toBe(100);
  });
});
