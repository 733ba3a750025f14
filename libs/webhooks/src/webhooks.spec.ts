import { Webhook } from 'standardwebhooks';
import { AccountState, evolve, initialState, LedgerEvent, OpenAccountState } from '@credit-ledger/domain';
import { capture, consume, grant, open, planOf, refund, release, reserve, run, setMemberLimits, setThresholds, sweep, T0 } from '@credit-ledger/domain/testing';
import { deriveNotifications, expiringNotification, forecastNotification } from './events/derive';
import { nextAttemptAt } from './delivery/retry-schedule';
import { newSecret, signature, signedHeaders } from './delivery/signing';
import { isBlockedAddress, resolveTarget } from './delivery/url-safety';
import { WEBHOOK_RETRY_DELAYS_MS, WEBHOOK_RETRY_WINDOW_MS } from './limits';
import { loadWebhooksConfig } from './webhooks-config';

describe('signing: node:crypto HMAC agrees with the standardwebhooks library', () => {
  it('the library verifies what we sign, and signs what we sign', () => {
    const secret = newSecret();
    const body = JSON.stringify({ id: 'evt_1_grant', type: 'grant.created', data: { credits: 5, note: 'é ✓' } });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = signedHeaders([secret], 'evt_1_grant', timestamp, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(secret).sign('evt_1_grant', new Date(timestamp * 1000), body)).toBe(signature(secret, 'evt_1_grant', timestamp, body));
  });

  it('two secrets: either verifies; a tampered body does not', () => {
    const [current, previous] = [newSecret(), newSecret()];
    const body = '{"a":1}';
    const headers = signedHeaders([current, previous], 'evt_2_x', Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toEqual({ a: 1 });
    expect(new Webhook(previous).verify(body, headers)).toEqual({ a: 1 });
    expect(() => new Webhook(current).verify('{"a":2}', headers)).toThrow();
  });
});

describe('target safety', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '64:ff9b::a9fe:a9fe',
  ])('%s is refused', (address) => expect(isBlockedAddress(address)).toBe(true));
  it.each(['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is allowed', (address) => expect(isBlockedAddress(address)).toBe(false));

  it('a name resolving to loopback is refused unless private targets are allowed', async () => {
    await expect(resolveTarget('https://localhost/x', { allowHttp: false, allowPrivate: false })).rejects.toThrow(/localhost resolves to/);
    await expect(resolveTarget('https://localhost/x', { allowHttp: false, allowPrivate: true })).resolves.toMatchObject({ address: expect.any(String) });
    await expect(resolveTarget('http://93.184.216.34/x', { allowHttp: false, allowPrivate: false })).rejects.toThrow(/https/);
  });
});

describe('retry schedule', () => {
  it('first retry within 5 s, growing, given up 3 days after the first attempt', () => {
    expect(nextAttemptAt(1, 0, 0, 0.999)).toBeLessThanOrEqual(5_000);
    expect(nextAttemptAt(1, 0, 0, 0)).toBe(2_500);
    const steps = WEBHOOK_RETRY_DELAYS_MS.map((_, index) => nextAttemptAt(index + 1, 0, 0, 1)!);
    for (let index = 1; index < steps.length; index++) expect(steps[index]).toBeGreaterThan(steps[index - 1]);
    let at = 0;
    let attempts = 1;
    for (let next = nextAttemptAt(attempts, 0, at, 0.5); next !== null; next = nextAttemptAt(++attempts, 0, at, 0.5)) at = next;
    expect(at).toBeLessThanOrEqual(WEBHOOK_RETRY_WINDOW_MS);
    expect(at).toBeGreaterThan(WEBHOOK_RETRY_WINDOW_MS - 12 * 3_600_000);
  });
});

