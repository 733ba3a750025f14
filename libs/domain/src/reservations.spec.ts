import { checkSpend } from './decide';
import { DomainErrorCode } from './errors';
import { CreditConsumed, CreditsReserved, CycleReset, LedgerEvent, ReservationCaptured, ReservationExpired, ReservationReleased } from './events';
import { memberBudget } from './members';
import { MAX_OPEN_RESERVATIONS_PER_ACCOUNT } from './limits';
import { availableOf, OpenAccountState, reservedOf } from './state';
import { given } from './testing/given-when-then';
import { capture, consume, grant, open, PRICED_PLAN, refund, release, reserve, reset, run, setMemberLimits, sweep, T0 } from './testing/fixtures';

const history = (...commands: Parameters<typeof run>[0]): LedgerEvent[] => run(commands).events;
const stateOf = (events: LedgerEvent[]): OpenAccountState => given(...events).state as OpenAccountState;
const later = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const ofType = <E extends LedgerEvent>(events: readonly LedgerEvent[], type: E['type']): E[] => events.filter((event) => event.type === type) as E[];

describe('ReserveCredits', () => {
  it('holds the credits: remaining unchanged, reserved up, available down; expiry 15 minutes unless told', () => {
    const events = given(...history(open()))
      .when(reserve('h1', 30))
      .thenEvents();
    expect(events.map((event) => event.type)).toEqual(['CreditsReserved']);
    expect(events[0].data).toMatchObject({ credits: 30, expiresAt: later(900), heldFrom: [{ bucketId: 'cycle:2026-11', credits: 30 }], reservedAfter: 30 });
    const state = stateOf([...history(open()), ...events]);
    expect(state.creditTypes.email.figures.remaining).toBe(100);
    expect([reservedOf(state, 'email'), availableOf(state, 'email')]).toEqual([30, 70]);
  });

  it('is priced by the rate card like a consumption', () => {
    const events = given(...history(open(T0, PRICED_PLAN)))
      .when({ type: 'ReserveCredits', at: T0, data: { reservationId: 'h1', userId: 'ana', feature: 'people_search', action: 'mobile_reveal', units: 3 } })
      .thenEvents();
    expect(events[0].data).toMatchObject({ creditType: 'mobile', credits: 6, pricedBy: 'rate_card', rate: { credits: 2 }, creditsRequested: null });
  });

  it('answers a retry with the same id as a duplicate and refuses another payload', () => {
    const held = history(open(), reserve('h1', 30));
    given(...held)
      .when(reserve('h1', 30))
      .thenDuplicate();
    given(...held)
      .when(reserve('h1', 31))
      .thenRefused(DomainErrorCode.IdempotencyKeyReused);
  });

  it('counts holds in new reservations, consumptions and checks: they are decided on available', () => {
    const held = history(open(), reserve('h1', 60));
    const refusal = given(...held)
      .when(reserve('h2', 41))
      .thenRefused(DomainErrorCode.InsufficientCredits);
    expect(refusal.details).toEqual({ creditType: 'email', requested: 41, remaining: 100, reserved: 60, available: 40 });
    given(...held)
      .when(consume('c1', 41))
      .thenRefused(DomainErrorCode.InsufficientCredits);
    given(...held)
      .when(consume('c1', 40))
      .thenEvents();
    const check = checkSpend(stateOf(held), { userId: 'ana', feature: 'email', action: 'reveal', creditType: 'email', credits: 41 }, T0);
    expect(check).toMatchObject({ allowed: false, reason: 'INSUFFICIENT_CREDITS', remaining: 100, reserved: 60, available: 40 });
  });
});

