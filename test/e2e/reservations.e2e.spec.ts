import { CyclesJob } from '@credit-ledger/ledger';
import { consumption, LedgerHarness, PLAN } from '../support/ledger-harness';

const RATES = [{ feature: 'enrichment', action: 'waterfall', creditType: 'email', credits: 2 }];

function hold(reservationId: string, extra: Record<string, unknown> = {}) {
  return { reservationId, userId: 'ana', creditType: 'email', feature: 'enrichment', action: 'waterfall', credits: 10, ...extra };
}

describe('reservations over HTTP', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await LedgerHarness.start();
    await h
      .as()
      .post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: { ...PLAN, rates: RATES } })
      .expect(201);
  });
  afterAll(() => h.stop());

  const reserve = (body: unknown, accountId = 'acme', key?: string) => h.as(key).post(`/v1/accounts/${accountId}/reservations`, body);
  const capture = (id: string, body: unknown) => h.as().post(`/v1/accounts/acme/reservations/${id}/capture`, body);
  const release = (id: string, body: unknown = {}) => h.as().post(`/v1/accounts/acme/reservations/${id}/release`, body);
  const email = async () =>
    (await h.as().get('/v1/accounts/acme/balances').expect(200)).body.balances.find((b: { creditType: string }) => b.creditType === 'email');

  it('holds credits (201), answers a retry the same (200), shows reserved and available in balances, and prices by the rate card', async () => {
    const first = await reserve(hold('r1')).expect(201);
    expect(first.body).toMatchObject({
      reservationId: 'r1',
      status: 'open',
      creditType: 'email',
      credits: 10,
      expiresAt: '2026-11-10T12:15:00.000Z',
      balance: { creditType: 'email', remaining: 100, reserved: 10, available: 90 },
    });
    expect((await reserve(hold('r1')).expect(200)).body).toEqual(first.body);
    expect((await reserve(hold('r1', { credits: 11 })).expect(409)).body.error).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await email()).toMatchObject({ remaining: 100, reserved: 10, available: 90 });
    const priced = await reserve({ reservationId: 'r2', userId: 'ana', feature: 'enrichment', action: 'waterfall', units: 3 }).expect(201);
    expect(priced.body).toMatchObject({ credits: 6, pricedBy: 'rate_card', rate: { credits: 2 } });
    await release('r2').expect(200);
  });

  it('refuses a reservation that does not fit with the consumption codes, and consumptions and checks count holds', async () => {
    const refused = await reserve(hold('r3', { credits: 91 })).expect(409);
    expect(refused.body).toMatchObject({ error: 'INSUFFICIENT_CREDITS', details: { remaining: 100, reserved: 10, available: 90 } });
    await h
      .as()
      .post('/v1/accounts/acme/consumptions', consumption('c-over', { credits: 91, creditType: 'email' }))
      .expect(409);
    const check = await h.as().post('/v1/accounts/acme/check', { userId: 'ana', feature: 'f', action: 'a', creditType: 'email', credits: 91 }).expect(200);
    expect(check.body).toMatchObject({ allowed: false, reason: 'INSUFFICIENT_CREDITS', reserved: 10, available: 90 });
    expect((await capture('r3', { consumptionId: 'c-r3' }).expect(404)).body.error).toBe('RESERVATION_NOT_FOUND');
  });

  it('captures what it cost (201) with the rest released; a retry answers the first outcome; other captures are refused', async () => {
    const captured = await capture('r1', { consumptionId: 'c-r1', credits: 4, dataRequested: 'email' }).expect(201);
    expect(captured.body).toMatchObject({
      status: 'captured',
      consumptionId: 'c-r1',
      captured: 4,
      released: 6,
      consumption: { consumptionId: 'c-r1', creditsCharged: 4, balance: { remaining: 96 } },
    });
    expect((await capture('r1', { consumptionId: 'c-r1', credits: 4, dataRequested: 'email' }).expect(200)).body).toEqual(captured.body);
    expect((await capture('r1', { consumptionId: 'c-other' }).expect(409)).body.error).toBe('RESERVATION_NOT_OPEN');
    expect((await release('r1').expect(409)).body.error).toBe('RESERVATION_NOT_OPEN');
    expect(await email()).toMatchObject({ used: 4, remaining: 96, reserved: 0, available: 96 });
    await reserve(hold('r4', { credits: 5 })).expect(201);
    expect((await capture('r4', { consumptionId: 'c-r4', credits: 6 }).expect(409)).body.error).toBe('CAPTURE_EXCEEDS_RESERVATION');
    const free = await capture('r4', { consumptionId: 'c-r4', credits: 0 }).expect(201);
    expect(free.body).toMatchObject({ captured: 0, released: 5, consumption: { creditsCharged: 0 } });
  });

  it('releases idempotently (200 twice), then a capture is RESERVATION_NOT_OPEN', async () => {
    await reserve(hold('r5')).expect(201);
    const released = await release('r5', { reason: 'provider down' }).expect(200);
    expect(released.body).toMatchObject({ status: 'released', reason: 'provider down', released: 10, captured: 0 });
    expect((await release('r5').expect(200)).body.status).toBe('released');
    expect((await capture('r5', { consumptionId: 'c-r5' }).expect(409)).body.error).toBe('RESERVATION_NOT_OPEN');
  });

  it('expires: holds nothing past expiresAt, RESERVATION_EXPIRED on capture, and the sweeper writes ReservationExpired', async () => {
    await reserve(hold('r6', { expiresInSeconds: 60 })).expect(201);
    expect(await email()).toMatchObject({ reserved: 10 });
    h.clock.advance(61_000);
    expect(await email()).toMatchObject({ reserved: 0 });
    expect((await h.as().get('/v1/accounts/acme/reservations/r6').expect(200)).body.status).toBe('expired');
    expect((await capture('r6', { consumptionId: 'c-r6' }).expect(409)).body.error).toBe('RESERVATION_EXPIRED');
    const summary = await h.app.get(CyclesJob).run();
    expect(summary).toMatchObject({ reservationsExpired: 1, failed: 0 });
    const events = (await h.as().get('/v1/accounts/acme/events?limit=1000').expect(200)).body.items;
    expect(events.filter((e: { type: string }) => e.type === 'ReservationExpired')).toHaveLength(1);
    expect((await h.app.get(CyclesJob).run()).reservationsExpired).toBe(0);
  });

  it('lists by status and member; a member key sees its own only', async () => {
    await reserve(hold('r7', { userId: 'ben' })).expect(201);
    const open = await h.as().get('/v1/accounts/acme/reservations?status=open').expect(200);
    expect(open.body.items.map((r: { reservationId: string }) => r.reservationId)).toEqual(['r7']);
    const paged = await h.as().get('/v1/accounts/acme/reservations?limit=2').expect(200);
    expect(paged.body.items).toHaveLength(2);
    const next = await h.as().get(`/v1/accounts/acme/reservations?limit=2&cursor=${paged.body.nextCursor}`).expect(200);
    expect(next.body.items[0].reservationId).not.toBe(paged.body.items[1].reservationId);
    await h.as().get('/v1/accounts/acme/reservations?cursor=%21%21').expect(400);
    await h.as().get('/v1/accounts/acme/reservations?status=pending').expect(400);
    const ana = await h.createKey('acme', 'member', 'ana');
    const mine = await h.as(ana).get('/v1/accounts/acme/reservations').expect(200);
    expect(mine.body.items.every((r: { userId: string }) => r.userId === 'ana')).toBe(true);
    await h.as(ana).get('/v1/accounts/acme/reservations?userId=ben').expect(403);
    await h.as(ana).get('/v1/accounts/acme/reservations/r7').expect(404);
    await h.as(ana).get('/v1/accounts/acme/reservations/r1').expect(200);
    await reserve(hold('r8'), 'acme', ana).expect(403);
  });

  it('shows the captured consumption as the charge row with its reservation id; holds only with includeHolds=true', async () => {
    const plain = (await h.as().get('/v1/accounts/acme/history?limit=500').expect(200)).body.items;
    expect(plain.find((row: { consumptionId: string }) => row.consumptionId === 'c-r1')).toMatchObject({
      kind: 'consumption',
      credits: 4,
      reservationId: 'r1',
    });
    expect(plain.some((row: { kind: string }) => row.kind.startsWith('hold'))).toBe(false);
    const all = (await h.as().get('/v1/accounts/acme/history?limit=500&includeHolds=true').expect(200)).body.items;
    const kinds = new Set(all.map((row: { kind: string }) => row.kind));
    expect([...kinds]).toEqual(expect.arrayContaining(['hold', 'hold_release', 'hold_expiry']));
  });

  it('validates bodies and paths (400 with the field)', async () => {
    const cases: [unknown, string][] = [
      [hold('x1', { expiresInSeconds: 0 }), 'expiresInSeconds'],
      [hold('x1', { expiresInSeconds: 86_401 }), 'expiresInSeconds'],
      [hold('x1', { credits: 0 }), 'credits'],
      [{ ...hold('x1'), reservationId: 'bad id' }, 'reservationId'],
    ];
    for (const [body, field] of cases) {
      const res = await reserve(body).expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect((await capture('r7', { consumptionId: 'c', credits: -1 }).expect(400)).body.details[0].field).toBe('credits');
    expect((await capture('bad%20id', { consumptionId: 'c' }).expect(400)).body.details[0].field).toBe('reservationId');
    await reserve(hold('x2'), 'nobody').expect(404);
  });

  it('releases open holds at a reset (cycle_reset), and the closing figures show what was held', async () => {
    await reserve(hold('r9', { expiresInSeconds: 86_400 })).expect(201);
    const reset = await h.as().post('/v1/accounts/acme/cycles', { cycleId: 'next' }).expect(201);
    expect(reset.body.closing.find((c: { creditType: string }) => c.creditType === 'email')).toMatchObject({ reservedAtReset: 20 });
    const r9 = await h.as().get('/v1/accounts/acme/reservations/r9').expect(200);
    expect(r9.body).toMatchObject({ status: 'released', reason: 'cycle_reset' });
    expect((await capture('r9', { consumptionId: 'c-r9' }).expect(409)).body.error).toBe('RESERVATION_NOT_OPEN');
  });

  it('exactly 100 of 200 concurrent 1-credit reservations hold on an account with 100; racing consumptions never overdraw', async () => {
    await h.as().post('/v1/accounts', { accountId: 'race', name: 'Race', plan: PLAN }).expect(201);
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => reserve(hold(`race-${i}`, { credits: 1 }), 'race')));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(100);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.error === 'INSUFFICIENT_CREDITS')).toBe(true);
    const balances = (await h.as().get('/v1/accounts/race/balances').expect(200)).body.balances.find((b: { creditType: string }) => b.creditType === 'email');
    expect(balances).toMatchObject({ remaining: 100, reserved: 100, available: 0 });
    // Release half, then race reservations against consumptions for the 50 freed.
    await Promise.all(Array.from({ length: 50 }, (_, i) => h.as().post(`/v1/accounts/race/reservations/race-${i}/release`, {})));
    const mixed = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        i % 2 === 0
          ? reserve(hold(`mix-${i}`, { credits: 1 }), 'race')
          : h.as().post('/v1/accounts/race/consumptions', consumption(`mix-c-${i}`, { creditType: 'email', credits: 1 })),
      ),
    );
    expect(mixed.filter((a) => a.status === 201)).toHaveLength(50);
    const after = (await h.as().get('/v1/accounts/race/balances').expect(200)).body.balances.find((b: { creditType: string }) => b.creditType === 'email');
    expect(after.available).toBe(0);
    expect(after.remaining - after.reserved).toBeGreaterThanOrEqual(0);
  });
});

