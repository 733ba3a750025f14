import { WEBHOOK_DISPATCHER, WebhookDispatcher, WebhookDispatcherThread, WebhookDispatching, WebhookStore } from '@credit-ledger/webhooks';
import { consumption, LedgerHarness, PLAN } from '../support/ledger-harness';
import { eventually, WebhookReceiver } from '../support/webhook-receiver';

const DAY = 86_400_000;
const ALL_TYPES = [
  'credits.threshold_crossed',
  'credits.depleted',
  'credits.depletion_forecast',
  'cycle.reset',
  'grant.created',
  'grant.expiring',
  'grant.expired',
  'plan.changed',
];

describe('webhooks (real HTTP receivers on loopback, embedded store, controllable clock)', () => {
  let h: LedgerHarness;
  let receiver: WebhookReceiver;
  let dispatcher: WebhookDispatching;

  beforeEach(async () => {
    h = await LedgerHarness.start({ webhooks: { allowHttp: true, allowPrivate: true } });
    dispatcher = h.app.get<WebhookDispatching>(WEBHOOK_DISPATCHER);
    expect(dispatcher).toBeInstanceOf(WebhookDispatcherThread); // the server's default with the embedded store (the clock shared with the thread)
    await eventually(() => expect(dispatcher.isLeading()).toBe(true));
    receiver = await WebhookReceiver.start();
    await h.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
  });
  afterEach(async () => {
    await h.stop();
    await receiver.stop();
  });

  const register = async (eventTypes: string[] = ALL_TYPES, url = receiver.url, accountId = 'acme') =>
    (await h.as().post(`/v1/accounts/${accountId}/webhooks`, { url, eventTypes, description: 'test receiver' }).expect(201)).body;
  const consume = (id: string, credits: number, creditType = 'email') =>
    h.as().post('/v1/accounts/acme/consumptions', consumption(id, { credits, creditType })).expect(201);
  /** Moves the ledger's clock and lets the dispatcher see it at once. */
  const advance = (ms: number) => {
    h.clock.advance(ms);
    dispatcher.wake();
  };

  it('registers, lists, changes and deletes endpoints; the secret is shown once; admin role only', async () => {
    const created = await register(['cycle.reset']);
    expect(created).toMatchObject({ webhookId: expect.stringMatching(/^wh_/), secret: expect.stringMatching(/^whsec_/), accountId: 'acme', enabled: true });
    const one = (await h.as().get(`/v1/accounts/acme/webhooks/${created.webhookId}`).expect(200)).body;
    expect(one.secret).toBeUndefined();
    expect((await h.as().get('/v1/accounts/acme/webhooks').expect(200)).body.items).toHaveLength(1);
    const patched = (
      await h
        .as()
        .patch(`/v1/accounts/acme/webhooks/${created.webhookId}`, { eventTypes: ['plan.changed', 'cycle.reset'], enabled: false, description: null })
        .expect(200)
    ).body;
    expect(patched).toMatchObject({ eventTypes: ['cycle.reset', 'plan.changed'], enabled: false, disabledReason: 'by request', description: null });
    const bad = await h
      .as()
      .post('/v1/accounts/acme/webhooks', { url: receiver.url, eventTypes: ['credits.nope'] })
      .expect(400);
    expect(bad.body).toMatchObject({ error: 'VALIDATION_FAILED', details: [{ field: 'eventTypes' }] });

    const admin = await h.createKey('acme', 'admin');
    const analyst = await h.createKey('acme', 'analyst');
    const otherAdmin = await h.createKey('other', 'admin');
    await h.as(admin).get('/v1/accounts/acme/webhooks').expect(200);
    await h.as(analyst).get('/v1/accounts/acme/webhooks').expect(403);
    await h.as(otherAdmin).get('/v1/accounts/acme/webhooks').expect(403);
    await h
      .as(admin)
      .post('/v1/webhooks', { url: receiver.url, eventTypes: ['cycle.reset'] })
      .expect(403);
    await h.as().get('/v1/accounts/nobody/webhooks').expect(404);

    await h.as().delete(`/v1/accounts/acme/webhooks/${created.webhookId}`).expect(200);
    expect((await h.as().get(`/v1/accounts/acme/webhooks/${created.webhookId}`).expect(404)).body.error).toBe('WEBHOOK_NOT_FOUND');
  });

  it('signs with Standard Webhooks (verified by the standardwebhooks library); every type fires by its rule, absolute thresholds included', async () => {
    const { secret } = await register();
    await h
      .as()
      .put('/v1/accounts/acme/thresholds', {
        creditTypes: { email: [{ kind: 'percent_used', value: 50 }], mobile: [{ kind: 'remaining', value: 3 }] },
      })
      .expect(201);
    await consume('c1', 40);
    await consume('c2', 15); // 55% of email: the percent threshold
    await consume('m1', 8, 'mobile'); // 2 left of mobile: the absolute threshold
    await consume('m2', 7, 'mobile'); // -5 = the overdraft limit: depleted
    await h
      .as()
      .post('/v1/accounts/acme/grants', { grantId: 'promo', creditType: 'export', credits: 30, reason: 'promo', expiresAt: '2026-11-25T00:00:00.000Z' })
      .expect(201);
    await h
      .as()
      .put('/v1/accounts/acme/plan', { planId: 'pro', creditTypes: { email: { allocation: 200 }, mobile: { allocation: 10 }, export: { allocation: 50 } } })
      .expect(201);

    await eventually(() => expect(receiver.ofType('plan.changed')).toHaveLength(1));
    const thresholds = receiver.ofType('credits.threshold_crossed').map((r) => r.json.data);
    expect(thresholds).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ creditType: 'email', threshold: { kind: 'percent_used', value: 50 }, percentUsed: 55 }),
        expect.objectContaining({ creditType: 'mobile', threshold: { kind: 'remaining', value: 3 } }),
      ]),
    );
    expect(receiver.ofType('credits.depleted').map((r) => r.json.data)).toEqual([
      expect.objectContaining({ creditType: 'mobile', available: 0, overdraft: { policy: 'allow', limit: 5 } }),
    ]);
    // The pace of the day (the cycle is young: one day of burn) puts mobile's depletion inside 3 days, once per cycle.
    // At the day's pace email (55 used, 45 left) and mobile (15 used, overdrawn to its limit next) run out within 3 days.
    expect(receiver.ofType('credits.depletion_forecast').map((r) => r.json.data.creditType)).toEqual(['email', 'mobile']);
    expect(receiver.ofType('grant.created')[0].json).toMatchObject({
      accountId: 'acme',
      data: { grantId: 'promo', credits: 30, expiresAt: '2026-11-25T00:00:00.000Z' },
    });
    for (const request of receiver.received) {
      expect(WebhookReceiver.verify(secret, request)).toEqual(request.json);
      expect(request.json).toMatchObject({
        id: request.headers['webhook-id'],
        accountId: 'acme',
        position: expect.any(Number),
        occurredAt: expect.any(String),
      });
    }
    expect(() => WebhookReceiver.verify(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, receiver.received[0])).toThrow();

    // grant.expiring: 7 days before the expiry (the clock is at 2026-11-10T12:00Z; the grant expires 2026-11-25).
    advance(7 * DAY);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    dispatcher.wake();
    expect(receiver.ofType('grant.expiring')).toHaveLength(0);
    advance(1 * DAY);
    await eventually(() => expect(receiver.ofType('grant.expiring')).toHaveLength(1), 5_000);
    expect(receiver.ofType('grant.expiring')[0].json.data).toMatchObject({ grantId: 'promo', remainingCredits: 30, noticeDays: 7 });

    // The grant lapses with the next movement after its expiry; then the cycle resets with its closing figures.
    h.clock.set('2026-11-26T00:00:00.000Z');
    await consume('x1', 1, 'export');
    await eventually(() => expect(receiver.ofType('grant.expired')).toHaveLength(1));
    expect(receiver.ofType('grant.expired')[0].json.data).toMatchObject({ grantId: 'promo', credits: 30 });
    await h.as().post('/v1/accounts/acme/cycles', { cycleId: 'dec' }).expect(201);
    await eventually(() => expect(receiver.ofType('cycle.reset')).toHaveLength(1));
    const reset = receiver.ofType('cycle.reset')[0].json.data;
    expect(reset).toMatchObject({ cycleId: 'dec', trigger: 'manual' });
    const cycles = (await h.as().get('/v1/accounts/acme/cycles').expect(200)).body;
    expect(reset.closing).toEqual(cycles.items[1].closing); // the closing figures, as the cycles query tells them
    expect(reset.closing.find((c: { creditType: string }) => c.creditType === 'email')).toMatchObject({ used: 55 });
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(receiver.received.length);
    expect(receiver.ofType('credits.depletion_forecast')).toHaveLength(2); // at most once per credit type per cycle
  });

  it('credits.depletion_forecast with no movement: at the UTC midnight a quiet day leaves the burn window', async () => {
    h.clock.set('2026-12-01T00:00:00.000Z');
    const plan = { creditTypes: { email: { allocation: 92 } }, cycle: { period: 'month', anchorDay: 1, timezone: 'UTC' } };
    await h.as().post('/v1/accounts', { accountId: 'quiet', name: 'Quiet', plan }).expect(201);
    const { secret } = await register(['credits.depletion_forecast'], receiver.url, 'quiet');
    h.clock.set('2026-12-11T20:00:00.000Z');
    // 63 used: 9.22 a day over the 6.83 days since 12-05, 29 left last 3.15 days: beyond the 3-day horizon.
    await h
      .as()
      .post('/v1/accounts/quiet/consumptions', consumption('q1', { credits: 63 }))
      .expect(201);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(receiver.ofType('credits.depletion_forecast')).toEqual([]);
    // Midnight: 12-05, a quiet day, leaves the window; the same 63 over 6 days is 10.5 a day, 2.76 days left.
    h.clock.set('2026-12-12T00:00:01.000Z');
    dispatcher.wake();
    await eventually(() => expect(receiver.ofType('credits.depletion_forecast')).toHaveLength(1), 15_000);
    const [delivered] = receiver.ofType('credits.depletion_forecast');
    expect(delivered.json).toMatchObject({ accountId: 'quiet', data: { creditType: 'email', dailyBurn: 10.5, remaining: 29, horizonDays: 3 } });
    WebhookReceiver.verify(secret, delivered);
  });

  /** The webhook metrics of /metrics: attempts by outcome, and the backlog. */
  async function webhookMetrics() {
    const text = (await h.http().get('/metrics').expect(200)).text;
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
    return {
      succeeded: value(/^ledger_webhook_delivery_attempts_total\{outcome="succeeded"\} (\d+)$/m),
      failed: value(/^ledger_webhook_delivery_attempts_total\{outcome="failed"\} (\d+)$/m),
      backlog: value(/^ledger_webhook_backlog_deliveries (\d+)$/m),
      lag: value(/^ledger_webhook_dispatcher_lag_events (\d+)$/m),
    };
  }

  it('500 three times, then 200: the delivery is made once more, and the next one of its lane waits for it', async () => {
    const metricsBefore = await webhookMetrics();
    await register(['grant.created']);
    receiver.reply = (request, attempt) => ({ status: request.json.data.grantId === 'g1' && attempt <= 3 ? 500 : 200 });
    for (const grantId of ['g1', 'g2']) {
      await h.as().post('/v1/accounts/acme/grants', { grantId, creditType: 'email', credits: 5, reason: 'r' }).expect(201);
    }
    await eventually(() => expect(receiver.received).toHaveLength(1));
    for (let attempt = 2; attempt <= 4; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.received.filter((r) => r.json.data.grantId === 'g2')).toHaveLength(0);
      advance(5_000); // the first retry comes within 5 s; later ones sooner than 30 s, 2 min
      if (attempt > 2) advance(attempt === 3 ? 30_000 : 120_000);
      await eventually(() => expect(receiver.received.length).toBeGreaterThanOrEqual(attempt));
    }
    await eventually(() => expect(receiver.received.map((r) => r.json.data.grantId)).toEqual(['g1', 'g1', 'g1', 'g1', 'g2']));
    const webhookId = (await h.as().get('/v1/accounts/acme/webhooks').expect(200)).body.items[0].webhookId;
    const log = (await h.as().get(`/v1/accounts/acme/webhooks/${webhookId}/deliveries?status=succeeded`).expect(200)).body.items;
    const g1 = log.find((d: { eventId: string }) => d.eventId === receiver.received[0].headers['webhook-id']);
    expect(g1).toMatchObject({ status: 'succeeded', attemptCount: 4, lastStatusCode: 200, nextAttemptAt: null });
    expect(g1.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 500, 200]);
    expect(new Set(receiver.received.slice(0, 4).map((r) => r.headers['webhook-id'])).size).toBe(1);
    const endpoint = (await h.as().get(`/v1/accounts/acme/webhooks/${webhookId}`).expect(200)).body;
    expect(endpoint.failingSince).toBeNull();
    // /metrics counts exactly these attempts, and nothing is left in the backlog.
    await eventually(async () => {
      const metrics = await webhookMetrics();
      expect({ succeeded: metrics.succeeded - metricsBefore.succeeded, failed: metrics.failed - metricsBefore.failed, backlog: metrics.backlog }).toEqual({
        succeeded: 2,
        failed: 3,
        backlog: 0,
      });
      expect(metrics.lag).toBe(0);
    });
  });

  it('a slow receiver does not delay another endpoint', async () => {
    const slow = await WebhookReceiver.start();
    try {
      slow.reply = () => ({ status: 200, delayMs: 4_000 });
      await register(['grant.created'], slow.url);
      await register(['grant.created']);
      for (const grantId of ['s1', 's2', 's3']) {
        await h.as().post('/v1/accounts/acme/grants', { grantId, creditType: 'email', credits: 1, reason: 'r' }).expect(201);
      }
      await eventually(() => expect(receiver.received).toHaveLength(3));
      // The fast endpoint got all three while the slow one has not answered its first.
      expect(slow.answered).toBe(0);
      expect(slow.received).toHaveLength(1);
    } finally {
      await slow.stop();
    }
  });

  it('the dispatcher thread, ended abruptly, is started again, takes its lease back and delivers on; its counters never go back', async () => {
    const thread = dispatcher as WebhookDispatcherThread;
    await register(['grant.created']);
    await h.as().post('/v1/accounts/acme/grants', { grantId: 'before', creditType: 'email', credits: 1, reason: 'r' }).expect(201);
    await eventually(() => expect(receiver.received).toHaveLength(1));
    await eventually(() => expect(thread.stats().succeeded).toBe(1));
    await thread.thread!.terminate();
    await eventually(() => expect(thread.isLeading()).toBe(false));
    // Committed while no thread runs: derived and delivered by the next one, from the checkpoint.
    await h.as().post('/v1/accounts/acme/grants', { grantId: 'between', creditType: 'email', credits: 1, reason: 'r' }).expect(201);
    await eventually(() => expect(thread.isLeading()).toBe(true), 10_000);
    await h.as().post('/v1/accounts/acme/grants', { grantId: 'after', creditType: 'email', credits: 1, reason: 'r' }).expect(201);
    await eventually(() => expect(receiver.received.map((r) => r.json.data.grantId)).toEqual(['before', 'between', 'after']));
    await eventually(() => expect(thread.stats()).toMatchObject({ succeeded: 3, failedAttempts: 0 }));
  });

  it('secret rotation: during the overlap both the old and the new secret verify a delivery', async () => {
    const { webhookId, secret: oldSecret } = await register(['grant.created']);
    const rotated = (await h.as().post(`/v1/accounts/acme/webhooks/${webhookId}/rotate-secret`).expect(200)).body;
    expect(rotated.secret).not.toBe(oldSecret);
    expect(Date.parse(rotated.previousSecretExpiresAt) - h.clock.now().getTime()).toBe(DAY);
    await h.as().post('/v1/accounts/acme/grants', { grantId: 'r1', creditType: 'email', credits: 1, reason: 'r' }).expect(201);
    await eventually(() => expect(receiver.received).toHaveLength(1));
    expect(String(receiver.received[0].headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(WebhookReceiver.verify(oldSecret, receiver.received[0])).toEqual(receiver.received[0].json);
    expect(WebhookReceiver.verify(rotated.secret, receiver.received[0])).toEqual(receiver.received[0].json);
    // After 24 h only the new secret signs.
    h.clock.advance(DAY + 1);
    await h.as().post('/v1/accounts/acme/grants', { grantId: 'r2', creditType: 'email', credits: 1, reason: 'r' }).expect(201);
    await eventually(() => expect(receiver.received).toHaveLength(2));
    expect(() => WebhookReceiver.verify(oldSecret, receiver.received[1])).toThrow();
    expect(WebhookReceiver.verify(rotated.secret, receiver.received[1])).toEqual(receiver.received[1].json);
  });

  it('disabled after 5 days of failures (with an endpoint.disabled notice to the operator), and at once on 410', async () => {
    const operator = await WebhookReceiver.start();
    try {
      await h
        .as()
        .post('/v1/webhooks', { url: operator.url, eventTypes: ['endpoint.disabled'] })
        .expect(201);
      const { webhookId } = await register(['grant.created']);
      receiver.reply = () => ({ status: 503 });
      await h.as().post('/v1/accounts/acme/grants', { grantId: 'f1', creditType: 'email', credits: 1, reason: 'r' }).expect(201);
      await eventually(() => expect(receiver.received).toHaveLength(1));
      // The first delivery is retried for 3 days, then fails; the next one keeps failing: 5 days in all.
      for (let hour = 0; hour < 5 * 24 + 12; hour += 6) {
        if (hour === 84) await h.as().post('/v1/accounts/acme/grants', { grantId: 'f2', creditType: 'email', credits: 1, reason: 'r' }).expect(201);
        advance(6 * 3_600_000);
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      const endpoint = await eventually(async () => {
        const body = (await h.as().get(`/v1/accounts/acme/webhooks/${webhookId}`).expect(200)).body;
        expect(body.enabled).toBe(false);
        return body;
      });
      expect(endpoint.disabledReason).toMatch(/5 days/);
      const failed = (await h.as().get(`/v1/accounts/acme/webhooks/${webhookId}/deliveries?status=failed`).expect(200)).body.items;
      expect(failed.length).toBeGreaterThanOrEqual(1);
      await eventually(() => expect(operator.ofType('endpoint.disabled')).toHaveLength(1));
      expect(operator.ofType('endpoint.disabled')[0].json.data).toMatchObject({ webhookId, reason: expect.stringMatching(/5 days/) });

      const gone = await register(['grant.created']);
      receiver.reply = () => ({ status: 410 });
      await h.as().post('/v1/accounts/acme/grants', { grantId: 'f3', creditType: 'email', credits: 1, reason: 'r' }).expect(201);
      await eventually(async () => expect((await h.as().get(`/v1/accounts/acme/webhooks/${gone.webhookId}`).expect(200)).body.enabled).toBe(false));
      // A failed delivery is retried on request once the endpoint is enabled again.
      receiver.reply = () => ({ status: 200 });
      await h.as().patch(`/v1/accounts/acme/webhooks/${gone.webhookId}`, { enabled: true }).expect(200);
      const [dead] = (await h.as().get(`/v1/accounts/acme/webhooks/${gone.webhookId}/deliveries?status=failed`).expect(200)).body.items;
      expect((await h.as().post(`/v1/accounts/acme/webhooks/${gone.webhookId}/deliveries/${dead.deliveryId}/retry`).expect(202)).body.status).toBe('pending');
      await eventually(async () =>
        expect((await h.as().get(`/v1/accounts/acme/webhooks/${gone.webhookId}/deliveries?status=succeeded`).expect(200)).body.items).toHaveLength(1),
      );
      await h.as().post(`/v1/accounts/acme/webhooks/${gone.webhookId}/deliveries/${dead.deliveryId}/retry`).expect(409);
    } finally {
      await operator.stop();
    }
  });

  it('replays from a position with the same webhook-ids', async () => {
    const { webhookId } = await register(['grant.created']);
    const positions: number[] = [];
    for (const grantId of ['p1', 'p2', 'p3']) {
      positions.push((await h.as().post('/v1/accounts/acme/grants', { grantId, creditType: 'email', credits: 1, reason: 'r' }).expect(201)).body.position);
    }
    await eventually(() => expect(receiver.received).toHaveLength(3));
    const replay = (await h.as().post(`/v1/accounts/acme/webhooks/${webhookId}/replay?fromPosition=${positions[1]}`).expect(202)).body;
    expect(replay).toMatchObject({ replayed: 2, nextPosition: null });
    await eventually(() => expect(receiver.received).toHaveLength(5));
    expect(receiver.received.slice(3).map((r) => r.headers['webhook-id'])).toEqual(receiver.received.slice(1, 3).map((r) => r.headers['webhook-id']));
    const log = (await h.as().get(`/v1/accounts/acme/webhooks/${webhookId}/deliveries?limit=2`).expect(200)).body;
    expect(log.items.map((d: { origin: string }) => d.origin)).toEqual(['replay', 'replay']);
    expect(log.nextCursor).toEqual(expect.any(Number));
    await h.as().post(`/v1/accounts/acme/webhooks/${webhookId}/replay?fromPosition=-1`).expect(400);
  });
});

describe('webhooks: target safety (private targets not allowed)', () => {
  let h: LedgerHarness;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    h = await LedgerHarness.start({ webhooks: { allowHttp: true, allowPrivate: false } });
    receiver = await WebhookReceiver.start();
    await h.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
  });
  afterAll(async () => {
    await h.stop();
    await receiver.stop();
  });

  it.each([
    ['http://127.0.0.1:8080/x', /127\.0\.0\.1/],
    ['http://localhost:8080/x', /localhost resolves to (127\.0\.0\.1|::1)/],
    ['http://169.254.169.254/latest/meta-data', /169\.254\.169\.254/],
    ['http://10.1.2.3/x', /10\.1\.2\.3/],
    ['http://192.168.0.10/x', /192\.168/],
    ['http://[::1]:8080/x', /::1/],
    ['http://[::ffff:127.0.0.1]/x', /ffff/],
    ['https://user:pw@example.com/x', /credentials/],
    ['ftp://example.com/x', /scheme/],
  ])('refuses %s with 400 WEBHOOK_URL_NOT_ALLOWED', async (url, reason) => {
    const res = await h
      .as()
      .post('/v1/accounts/acme/webhooks', { url, eventTypes: ['grant.created'] })
      .expect(400);
    expect(res.body.error).toBe('WEBHOOK_URL_NOT_ALLOWED');
    expect(res.body.details[0]).toEqual({ field: 'url', reason: expect.stringMatching(reason) });
  });

  it('resolves again at each delivery: a name that now resolves to 127.0.0.1 is refused and nothing is sent', async () => {
    // Registered while it pointed elsewhere (DNS rebinding): written straight to the store, as the check at registration passed then.
    const store = h.app.get(WebhookStore);
    const url = receiver.url.replace('127.0.0.1', 'localhost');
    await store.createEndpoint({
      id: 'wh_rebound',
      accountId: 'acme',
      url,
      description: null,
      eventTypes: ['grant.created'],
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
      previousSecret: null,
      previousSecretUntil: null,
      createdAt: h.clock.now().getTime(),
      updatedAt: h.clock.now().getTime(),
      createdPosition: 0,
      failingSince: null,
    });
    await h.as().post('/v1/accounts/acme/grants', { grantId: 'x1', creditType: 'email', credits: 1, reason: 'r' }).expect(201);
    const [delivery] = await eventually(async () => {
      const items = (await h.as().get('/v1/accounts/acme/webhooks/wh_rebound/deliveries').expect(200)).body.items;
      expect(items[0]?.attemptCount).toBe(1);
      return items;
    });
    expect(delivery.attempts[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/refused: localhost resolves to/) });
    expect(delivery.status).toBe('pending');
    expect(receiver.received).toHaveLength(0);
  });

  it('refuses http:// unless LEDGER_WEBHOOKS_ALLOW_HTTP=true', async () => {
    const strict = await LedgerHarness.start({ webhooks: { allowHttp: false, allowPrivate: true } });
    try {
      await strict.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
      const res = await strict
        .as()
        .post('/v1/accounts/acme/webhooks', { url: receiver.url, eventTypes: ['grant.created'] })
        .expect(400);
      expect(res.body).toMatchObject({ error: 'WEBHOOK_URL_NOT_ALLOWED', details: [{ field: 'url', reason: expect.stringMatching(/https/) }] });
    } finally {
      await strict.stop();
    }
  });
});