describe('ReserveCredits: limits', () => {
  it('counts holds against the member budget, for the member only', () => {
    const held = history(open(), setMemberLimits('ana', { email: 10 }), reserve('h1', 7));
    expect(memberBudget(stateOf(held), 'ana', 'email')).toEqual({ used: 0, reserved: 7, limit: 10, limitSource: 'member', remaining: 3 });
    given(...held)
      .when(consume('c1', 4))
      .thenRefused(DomainErrorCode.MemberLimitExceeded);
    given(...held)
      .when(reserve('h2', 4))
      .thenRefused(DomainErrorCode.MemberLimitExceeded);
    given(...held)
      .when(consume('c1', 4, { userId: 'ben' }))
      .thenEvents();
  });

  it('keeps an overdraft limit: available never goes below minus the limit', () => {
    const held = history(open(), reserve('h1', 10, { creditType: 'mobile' }));
    given(...held)
      .when(reserve('h2', 6, { creditType: 'mobile' }))
      .thenRefused(DomainErrorCode.InsufficientCredits);
    const events = given(...held)
      .when(reserve('h2', 5, { creditType: 'mobile' }))
      .thenEvents();
    expect(availableOf(stateOf([...held, ...events]), 'mobile')).toBe(-5);
  });

  it('refuses past the open reservations limit, and a refusal leaves no trace', () => {
    const many = history(open(T0), grant('g', 5000), ...Array.from({ length: MAX_OPEN_RESERVATIONS_PER_ACCOUNT }, (_, index) => reserve(`h${index}`, 1)));
    expect(stateOf(many).holds.open).toHaveLength(MAX_OPEN_RESERVATIONS_PER_ACCOUNT);
    given(...many)
      .when(reserve('one-more', 1))
      .thenRefused(DomainErrorCode.TooManyOpenReservations);
    const refused = history(open(), reserve('h1', 101));
    expect(refused.map((event) => event.type)).toEqual(['AccountOpened']);
    given(...refused)
      .when(capture('h1', 'c1'))
      .thenRefused(DomainErrorCode.ReservationNotFound);
  });
});

describe('CaptureReservation', () => {
  const held = history(open(), reserve('h1', 30, { dataKey: 'contact_1' }));

  it('records the consumption linked to its reservation and releases the rest, in one decision', () => {
    const events = given(...held)
      .when(capture('h1', 'c1', 12, later(60), { dataRequested: 'email' }))
      .thenEvents();
    expect(events.map((event) => event.type)).toEqual(['CreditConsumed', 'ReservationCaptured']);
    expect((events[0] as CreditConsumed).data).toMatchObject({ consumptionId: 'c1', reservationId: 'h1', creditsCharged: 12, dataKey: 'contact_1' });
    expect((events[1] as ReservationCaptured).data).toMatchObject({ held: 30, captured: 12, released: 18, reservedAfter: 0 });
    const state = stateOf([...held, ...events]);
    expect(state.creditTypes.email.figures).toMatchObject({ used: 12, remaining: 88 });
    expect([reservedOf(state, 'email'), availableOf(state, 'email')]).toEqual([0, 88]);
    expect(state.index.reservations.get('h1')).toMatchObject({ status: 'captured', captured: 12, released: 18 });
    expect(state.creditTypes.email.buckets[0].remaining).toBe(88);
    // A refund of the captured consumption works like any other.
    given(...held, ...events)
      .when(refund('r1', 'c1', 12, later(120)))
      .thenEvents();
  });

  it('captures everything held by default, and 0 is a free "nothing found"', () => {
    const all = given(...held)
      .when(capture('h1', 'c1'))
      .thenEvents();
    expect((all[0] as CreditConsumed).data.creditsCharged).toBe(30);
    const none = given(...held)
      .when(capture('h1', 'c1', 0))
      .thenEvents();
    expect((none[0] as CreditConsumed).data.creditsCharged).toBe(0);
    const state = stateOf([...held, ...none]);
    expect(state.creditTypes.email.figures.remaining).toBe(100);
    expect(availableOf(state, 'email')).toBe(100);
    expect(state.index.purchases.has('email\u0000contact_1')).toBe(false);
  });
});