describe('the sweeper on PostgreSQL (due index in the shared-state database), under a controllable clock', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await LedgerHarness.start({ store: 'postgres' });
    await h.as().post('/v1/accounts', { accountId: 'pg', name: 'Pg', plan: PLAN }).expect(201);
  });
  afterAll(() => h.stop());

  it('brings the account forward to its reservation expiry, writes ReservationExpired once, then nothing is due', async () => {
    const job = h.app.get(CyclesJob);
    expect((await job.run()).due).toBe(0);
    await h
      .as()
      .post('/v1/accounts/pg/reservations', hold('p1', { expiresInSeconds: 120 }))
      .expect(201);
    await h
      .as()
      .post('/v1/accounts/pg/reservations', hold('p2', { expiresInSeconds: 600 }))
      .expect(201);
    expect(await job.run()).toMatchObject({ due: 0, reservationsExpired: 0 });
    h.clock.advance(121_000);
    expect(await job.run()).toMatchObject({ due: 1, reservationsExpired: 1, failed: 0 });
    // The account is due again at the next expiry, not before.
    expect(await job.run()).toMatchObject({ due: 0, reservationsExpired: 0 });
    h.clock.advance(480_000);
    expect(await job.run()).toMatchObject({ due: 1, reservationsExpired: 1 });
    const statuses = (await h.as().get('/v1/accounts/pg/reservations').expect(200)).body.items.map((r: { status: string }) => r.status);
    expect(statuses).toEqual(['expired', 'expired']);
  });
});