describe('deriving notifications from events (pure)', () => {
  function derive(history: LedgerEvent[], event: LedgerEvent, position = 99, recordedAt = T0) {
    let before: AccountState = initialState();
    for (const earlier of history) before = evolve(before, earlier);
    return deriveNotifications({ accountId: 'acme', position, recordedAt, event, before, after: evolve(before, event), forecastHorizonDays: 3 });
  }

  it('reservation.expired: from each ReservationExpired (sweeper or a decision), with what it held and the figures after; captures and releases send nothing', () => {
    const { events } = run([
      open(),
      reserve('h1', 30, { expiresInSeconds: 60 }),
      reserve('h2', 5),
      capture('h2', 'c1', 2),
      reserve('h3', 4),
      release('h3'),
      sweep('2026-11-10T12:05:00.000Z'),
    ]);
    const derived = events.flatMap((event, index) => derive(events.slice(0, index), event, index).notifications.map((n) => n.payload));
    const expired = derived.filter((payload) => payload.type === 'reservation.expired');
    expect(expired).toEqual([
      {
        id: `evt_${events.findIndex((event) => event.type === 'ReservationExpired')}_reservation-expired`,
        type: 'reservation.expired',
        accountId: 'acme',
        position: events.findIndex((event) => event.type === 'ReservationExpired'),
        occurredAt: '2026-11-10T12:01:00.000Z',
        data: {
          reservationId: 'h1',
          userId: 'ana',
          creditType: 'email',
          credits: 30,
          expiresAt: '2026-11-10T12:01:00.000Z',
          cycleId: '2026-11',
          balance: expect.objectContaining({ used: 2, remaining: 98 }),
          reserved: 0,
          available: 98,
        },
      },
    ]);
  });

  it('absolute (remaining) thresholds fire like percent ones, from the domain crossing', () => {
    const { events } = run([open(), setThresholds({ email: [{ kind: 'remaining', value: 10 }] }), consume('c1', 95)]);
    const crossing = events.findIndex((event) => event.type === 'CreditThresholdCrossed');
    const derivation = derive(events.slice(0, crossing), events[crossing]);
    expect(derivation.notifications[0].payload).toMatchObject({
      id: 'evt_99_threshold',
      type: 'credits.threshold_crossed',
      data: { threshold: { kind: 'remaining', value: 10 }, creditType: 'email' },
    });
  });

  it('depletion forecast with no movement: a watch for the next UTC midnight, when a quiet day leaves the burn window', () => {
    // 92 credits from 2026-11-01; 63 used on 11-11. At 20:00 that day the window is 11-05 .. now (6.83 days):
    // 9.22 a day, 29 left last 3.15 days, beyond the 3-day horizon. At midnight the quiet 11-05 leaves the
    // window (6 days): 10.5 a day, 2.76 days: inside, with nothing having moved.
    const { events } = run([open('2026-11-01T00:00:00.000Z', planOf({ email: 92 })), consume('c1', 63, {}, '2026-11-11T20:00:00.000Z')]);
    const consumed = events.findIndex((event) => event.type === 'CreditConsumed');
    const derivation = derive(events.slice(0, consumed), events[consumed], 7, '2026-11-11T20:00:00.000Z');
    expect(derivation.notifications.map((n) => n.payload.type)).not.toContain('credits.depletion_forecast');
    expect(derivation.forecastWatches).toEqual([{ accountId: 'acme', creditType: 'email', position: 7, dueAtMs: Date.parse('2026-11-12T00:00:00.000Z') }]);
    const state = run([open('2026-11-01T00:00:00.000Z', planOf({ email: 92 })), consume('c1', 63, {}, '2026-11-11T20:00:00.000Z')]).state as OpenAccountState;
    const atMidnight = forecastNotification('acme', 7, '2026-11-12T00:00:00.000Z', state, 'email', Date.parse('2026-11-12T00:00:00.000Z'), 3);
    expect(atMidnight?.payload).toMatchObject({
      id: 'evt_7_forecast:email',
      type: 'credits.depletion_forecast',
      data: { creditType: 'email', dailyBurn: 10.5, remaining: 29, projectedDepletionAt: '2026-11-14T18:17:08.000Z' },
    });
    expect(atMidnight?.onceKey).toBe(`forecast\u0000acme\u0000email\u0000${state.cycleId}`);
  });

  it('member.limit_reached: once when a consumption takes a member up to their limit, again only after a refund gives room back', () => {
    const { events } = run([
      open(),
      setMemberLimits('ana', { email: 10 }),
      consume('c1', 6),
      consume('c2', 4),
      consume('c3', 5, { userId: 'bo' }),
      refund('r1', 'c2', 4),
      consume('c4', 4),
    ]);
    const reached = events.flatMap((event, index) =>
      event.type === 'CreditConsumed'
        ? derive(events.slice(0, index), event, index)
            .notifications.filter((n) => n.payload.type === 'member.limit_reached')
            .map((n) => [event.data.consumptionId, n.payload.data])
        : [],
    );
    expect(reached).toEqual([
      ['c2', { userId: 'ana', creditType: 'email', cycleId: expect.any(String), limit: 10, limitSource: 'member', used: 10 }],
      ['c4', { userId: 'ana', creditType: 'email', cycleId: expect.any(String), limit: 10, limitSource: 'member', used: 10 }],
    ]);
  });

  it('depleted: when available reaches 0 (deny) or the overdraft limit (allow)', () => {
    const { events } = run([open(), consume('c1', 100), consume('m1', 15, { creditType: 'mobile' })]);
    const consumed = (id: string) => events.findIndex((event) => event.type === 'CreditConsumed' && event.data.consumptionId === id);
    const types = (index: number) =>
      derive(events.slice(0, index), events[index]).notifications.map((n) => `${n.payload.type}:${String(n.payload.data.creditType)}`);
    expect(types(consumed('c1'))).toContain('credits.depleted:email');
    expect(types(consumed('m1'))).toContain('credits.depleted:mobile');
    const later = run([open(), consume('x1', 60, { creditType: 'export' }), consume('x2', 10, { creditType: 'export' })]).events;
    expect(derive(later.slice(0, 1), later[1]).notifications.map((n) => n.payload.type)).toContain('credits.depleted'); // unlimited overdraft: the included credits ran out
  });

  it('depletion forecast inside the horizon carries a once-key per credit type and cycle; outside it, nothing', () => {
    const { events } = run([open(), consume('c1', 60)]);
    const inside = derive(events.slice(0, 1), events[1]).notifications.find((n) => n.payload.type === 'credits.depletion_forecast');
    expect(inside?.onceKey).toBe('forecast\u0000acme\u0000email\u0000' + (events[0].data as { cycleId: string }).cycleId);
    const slow = run([open(), consume('c1', 2)]).events;
    expect(derive(slow.slice(0, 1), slow[1]).notifications.filter((n) => n.payload.type === 'credits.depletion_forecast')).toEqual([]);
  });

  it('a grant with an expiry starts a timer; grant.expiring carries what is left, nothing when used up', () => {
    const { events, state } = run([open(), grant('promo', 20, { expiresAt: '2026-11-20T00:00:00.000Z', priority: 5 })]);
    const derivation = derive(events.slice(0, 1), events[1], 7);
    expect(derivation.grantTimersAdded).toEqual([
      { accountId: 'acme', grantId: 'promo', creditType: 'email', expiresAt: '2026-11-20T00:00:00.000Z', position: 7 },
    ]);
    const expiring = expiringNotification(derivation.grantTimersAdded[0], state, 7);
    expect(expiring).toMatchObject({
      id: 'evt_7_grant-expiring',
      type: 'grant.expiring',
      occurredAt: '2026-11-13T00:00:00.000Z',
      data: { remainingCredits: 20 },
    });
    const usedUp = run([open(), grant('promo', 20, { expiresAt: '2026-11-20T00:00:00.000Z', priority: 5 }), consume('c1', 20)]).state as OpenAccountState;
    expect(expiringNotification(derivation.grantTimersAdded[0], usedUp, 7)).toBeNull();
  });
});

describe('configuration', () => {
  it('defaults, and every problem named with its variable', () => {
    expect(loadWebhooksConfig({})).toEqual({
      mode: 'inline',
      thread: true,
      allowHttp: false,
      allowPrivate: false,
      forecastHorizonDays: 3,
      grantExpiringDays: 7,
    });
    expect(loadWebhooksConfig({ LEDGER_WEBHOOKS_THREAD: 'false' }).thread).toBe(false);
    expect(loadWebhooksConfig({ LEDGER_WEBHOOKS_THREAD: '' }).thread).toBe(true);
    expect(() =>
      loadWebhooksConfig({
        LEDGER_WEBHOOKS: 'sometimes',
        LEDGER_WEBHOOKS_THREAD: 'no',
        LEDGER_WEBHOOKS_ALLOW_HTTP: 'yes',
        LEDGER_WEBHOOKS_GRANT_EXPIRING_DAYS: '0',
      }),
    ).toThrow(/LEDGER_WEBHOOKS must be[\s\S]*LEDGER_WEBHOOKS_THREAD[\s\S]*LEDGER_WEBHOOKS_ALLOW_HTTP[\s\S]*LEDGER_WEBHOOKS_GRANT_EXPIRING_DAYS/);
  });
});