describe('CaptureReservation: retries and refusals', () => {
  const held = history(open(), reserve('h1', 30, { dataKey: 'contact_1' }));

  it('answers a retry with the same consumptionId with the first outcome, then refuses another capture', () => {
    const captured = [
      ...held,
      ...given(...held)
        .when(capture('h1', 'c1', 5))
        .thenEvents(),
    ];
    given(...captured)
      .when(capture('h1', 'c1', 5))
      .thenDuplicate();
    given(...captured)
      .when(capture('h1', 'c1', 6))
      .thenRefused(DomainErrorCode.IdempotencyKeyReused);
    given(...captured)
      .when(capture('h1', 'c2', 5))
      .thenRefused(DomainErrorCode.ReservationNotOpen);
    given(...captured)
      .when(release('h1'))
      .thenRefused(DomainErrorCode.ReservationNotOpen);
  });

  it('refuses more than held, a consumptionId already used, after a release, and after expiry', () => {
    given(...held)
      .when(capture('h1', 'c1', 31))
      .thenRefused(DomainErrorCode.CaptureExceedsReservation);
    const consumed = history(open(), consume('c1', 1), reserve('h1', 30));
    given(...consumed)
      .when(capture('h1', 'c1'))
      .thenRefused(DomainErrorCode.IdempotencyKeyReused);
    const released = [
      ...held,
      ...given(...held)
        .when(release('h1'))
        .thenEvents(),
    ];
    given(...released)
      .when(capture('h1', 'c1'))
      .thenRefused(DomainErrorCode.ReservationNotOpen);
    given(...held)
      .when(capture('h1', 'c1', 1, later(900)))
      .thenRefused(DomainErrorCode.ReservationExpired);
  });

  it('keeps held credits of a grant that lapses while held; the part given back lapses with it', () => {
    const grantHeld = history(open(), grant('g1', 10, { expiresAt: later(120), priority: 5 }), reserve('h1', 10));
    expect(ofType<CreditsReserved>(grantHeld, 'CreditsReserved')[0].data.heldFrom).toEqual([{ bucketId: 'grant:g1', credits: 10 }]);
    const events = given(...grantHeld)
      .when(capture('h1', 'c1', 4, later(300)))
      .thenEvents();
    expect(events.map((event) => event.type)).toEqual(['CreditsExpired', 'CreditConsumed', 'ReservationCaptured']);
    expect((events[2] as ReservationCaptured).data).toMatchObject({ captured: 4, released: 6, returnedTo: [], lapsed: 6 });
    const state = stateOf([...grantHeld, ...events]);
    expect(state.creditTypes.email.figures).toMatchObject({ granted: 10, used: 4, expired: 6, remaining: 100 });
    expect(availableOf(state, 'email')).toBe(100);
  });
});

describe('ReleaseReservation and expiry', () => {
  const held = history(open(), reserve('h1', 30, { expiresInSeconds: 60 }));

  it('gives the credits back; releasing twice is a duplicate', () => {
    const events = given(...held)
      .when(release('h1', 'provider down'))
      .thenEvents();
    expect((events[0] as ReservationReleased).data).toMatchObject({
      held: 30,
      reason: 'provider down',
      returnedTo: [{ bucketId: 'cycle:2026-11', credits: 30 }],
    });
    const released = [...held, ...events];
    expect(availableOf(stateOf(released), 'email')).toBe(100);
    given(...released)
      .when(release('h1', 'provider down'))
      .thenDuplicate();
    given(...released)
      .when(release('h1'))
      .thenDuplicate();
    given(...history(open()))
      .when(release('nope'))
      .thenRefused(DomainErrorCode.ReservationNotFound);
  });

  it('is observed by the next decision on the account: the expiry is written first, the decision sees the credits', () => {
    given(...held)
      .when(consume('c1', 71, {}, later(59)))
      .thenRefused(DomainErrorCode.InsufficientCredits);
    const events = given(...held)
      .when(consume('c1', 71, {}, later(60)))
      .thenEvents();
    expect(events.map((event) => event.type)).toEqual(['ReservationExpired', 'CreditConsumed']);
    expect(events[0]).toMatchObject({ occurredAt: later(60), data: { reservationId: 'h1', held: 30, expiresAt: later(60), reservedAfter: 0 } });
    const state = stateOf([...held, ...events]);
    expect(state.index.reservations.get('h1')?.status).toBe('expired');
    expect(checkSpend(stateOf(held), { userId: 'ana', feature: 'f', action: 'a', creditType: 'email', credits: 100 }, later(61)).allowed).toBe(true);
  });

  it('is written by the sweeper; nothing due is a duplicate; release after expiry changes nothing', () => {
    given(...held)
      .when(sweep(later(59)))
      .thenDuplicate();
    const events = given(...held)
      .when(sweep(later(3600)))
      .thenEvents();
    expect(events.map((event) => event.type)).toEqual(['ReservationExpired']);
    const expired = [...held, ...events];
    given(...expired)
      .when(release('h1'))
      .thenDuplicate();
    given(...expired)
      .when(capture('h1', 'c1'))
      .thenRefused(DomainErrorCode.ReservationExpired);
    // Releasing one that expired but was not yet written writes the expiry, not a release.
    const late = given(...held)
      .when(release('h1', undefined, later(120)))
      .thenEvents();
    expect(late.map((event) => event.type)).toEqual(['ReservationExpired']);
  });
});