describe('webhooks on PostgreSQL (endpoints, deliveries, checkpoint and lease in the shared database)', () => {
  let h: LedgerHarness;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    h = await LedgerHarness.start({ store: 'postgres', webhooks: { allowHttp: true, allowPrivate: true } });
    receiver = await WebhookReceiver.start();
    await h.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
    // The server's store is PostgreSQL: the dispatcher runs on the event loop.
    expect(h.app.get(WEBHOOK_DISPATCHER)).toBeInstanceOf(WebhookDispatcher);
    // The server's store is PostgreSQL: the dispatcher runs on the event loop.
    expect(h.app.get(WEBHOOK_DISPATCHER)).toBeInstanceOf(WebhookDispatcher);
  });
  afterAll(async () => {
    await h.stop();
    await receiver.stop();
  });

  it('delivers signed, retries in lane order, logs attempts, replays', async () => {
    const { webhookId, secret } = (
      await h
        .as()
        .post('/v1/accounts/acme/webhooks', { url: receiver.url, eventTypes: ['grant.created'] })
        .expect(201)
    ).body;
    receiver.reply = (request, attempt) => ({ status: request.json.data.grantId === 'g1' && attempt === 1 ? 500 : 200 });
    const first = (await h.as().post('/v1/accounts/acme/grants', { grantId: 'g1', creditType: 'email', credits: 1, reason: 'r' }).expect(201)).body;
    await h.as().post('/v1/accounts/acme/grants', { grantId: 'g2', creditType: 'email', credits: 1, reason: 'r' }).expect(201);
    await eventually(() => expect(receiver.received).toHaveLength(1));
    h.clock.advance(5_000);
    h.app.get<WebhookDispatching>(WEBHOOK_DISPATCHER).wake();
    await eventually(() => expect(receiver.received.map((r) => r.json.data.grantId)).toEqual(['g1', 'g1', 'g2']));
    for (const request of receiver.received) expect(WebhookReceiver.verify(secret, request)).toEqual(request.json);
    await eventually(async () => {
      const log = (await h.as().get(`/v1/accounts/acme/webhooks/${webhookId}/deliveries?status=succeeded`).expect(200)).body.items;
      expect(log.map((d: { attemptCount: number }) => d.attemptCount)).toEqual([1, 2]); // newest first: g2 once, g1 twice
    });
    await h.as().post(`/v1/accounts/acme/webhooks/${webhookId}/replay?fromPosition=${first.position}`).expect(202);
    await eventually(() => expect(receiver.received).toHaveLength(5));
  });
});
