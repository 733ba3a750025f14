import { consumption, LedgerHarness, PLAN } from '../support/ledger-harness';

describe('command endpoints (HTTP, embedded store)', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await LedgerHarness.start();
  });
  afterAll(() => h.stop());

  const eventCount = async (accountId: string) => (await h.as().get(`/v1/accounts/${accountId}/events?limit=1000`).expect(200)).body.items.length;
  const open = (accountId: string, plan: unknown = PLAN) => h.as().post('/v1/accounts', { accountId, name: `Account ${accountId}`, plan });

  describe('POST /v1/accounts', () => {
    it('opens an account (201), answers a retry with 200 and the same body, refuses another body (409)', async () => {
      const first = await open('acct_open').expect(201);
      expect(first.body).toMatchObject({
        accountId: 'acct_open',
        cycle: { cycleId: '2026-11', startedAt: '2026-11-01T00:00:00.000Z', endsAt: '2026-12-01T00:00:00.000Z' },
        balances: [
          { creditType: 'email', allocated: 100, rolledIn: 0, granted: 0, used: 0, refunded: 0, expired: 0, remaining: 100 },
          { creditType: 'export', allocated: 50, remaining: 50 },
          { creditType: 'mobile', allocated: 10, remaining: 10 },
        ],
      });
      const again = await open('acct_open').expect(200);
      expect(again.body).toEqual(first.body);
      const other = await open('acct_open', { creditTypes: { email: { allocation: 5 } } }).expect(409);
      expect(other.body.error).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await eventCount('acct_open')).toBe(1);
    });

    it('names the offending field of an invalid plan (400)', async () => {
      const res = await open('acct_bad', { creditTypes: { email: { allocation: 1.5, overdraft: { policy: 'deny', limit: 3 } } } }).expect(400);
      expect(res.body.error).toBe('VALIDATION_FAILED');
      const fields = res.body.details.map((d: { field: string }) => d.field);
      expect(fields).toEqual(expect.arrayContaining(['plan.creditTypes.email.allocation', 'plan.creditTypes.email.overdraft.limit']));
      await open('acct_bad', { creditTypes: {} }).expect(400);
      expect((await open('acct_bad', []).expect(400)).body.details).toEqual([{ field: 'plan', reason: 'plan must be an object' }]);
      await open('acct_bad', { ...PLAN, cycle: [] }).expect(400);
      await open('acct_bad', { creditTypes: { 'Bad-Type': { allocation: 1 } } }).expect(400);
      await open('acct_bad', { ...PLAN, cycle: { period: 'month', anchorDay: 31, timezone: 'UTC' } }).expect(400);
      await h.as().post('/v1/accounts', { accountId: 'has space', name: 'x', plan: PLAN }).expect(400);
      await h.as().get('/v1/accounts/acct_bad/balances').expect(404);
    });
  });

  describe('POST /v1/accounts/:id/consumptions', () => {
    beforeAll(() => open('acct_c').expect(201));

    it('charges, answers a retry with 200 and the identical body, and refuses a reused id', async () => {
      const body = consumption('c1', { credits: 3, description: 'Jane Doe at Initech', dataRequested: 'email' });
      const first = await h.as().post('/v1/accounts/acct_c/consumptions', body).expect(201);
      expect(first.body).toEqual({
        consumptionId: 'c1',
        creditsCharged: 3,
        units: 1,
        pricedBy: 'client',
        rate: null,
        alreadyPurchased: false,
        balance: { creditType: 'email', allocated: 100, rolledIn: 0, granted: 0, used: 3, refunded: 0, expired: 0, remaining: 97 },
        position: expect.any(Number),
      });
      await h.as().post('/v1/accounts/acct_c/consumptions', consumption('c2')).expect(201);
      const retry = await h.as().post('/v1/accounts/acct_c/consumptions', body).expect(200);
      expect(retry.body).toEqual(first.body);
      const reused = await h
        .as()
        .post('/v1/accounts/acct_c/consumptions', { ...body, credits: 4 })
        .expect(409);
      expect(reused.body).toMatchObject({ error: 'IDEMPOTENCY_KEY_REUSED', details: { consumptionId: 'c1' } });
    });

    it('refuses INSUFFICIENT_CREDITS with the figures, and changes nothing', async () => {
      const before = await eventCount('acct_c');
      const res = await h
        .as()
        .post('/v1/accounts/acct_c/consumptions', consumption('big', { credits: 1000 }))
        .expect(409);
      expect(res.body).toEqual({
        error: 'INSUFFICIENT_CREDITS',
        message: expect.any(String),
        details: { creditType: 'email', requested: 1000, remaining: 96, reserved: 0, available: 96 },
      });
      expect(await eventCount('acct_c')).toBe(before);
    });

    it('lets mobile go into its allowed overdraft, not beyond', async () => {
      const ok = await h
        .as()
        .post('/v1/accounts/acct_c/consumptions', consumption('m1', { creditType: 'mobile', credits: 14 }))
        .expect(201);
      expect(ok.body.balance.remaining).toBe(-4);
      await h
        .as()
        .post('/v1/accounts/acct_c/consumptions', consumption('m2', { creditType: 'mobile', credits: 2 }))
        .expect(409);
    });

    it('charges a dataKey once per credit type and records the repeat at 0 credits', async () => {
      await h
        .as()
        .post('/v1/accounts/acct_c/consumptions', consumption('k1', { dataKey: 'contact_42' }))
        .expect(201);
      const repeat = await h
        .as()
        .post('/v1/accounts/acct_c/consumptions', consumption('k2', { dataKey: 'contact_42', userId: 'ben' }))
        .expect(201);
      expect(repeat.body).toMatchObject({ creditsCharged: 0, alreadyPurchased: true });
      const events = (await h.as().get('/v1/accounts/acct_c/events?limit=1000').expect(200)).body.items;
      expect(events.find((e: { data: { consumptionId?: string } }) => e.data.consumptionId === 'k2').data).toMatchObject({
        paidByConsumptionId: 'k1',
        userId: 'ben',
      });
    });

    it('refuses unknown accounts (404), unknown credit types (409) and bad fields (400)', async () => {
      expect((await h.as().post('/v1/accounts/nobody/consumptions', consumption('x')).expect(404)).body.error).toBe('ACCOUNT_NOT_FOUND');
      expect(
        (
          await h
            .as()
            .post('/v1/accounts/acct_c/consumptions', consumption('x', { creditType: 'ai_research' }))
            .expect(409)
        ).body.error,
      ).toBe('UNKNOWN_CREDIT_TYPE');
      for (const [field, value] of [
        ['credits', 1.5],
        ['credits', 0],
        ['credits', '1'],
        ['feature', 'Email Reveal'],
        ['consumptionId', ''],
        ['occurredAt', '2999-01-01T00:00:00Z'],
        ['occurredAt', 'yesterday'],
        ['description', 'x'.repeat(501)],
        ['unexpected', true],
      ] as const) {
        const res = await h
          .as()
          .post('/v1/accounts/acct_c/consumptions', consumption('x', { [field]: value }))
          .expect(400);
        expect(res.body.error).toBe('VALIDATION_FAILED');
        expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
      }
    });

    it('keeps the business time it is given', async () => {
      await h
        .as()
        .post('/v1/accounts/acct_c/consumptions', consumption('t1', { occurredAt: '2026-11-09T08:30:00+01:00' }))
        .expect(201);
      const events = (await h.as().get('/v1/accounts/acct_c/events?limit=1000').expect(200)).body.items;
      expect(events.find((e: { data: { consumptionId?: string } }) => e.data.consumptionId === 't1').metadata).toMatchObject({
        occurredAt: '2026-11-09T07:30:00.000Z',
        recordedAt: '2026-11-10T12:00:00.000Z',
        schemaVersion: 4,
        actor: 'superuser',
        causationId: 'consume:t1',
      });
    });
  });

  describe('POST /v1/accounts/:id/consumptions/batch', () => {
    beforeAll(() => open('acct_b').expect(201));

    it('answers each item on its own, in order, with one append for the accepted ones', async () => {
      const before = await eventCount('acct_b');
      const res = await h
        .as()
        .post('/v1/accounts/acct_b/consumptions/batch', {
          items: [
            consumption('b1', { credits: 60 }),
            consumption('b2', { credits: 1.5 }),
            consumption('b3', { credits: 50 }),
            consumption('b1', { credits: 60 }),
            consumption('b1', { credits: 61 }),
            'not an object',
            consumption('b4', { credits: 40 }),
          ],
        })
        .expect(200);
      expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([201, 400, 409, 200, 409, 400, 201]);
      expect(res.body.results[1].details[0].field).toBe('items.1.credits');
      expect(res.body.results[2].error).toBe('INSUFFICIENT_CREDITS');
      expect(res.body.results[4].error).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(res.body.results[3]).toEqual({ ...res.body.results[0], index: 3, status: 200 });
      expect(res.body.results[6].balance.remaining).toBe(0);
      expect(res.body.summary).toEqual({ created: 2, duplicates: 1, refused: 2, invalid: 2 });
      // Two consumptions, and the default thresholds crossed on the way to 100% used (80% and 100%).
      expect(await eventCount('acct_b')).toBe(before + 4);
    });

    it('enforces 1..1000 items, and 404 for an unknown account', async () => {
      await h.as().post('/v1/accounts/acct_b/consumptions/batch', { items: [] }).expect(400);
      const tooMany = Array.from({ length: 1001 }, (_, i) => consumption(`many${i}`));
      expect((await h.as().post('/v1/accounts/acct_b/consumptions/batch', { items: tooMany }).expect(400)).body.details[0].field).toBe('items');
      const max = Array.from({ length: 1000 }, (_, i) => consumption(`max${i}`, { creditType: 'export', credits: 1 }));
      const res = await h.as().post('/v1/accounts/acct_b/consumptions/batch', { items: max }).expect(200);
      expect(res.body.summary).toEqual({ created: 50, duplicates: 0, refused: 950, invalid: 0 });
      await h
        .as()
        .post('/v1/accounts/nobody/consumptions/batch', { items: [consumption('z')] })
        .expect(404);
    });
  });

  describe('POST /v1/accounts/:id/refunds', () => {
    beforeAll(async () => {
      await open('acct_r').expect(201);
      await h
        .as()
        .post('/v1/accounts/acct_r/consumptions', consumption('c1', { credits: 10 }))
        .expect(201);
    });

    it('refunds partially, then the rest when credits are omitted, idempotently', async () => {
      const part = await h.as().post('/v1/accounts/acct_r/refunds', { refundId: 'r1', consumptionId: 'c1', credits: 4, reason: 'bounced' }).expect(201);
      expect(part.body).toMatchObject({ refundId: 'r1', consumptionId: 'c1', creditsRefunded: 4, balance: { used: 10, refunded: 4, remaining: 94 } });
      expect(
        (await h.as().post('/v1/accounts/acct_r/refunds', { refundId: 'r1', consumptionId: 'c1', credits: 4, reason: 'bounced' }).expect(200)).body,
      ).toEqual(part.body);
      const rest = await h.as().post('/v1/accounts/acct_r/refunds', { refundId: 'r2', consumptionId: 'c1', reason: 'bounced' }).expect(201);
      expect(rest.body).toMatchObject({ creditsRefunded: 6, balance: { refunded: 10, remaining: 100 } });
    });

    it('refuses more than what is left, unknown consumptions, reused ids and missing reasons', async () => {
      const exceed = await h.as().post('/v1/accounts/acct_r/refunds', { refundId: 'r3', consumptionId: 'c1', credits: 1, reason: 'x' }).expect(409);
      expect(exceed.body).toMatchObject({ error: 'REFUND_EXCEEDS_CONSUMPTION', details: { refundable: 0 } });
      expect((await h.as().post('/v1/accounts/acct_r/refunds', { refundId: 'r4', consumptionId: 'nope', reason: 'x' }).expect(409)).body.error).toBe(
        'CONSUMPTION_NOT_FOUND',
      );
      expect(
        (await h.as().post('/v1/accounts/acct_r/refunds', { refundId: 'r1', consumptionId: 'c1', credits: 3, reason: 'bounced' }).expect(409)).body.error,
      ).toBe('IDEMPOTENCY_KEY_REUSED');
      await h.as().post('/v1/accounts/acct_r/refunds', { refundId: 'r5', consumptionId: 'c1' }).expect(400);
      await h.as().post('/v1/accounts/acct_r/refunds', { refundId: 'r5', consumptionId: 'c1', credits: -1, reason: 'x' }).expect(400);
    });
  });

  describe('POST /v1/accounts/:id/grants', () => {
    beforeAll(() => open('acct_g').expect(201));

    it('tops up, idempotently, with an optional expiry', async () => {
      const g = await h
        .as()
        .post('/v1/accounts/acct_g/grants', { grantId: 'g1', creditType: 'email', credits: 25, reason: 'promo', expiresAt: '2027-01-01T00:00:00Z' })
        .expect(201);
      expect(g.body).toMatchObject({ grantId: 'g1', credits: 25, expiresAt: '2027-01-01T00:00:00.000Z', balance: { granted: 25, remaining: 125 } });
      expect(
        (
          await h
            .as()
            .post('/v1/accounts/acct_g/grants', { grantId: 'g1', creditType: 'email', credits: 25, reason: 'promo', expiresAt: '2027-01-01T00:00:00.000Z' })
            .expect(200)
        ).body,
      ).toEqual(g.body);
      expect(
        (await h.as().post('/v1/accounts/acct_g/grants', { grantId: 'g1', creditType: 'email', credits: 26, reason: 'promo' }).expect(409)).body.error,
      ).toBe('IDEMPOTENCY_KEY_REUSED');
    });

    it('refuses a past expiry (409), an unknown credit type (409) and bad amounts (400)', async () => {
      expect(
        (
          await h
            .as()
            .post('/v1/accounts/acct_g/grants', { grantId: 'g2', creditType: 'email', credits: 1, reason: 'x', expiresAt: '2026-01-01T00:00:00Z' })
            .expect(409)
        ).body.error,
      ).toBe('GRANT_ALREADY_EXPIRED');
      expect((await h.as().post('/v1/accounts/acct_g/grants', { grantId: 'g2', creditType: 'nope', credits: 1, reason: 'x' }).expect(409)).body.error).toBe(
        'UNKNOWN_CREDIT_TYPE',
      );
      await h.as().post('/v1/accounts/acct_g/grants', { grantId: 'g2', creditType: 'email', credits: 0, reason: 'x' }).expect(400);
      await h.as().post('/v1/accounts/acct_g/grants', { grantId: 'g2', creditType: 'email', credits: 1, reason: 'x', expiresAt: 'soon' }).expect(400);
    });

    it('lets a lapsed grant expire as an event before the next charge', async () => {
      await h
        .as()
        .post('/v1/accounts/acct_g/grants', { grantId: 'g3', creditType: 'export', credits: 10, reason: 'trial', expiresAt: '2026-11-15T00:00:00Z' })
        .expect(201);
      h.clock.set('2026-11-16T00:00:00.000Z');
      try {
        const res = await h
          .as()
          .post('/v1/accounts/acct_g/consumptions', consumption('e1', { creditType: 'export', credits: 1 }))
          .expect(201);
        expect(res.body.balance).toMatchObject({ granted: 10, expired: 10, used: 1, remaining: 49 });
        const types = (await h.as().get('/v1/accounts/acct_g/events?limit=1000').expect(200)).body.items.map((e: { type: string }) => e.type);
        expect(types.slice(-2)).toEqual(['CreditsExpired', 'CreditConsumed']);
      } finally {
        h.clock.set('2026-11-10T12:00:00.000Z');
      }
    });
  });

  describe('POST /v1/accounts/:id/cycles and GET balances', () => {
    beforeAll(async () => {
      await open('acct_y').expect(201);
      await h
        .as()
        .post('/v1/accounts/acct_y/consumptions', consumption('c1', { credits: 30 }))
        .expect(201);
    });

    it('resets the cycle once per cycleId, with closing figures, and nothing appended on a retry', async () => {
      h.clock.set('2026-12-01T00:00:05.000Z');
      try {
        const res = await h
          .as()
          .post('/v1/accounts/acct_y/cycles', { cycleId: '2026-12', allocations: { email: 120 } })
          .expect(201);
        expect(res.body).toMatchObject({
          cycleId: '2026-12',
          previousCycleId: '2026-11',
          endsAt: '2027-01-01T00:00:00.000Z',
          allocations: { email: 120, export: 50, mobile: 10 },
        });
        expect(res.body.closing.find((c: { creditType: string }) => c.creditType === 'email')).toMatchObject({ used: 30, remaining: 70, expiredAtReset: 70 });
        const count = await eventCount('acct_y');
        expect(
          (
            await h
              .as()
              .post('/v1/accounts/acct_y/cycles', { cycleId: '2026-12', allocations: { email: 120 } })
              .expect(200)
          ).body,
        ).toEqual(res.body);
        expect(await eventCount('acct_y')).toBe(count);
        expect((await h.as().post('/v1/accounts/acct_y/cycles', { cycleId: '2026-12' }).expect(409)).body.error).toBe('IDEMPOTENCY_KEY_REUSED');
        await h
          .as()
          .post('/v1/accounts/acct_y/cycles', { cycleId: '2027-01', allocations: { email: -1 } })
          .expect(400);
        expect(
          (
            await h
              .as()
              .post('/v1/accounts/acct_y/cycles', { cycleId: '2027-01', allocations: { sms: 1 } })
              .expect(409)
          ).body.error,
        ).toBe('UNKNOWN_CREDIT_TYPE');

        const balances = await h.as().get('/v1/accounts/acct_y/balances').expect(200);
        expect(balances.body).toMatchObject({
          accountId: 'acct_y',
          cycleId: '2026-12',
          cycleStartedAt: '2026-12-01T00:00:05.000Z',
          balances: [
            { creditType: 'email', allocated: 120, granted: 0, used: 0, refunded: 0, expired: 0, remaining: 120 },
            { creditType: 'export', allocated: 50, remaining: 50 },
            { creditType: 'mobile', allocated: 10, remaining: 10 },
          ],
        });
      } finally {
        h.clock.set('2026-11-10T12:00:00.000Z');
      }
    });
  });

  describe('GET /v1/accounts/:id/events', () => {
    it('pages the audit trail by global position', async () => {
      await open('acct_e').expect(201);
      for (let i = 0; i < 5; i++)
        await h
          .as()
          .post('/v1/accounts/acct_e/consumptions', consumption(`e${i}`))
          .expect(201);
      const page1 = (await h.as().get('/v1/accounts/acct_e/events?limit=4').expect(200)).body;
      expect(page1.items.map((e: { revision: number }) => e.revision)).toEqual([0, 1, 2, 3]);
      expect(page1.nextAfter).toBe(page1.items[3].position);
      const page2 = (await h.as().get(`/v1/accounts/acct_e/events?limit=4&after=${page1.nextAfter}`).expect(200)).body;
      expect(page2.items.map((e: { revision: number }) => e.revision)).toEqual([4, 5]);
      expect(page2.nextAfter).toBeNull();
      for (const q of ['limit=0', 'limit=1001', 'limit=x', 'after=-1', 'after=1.5']) await h.as().get(`/v1/accounts/acct_e/events?${q}`).expect(400);
      await h.as().get('/v1/accounts/nobody/events').expect(404);
    });
  });
});