describe('cycle boundary', () => {
  it('releases open holds at a reset (cycle_reset), shows them in the closing figures, counts nothing twice', () => {
    const held = history(open(), consume('c1', 10), reserve('h1', 30, { expiresInSeconds: 86_400 }), reserve('h2', 5, { creditType: 'mobile' }));
    const events = given(...held)
      .when(reset('2026-12', later(60)))
      .thenEvents();
    expect(events.map((event) => event.type)).toEqual(['ReservationReleased', 'ReservationReleased', 'CycleReset']);
    expect(ofType<ReservationReleased>(events, 'ReservationReleased').map((event) => event.data.reason)).toEqual(['cycle_reset', 'cycle_reset']);
    const closing = (events[2] as CycleReset).data.closing.find((figures) => figures.creditType === 'email');
    expect(closing).toMatchObject({ used: 10, remaining: 90, reservedAtReset: 30, expiredAtReset: 90 });
    const state = stateOf([...held, ...events]);
    expect(state.holds.open).toEqual([]);
    given(...held, ...events)
      .when(capture('h1', 'c2', 1, later(120)))
      .thenRefused(DomainErrorCode.ReservationNotOpen);
  });

  it('expires the holds due by the boundary and releases the others when a decision crosses it', () => {
    const held = history(
      open(),
      reserve('h1', 30, { expiresInSeconds: 43_200 }, '2026-11-30T12:00:00.000Z'),
      reserve('h2', 5, { expiresInSeconds: 86_400 }, '2026-11-30T12:00:00.000Z'),
    );
    const events = given(...held)
      .when(consume('c1', 1, {}, '2026-12-01T06:00:00.000Z'))
      .thenEvents();
    expect(events.map((event) => event.type)).toEqual(['ReservationExpired', 'ReservationReleased', 'CycleReset', 'CreditConsumed']);
    expect((events[1] as ReservationReleased).occurredAt).toBe('2026-12-01T00:00:00.000Z');
    given(...held, ...events)
      .when(capture('h2', 'c2', 1, '2026-12-01T06:00:00.000Z'))
      .thenRefused(DomainErrorCode.ReservationNotOpen);
  });

  it('answers RESERVATION_NOT_OPEN for a capture that crosses the boundary, and writes nothing', () => {
    const held = history(open(), reserve('h2', 5, { expiresInSeconds: 86_400 }, '2026-11-30T12:00:00.000Z'));
    const refusal = given(...held)
      .when(capture('h2', 'c2', 1, '2026-12-01T06:00:00.000Z'))
      .thenRefused(DomainErrorCode.ReservationNotOpen);
    expect(refusal.details).toMatchObject({ reason: 'cycle_reset' });
  });
});

describe('ExpireReservations', () => {
  it('refuses an account that does not exist', () => {
    given().when(sweep(T0)).thenRefused(DomainErrorCode.AccountNotFound);
  });

  it('expires several due holds soonest first', () => {
    const held = history(open(), reserve('late', 1, { expiresInSeconds: 120 }), reserve('soon', 1, { expiresInSeconds: 60 }));
    const events = given(...held)
      .when(sweep(later(600)))
      .thenEvents();
    expect(ofType<ReservationExpired>(events, 'ReservationExpired').map((event) => event.data.reservationId)).toEqual(['soon', 'late']);
    expect(stateOf([...held, ...events]).holds).toEqual({ open: [], reserved: { email: 0 }, nextExpiry: null });
  });
});
