import { parse } from 'csv-parse/sync';
import { consumption, LedgerHarness, PLAN } from '../support/ledger-harness';

/** The HTTP tests' plan with a rate card: any people_search action 1 email, mobile reveals 2 mobile, CSV exports free. */
const RATES = [
  { feature: 'people_search', creditType: 'email', credits: 1 },
  { feature: 'people_search', action: 'mobile_reveal', creditType: 'mobile', credits: 2 },
  { feature: 'exports', action: 'csv_export', creditType: 'export', credits: 0 },
];
const PRICED = { ...PLAN, rates: RATES };
const STRICT = { ...PLAN, rates: RATES, clientPrices: false };

/** A consumption priced by the rate card: no credits, no credit type. */
function unitsOf(consumptionId: string, extra: Record<string, unknown> = {}) {
  return { consumptionId, userId: 'ana', feature: 'people_search', action: 'mobile_reveal', ...extra };
}

describe('spending controls over HTTP: rate cards, member budgets, checks', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await LedgerHarness.start();
  });
  afterAll(() => h.stop());

  const open = (accountId: string, plan: unknown = PRICED) => h.as().post('/v1/accounts', { accountId, name: `Account ${accountId}`, plan });
  const eventCount = async (accountId: string) => (await h.as().get(`/v1/accounts/${accountId}/events?limit=1000`).expect(200)).body.items.length;

  describe('rate card', () => {
    beforeAll(() => open('rc').expect(201));

    it('opens an account with its rate card, idempotently, and names a bad rate (400)', async () => {
      const again = await open('rc').expect(200);
      expect(again.body.plan.rates).toHaveLength(3);
      const dup = await open('rc_bad', { ...PLAN, rates: [RATES[0], { ...RATES[0], credits: 3 }] }).expect(400);
      expect(dup.body.details).toEqual([{ field: 'plan.rates.1', reason: expect.stringContaining('two rates') }]);
      const unknown = await open('rc_bad', { ...PLAN, rates: [{ feature: 'f', creditType: 'sms', credits: 1 }] }).expect(400);
      expect(unknown.body.details[0].field).toBe('plan.rates.0');
      const negative = await open('rc_bad', { ...PLAN, rates: [{ feature: 'f', creditType: 'email', credits: -1 }] }).expect(400);
      expect(negative.body.details[0].field).toBe('plan.rates.0.credits');
      await h.as().get('/v1/accounts/rc_bad/rates').expect(404);
    });

    it('GET /rates answers the card in force and no pending one', async () => {
      const res = await h.as().get('/v1/accounts/rc/rates').expect(200);
      expect(res.body).toEqual({
        accountId: 'rc',
        planId: null,
        clientPrices: true,
        rates: [
          { feature: 'exports', action: 'csv_export', creditType: 'export', credits: 0 },
          { feature: 'people_search', creditType: 'email', credits: 1 },
          { feature: 'people_search', action: 'mobile_reveal', creditType: 'mobile', credits: 2 },
        ],
        pending: null,
      });
    });

    it('prices units without credits: rate x units, recorded with the rate; a retry answers the same', async () => {
      const first = await h
        .as()
        .post('/v1/accounts/rc/consumptions', unitsOf('u1', { units: 2 }))
        .expect(201);
      expect(first.body).toMatchObject({
        creditsCharged: 4,
        units: 2,
        pricedBy: 'rate_card',
        rate: { feature: 'people_search', action: 'mobile_reveal', creditType: 'mobile', credits: 2 },
        balance: { creditType: 'mobile', remaining: 6 },
      });
      expect(
        (
          await h
            .as()
            .post('/v1/accounts/rc/consumptions', unitsOf('u1', { units: 2 }))
            .expect(200)
        ).body,
      ).toEqual(first.body);
      const reused = await h
        .as()
        .post('/v1/accounts/rc/consumptions', unitsOf('u1', { units: 3 }))
        .expect(409);
      expect(reused.body.error).toBe('IDEMPOTENCY_KEY_REUSED');
      const byDefault = await h
        .as()
        .post('/v1/accounts/rc/consumptions', unitsOf('u2', { action: 'email_reveal' }))
        .expect(201);
      expect(byDefault.body).toMatchObject({ creditsCharged: 1, units: 1, rate: { action: null, creditType: 'email' } });
      const free = await h
        .as()
        .post('/v1/accounts/rc/consumptions', unitsOf('u3', { feature: 'exports', action: 'csv_export' }))
        .expect(201);
      expect(free.body).toMatchObject({ creditsCharged: 0, pricedBy: 'rate_card', balance: { creditType: 'export', used: 0 } });
      const client = await h
        .as()
        .post('/v1/accounts/rc/consumptions', consumption('u4', { credits: 3, units: 3 }))
        .expect(201);
      expect(client.body).toMatchObject({ creditsCharged: 3, units: 3, pricedBy: 'client', rate: null });
    });

    it('refuses NO_RATE_FOR_ACTION, CHARGE_TOO_LARGE, and 400s a consumption without a price or with a bad units', async () => {
      const before = await eventCount('rc');
      const none = await h
        .as()
        .post('/v1/accounts/rc/consumptions', unitsOf('n1', { feature: 'enrichment', action: 'company' }))
        .expect(409);
      expect(none.body).toMatchObject({ error: 'NO_RATE_FOR_ACTION', details: { feature: 'enrichment', action: 'company', creditType: null } });
      const wrongType = await h
        .as()
        .post('/v1/accounts/rc/consumptions', unitsOf('n2', { creditType: 'email' }))
        .expect(409);
      expect(wrongType.body.error).toBe('NO_RATE_FOR_ACTION');
      await open('rc_big', { ...PLAN, rates: [{ feature: 'people_search', creditType: 'email', credits: 1_000_000 }] }).expect(201);
      const big = await h
        .as()
        .post('/v1/accounts/rc_big/consumptions', unitsOf('n3', { action: 'email_reveal', units: 1_001 }))
        .expect(409);
      expect(big.body.error).toBe('CHARGE_TOO_LARGE');
      const noType = await h
        .as()
        .post('/v1/accounts/rc/consumptions', consumption('n4', { creditType: undefined, credits: 2 }))
        .expect(400);
      expect(noType.body.details).toEqual([{ field: 'creditType', reason: expect.stringContaining('required with credits') }]);
      const zero = await h
        .as()
        .post('/v1/accounts/rc/consumptions', unitsOf('n5', { units: 0 }))
        .expect(400);
      expect(zero.body.details[0].field).toBe('units');
      await h
        .as()
        .post('/v1/accounts/rc/consumptions', unitsOf('n6', { units: 1.5 }))
        .expect(400);
      expect(await eventCount('rc')).toBe(before);
    });

    it('refuses CLIENT_PRICE_NOT_ALLOWED on a plan that prices every action itself', async () => {
      await open('rc_strict', STRICT).expect(201);
      const res = await h.as().post('/v1/accounts/rc_strict/consumptions', consumption('s1')).expect(409);
      expect(res.body.error).toBe('CLIENT_PRICE_NOT_ALLOWED');
      await h.as().post('/v1/accounts/rc_strict/consumptions', unitsOf('s2')).expect(201);
      expect((await h.as().get('/v1/accounts/rc_strict/rates').expect(200)).body.clientPrices).toBe(false);
    });

    it('prices batch items the same way, each with its own outcome', async () => {
      const res = await h
        .as()
        .post('/v1/accounts/rc/consumptions/batch', {
          items: [unitsOf('b1'), unitsOf('b2', { feature: 'nothing' }), consumption('b3', { credits: 2 }), unitsOf('b4', { units: 0 })],
        })
        .expect(200);
      expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([201, 409, 201, 400]);
      expect(res.body.results[0]).toMatchObject({ pricedBy: 'rate_card', creditsCharged: 2 });
      expect(res.body.results[1]).toMatchObject({ error: 'NO_RATE_FOR_ACTION' });
    });

    it('changes the rates with the plan: at the next cycle (pending) or now', async () => {
      const doubled = RATES.map((rate) => ({ ...rate, credits: rate.credits * 2 }));
      const body = { planId: 'pro', creditTypes: PLAN.creditTypes, rates: doubled, effective: 'next_cycle' };
      const next = await h.as().put('/v1/accounts/rc/plan', body).expect(201);
      expect(next.body.pending).toMatchObject({ planId: 'pro', rates: expect.any(Array), clientPrices: true });
      const rates = (await h.as().get('/v1/accounts/rc/rates').expect(200)).body;
      expect(rates.rates.find((r: { action?: string }) => r.action === 'mobile_reveal').credits).toBe(2);
      expect(rates.pending).toMatchObject({ planId: 'pro', effectiveAt: '2026-12-01T00:00:00.000Z', clientPrices: true });
      expect(rates.pending.rates.find((r: { action?: string }) => r.action === 'mobile_reveal').credits).toBe(4);
      await h.as().put('/v1/accounts/rc/plan', body).expect(200);
      const now = await h
        .as()
        .put('/v1/accounts/rc/plan', { ...body, planId: 'pro-now', effective: 'now' })
        .expect(201);
      expect(now.body).toMatchObject({ planId: 'pro-now', pending: null });
      expect((await h.as().post('/v1/accounts/rc/consumptions', unitsOf('after-change')).expect(201)).body.creditsCharged).toBe(4);
      const bad = await h
        .as()
        .put('/v1/accounts/rc/plan', { ...body, rates: [{ feature: 'f', creditType: 'sms', credits: 1 }] })
        .expect(400);
      expect(bad.body.details[0].field).toBe('rates.0');
    });
  });

  describe('member budgets', () => {
    beforeAll(() => open('mb').expect(201));

    it('sets a default and a member limit (201), the same again (200), refuses bad bodies (400) and unknown types (409)', async () => {
      const dflt = await h
        .as()
        .put('/v1/accounts/mb/members/default/limits', { creditTypes: { email: 3, mobile: 4 } })
        .expect(201);
      expect(dflt.body).toEqual({ accountId: 'mb', cycleId: '2026-11', defaultLimits: { email: 3, mobile: 4 }, position: expect.any(Number) });
      expect(
        (
          await h
            .as()
            .put('/v1/accounts/mb/members/default/limits', { creditTypes: { email: 3 } })
            .expect(200)
        ).body,
      ).toEqual(dflt.body);
      const own = await h
        .as()
        .put('/v1/accounts/mb/members/ana/limits', { creditTypes: { email: 5 } })
        .expect(201);
      expect(own.body).toMatchObject({
        accountId: 'mb',
        userId: 'ana',
        limits: { email: 5 },
        creditTypes: {
          email: { used: 0, reserved: 0, limit: 5, limitSource: 'member', remaining: 5 },
          mobile: { used: 0, reserved: 0, limit: 4, limitSource: 'default', remaining: 4 },
          export: { used: 0, reserved: 0, limit: null, limitSource: null, remaining: null },
        },
      });
      const bad = await h
        .as()
        .put('/v1/accounts/mb/members/ana/limits', { creditTypes: { email: -1, mobile: 'x' } })
        .expect(400);
      expect(bad.body.details.map((d: { field: string }) => d.field)).toEqual(['creditTypes.email', 'creditTypes.mobile']);
      await h.as().put('/v1/accounts/mb/members/ana/limits', {}).expect(400);
      await h
        .as()
        .put('/v1/accounts/mb/members/has%20space/limits', { creditTypes: { email: 1 } })
        .expect(400);
      const unknown = await h
        .as()
        .put('/v1/accounts/mb/members/ana/limits', { creditTypes: { sms: 1 } })
        .expect(409);
      expect(unknown.body.error).toBe('UNKNOWN_CREDIT_TYPE');
      await h
        .as()
        .put('/v1/accounts/nope/members/ana/limits', { creditTypes: { email: 1 } })
        .expect(404);
    });

    it('refuses MEMBER_LIMIT_EXCEEDED at the limit with the figures; refunds give room back', async () => {
      for (let i = 0; i < 5; i++)
        await h
          .as()
          .post('/v1/accounts/mb/consumptions', consumption(`m${i}`))
          .expect(201);
      const over = await h.as().post('/v1/accounts/mb/consumptions', consumption('m5')).expect(409);
      expect(over.body).toEqual({
        error: 'MEMBER_LIMIT_EXCEEDED',
        message: expect.any(String),
        details: { creditType: 'email', limit: 5, used: 5, reserved: 0, requested: 1 },
      });
      await h.as().post('/v1/accounts/mb/refunds', { refundId: 'r1', consumptionId: 'm0', reason: 'bounced' }).expect(201);
      await h.as().post('/v1/accounts/mb/consumptions', consumption('m6')).expect(201);
      // ben has the default limit of 3.
      await h
        .as()
        .post('/v1/accounts/mb/consumptions', consumption('b1', { userId: 'ben' }))
        .expect(201);
      const ben = await h
        .as()
        .post('/v1/accounts/mb/consumptions', consumption('b2', { userId: 'ben', credits: 3 }))
        .expect(409);
      expect(ben.body.details).toEqual({ creditType: 'email', limit: 3, used: 1, reserved: 0, requested: 3 });
    });

    it('removes a limit explicitly with null (the default applies again)', async () => {
      await h
        .as()
        .put('/v1/accounts/mb/members/cy/limits', { creditTypes: { email: 1 } })
        .expect(201);
      const removed = await h
        .as()
        .put('/v1/accounts/mb/members/cy/limits', { creditTypes: { email: null } })
        .expect(201);
      expect(removed.body.creditTypes.email).toEqual({ used: 0, reserved: 0, limit: 3, limitSource: 'default', remaining: 3 });
      await h
        .as()
        .put('/v1/accounts/mb/members/cy/limits', { creditTypes: { email: null } })
        .expect(200);
    });

    it('lists members seen in usage or with a limit, paged by user id, and one member', async () => {
      const first = await h.as().get('/v1/accounts/mb/members?limit=2').expect(200);
      expect(first.body).toMatchObject({ accountId: 'mb', cycleId: '2026-11', defaultLimits: { email: 3, mobile: 4 } });
      expect(first.body.items.map((m: { userId: string }) => m.userId)).toEqual(['ana', 'ben']);
      expect(first.body.items[0].creditTypes.email).toEqual({ used: 5, reserved: 0, limit: 5, limitSource: 'member', remaining: 0 });
      const second = await h.as().get(`/v1/accounts/mb/members?limit=2&cursor=${first.body.nextCursor}`).expect(200);
      expect(second.body.items.map((m: { userId: string }) => m.userId)).toEqual(['cy']);
      expect(second.body.nextCursor).toBeNull();
      await h.as().get('/v1/accounts/mb/members?cursor=!!').expect(400);
      await h.as().get('/v1/accounts/mb/members?limit=0').expect(400);
      const one = await h.as().get('/v1/accounts/mb/members/ana').expect(200);
      expect(one.body).toEqual({ accountId: 'mb', ...first.body.items[0] });
      const never = await h.as().get('/v1/accounts/mb/members/zoe').expect(200);
      expect(never.body.creditTypes.email).toEqual({ used: 0, reserved: 0, limit: 3, limitSource: 'default', remaining: 3 });
      await h.as().get('/v1/accounts/nope/members').expect(404);
    });

    it('shows limit changes and priced consumptions in the history, and Units at the end of the CSV', async () => {
      const position = (
        await h
          .as()
          .post('/v1/accounts/mb/consumptions', unitsOf('priced', { units: 2 }))
          .expect(201)
      ).body.position;
      const items = (await h.as().get(`/v1/accounts/mb/history?minPosition=${position}&limit=100`).expect(200)).body.items;
      const limitRows = items.filter((i: { kind: string }) => i.kind === 'member_limit');
      expect(limitRows).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ userId: null, creditType: 'email', credits: 0, description: 'default member limit: 3 credits per cycle' }),
          expect.objectContaining({ userId: 'cy', creditType: 'email', credits: 0, description: 'member limit removed' }),
        ]),
      );
      expect(items.find((i: { consumptionId: string }) => i.consumptionId === 'priced')).toMatchObject({
        units: 2,
        rate: 2,
        pricedBy: 'rate_card',
        credits: 4,
      });
      expect(items.find((i: { consumptionId: string }) => i.consumptionId === 'm1')).toMatchObject({ units: 1, rate: null, pricedBy: 'client' });
      const csv = parse((await h.as().get(`/v1/accounts/mb/history.csv?minPosition=${position}`).expect(200)).text, { columns: true }) as Record<
        string,
        string
      >[];
      expect(Object.keys(csv[0]).pop()).toBe('Units');
      expect(csv.find((r) => r.Credits === '4' && r.Action === 'mobile_reveal')?.Units).toBe('2');
    });
  });

  describe('check', () => {
    beforeAll(async () => {
      await open('ck').expect(201);
      await h
        .as()
        .put('/v1/accounts/ck/members/ana/limits', { creditTypes: { mobile: 4 } })
        .expect(201);
      await h
        .as()
        .post('/v1/accounts/ck/consumptions', unitsOf('k1', { dataKey: 'contact_1' }))
        .expect(201);
    });
    const check = (body: Record<string, unknown>, key?: string) =>
      h.as(key).post('/v1/accounts/ck/check', { userId: 'ana', feature: 'people_search', action: 'mobile_reveal', ...body });

    it('answers allowed with the price, the balance and the member room, and writes nothing', async () => {
      const before = await eventCount('ck');
      expect((await check({}).expect(200)).body).toEqual({
        allowed: true,
        creditType: 'mobile',
        credits: 2,
        remaining: 8,
        reserved: 0,
        available: 8,
        memberRemaining: 2,
        alreadyPurchased: false,
      });
      expect((await check({ dataKey: 'contact_1' }).expect(200)).body).toMatchObject({ allowed: true, credits: 0, alreadyPurchased: true });
      expect((await check({ userId: 'ben', credits: 3, creditType: 'email' }).expect(200)).body).toEqual({
        allowed: true,
        creditType: 'email',
        credits: 3,
        remaining: 100,
        reserved: 0,
        available: 100,
        memberRemaining: null,
        alreadyPurchased: false,
      });
      expect(await eventCount('ck')).toBe(before);
    });

    it('answers every reason the consumption would be refused with', async () => {
      expect((await check({ units: 2 }).expect(200)).body).toMatchObject({ allowed: false, reason: 'MEMBER_LIMIT_EXCEEDED', credits: 4, memberRemaining: 2 });
      expect((await check({ userId: 'ben', units: 7 }).expect(200)).body).toMatchObject({ allowed: false, reason: 'INSUFFICIENT_CREDITS', credits: 14 });
      expect((await check({ feature: 'enrichment' }).expect(200)).body).toEqual({
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
      expect((await check({ credits: 1, creditType: 'sms' }).expect(200)).body).toMatchObject({
        allowed: false,
        reason: 'UNKNOWN_CREDIT_TYPE',
        creditType: 'sms',
      });
      // The consumption itself agrees.
      const refused = await h
        .as()
        .post('/v1/accounts/ck/consumptions', unitsOf('k2', { units: 2 }))
        .expect(409);
      expect(refused.body.error).toBe('MEMBER_LIMIT_EXCEEDED');
    });

    it('refuses what the consumption would refuse as a request: 409 CLIENT_PRICE_NOT_ALLOWED, 404, 400', async () => {
      await open('ck_strict', STRICT).expect(201);
      const strict = await h
        .as()
        .post('/v1/accounts/ck_strict/check', { userId: 'ana', feature: 'people_search', action: 'x', credits: 1, creditType: 'email' })
        .expect(409);
      expect(strict.body.error).toBe('CLIENT_PRICE_NOT_ALLOWED');
      const missing = await h.as().post('/v1/accounts/nope/check', { userId: 'ana', feature: 'f', action: 'a' }).expect(404);
      expect(missing.body.error).toBe('ACCOUNT_NOT_FOUND');
      const bad = await check({ units: 0, credits: 2 }).expect(400);
      expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['creditType', 'units']);
      await check({ extra: true }).expect(400);
    });

    it('sees a write at once (its own process)', async () => {
      await h.as().post('/v1/accounts/ck/consumptions', unitsOf('k3')).expect(201);
      expect((await check({}).expect(200)).body).toMatchObject({ allowed: false, reason: 'MEMBER_LIMIT_EXCEEDED', memberRemaining: 0, remaining: 6 });
    });
  });

  describe('role matrix', () => {
    const keys: Record<string, string> = {};
    beforeAll(async () => {
      await open('rm').expect(201);
      await open('rm_other').expect(201);
      keys.admin = await h.createKey('rm', 'admin');
      keys.service = await h.createKey('rm', 'service');
      keys.analyst = await h.createKey('rm', 'analyst');
      keys.member = await h.createKey('rm', 'member', 'ana');
      keys.otherAccount = await h.createKey('rm_other', 'admin');
    });

    const calls = {
      putDefault: (key: string) => h.as(key).put('/v1/accounts/rm/members/default/limits', { creditTypes: { email: 50 } }),
      putMember: (key: string) => h.as(key).put('/v1/accounts/rm/members/ana/limits', { creditTypes: { email: 40 } }),
      listMembers: (key: string) => h.as(key).get('/v1/accounts/rm/members'),
      ownMember: (key: string) => h.as(key).get('/v1/accounts/rm/members/ana'),
      otherMember: (key: string) => h.as(key).get('/v1/accounts/rm/members/ben'),
      rates: (key: string) => h.as(key).get('/v1/accounts/rm/rates'),
      checkOwn: (key: string) => h.as(key).post('/v1/accounts/rm/check', { userId: 'ana', feature: 'people_search', action: 'email_reveal' }),
      checkOther: (key: string) => h.as(key).post('/v1/accounts/rm/check', { userId: 'ben', feature: 'people_search', action: 'email_reveal' }),
    };
    type Call = keyof typeof calls;
    // Expected status per call and role; 2xx written as 200 (a PUT answers 201 or 200).
    const matrix: Record<Call, Record<string, number>> = {
      putDefault: { admin: 200, service: 403, analyst: 403, member: 403, otherAccount: 403 },
      putMember: { admin: 200, service: 403, analyst: 403, member: 403, otherAccount: 403 },
      listMembers: { admin: 200, service: 403, analyst: 200, member: 403, otherAccount: 403 },
      ownMember: { admin: 200, service: 403, analyst: 200, member: 200, otherAccount: 403 },
      otherMember: { admin: 200, service: 403, analyst: 200, member: 403, otherAccount: 403 },
      rates: { admin: 200, service: 200, analyst: 200, member: 200, otherAccount: 403 },
      checkOwn: { admin: 200, service: 200, analyst: 403, member: 200, otherAccount: 403 },
      checkOther: { admin: 200, service: 200, analyst: 403, member: 403, otherAccount: 403 },
    };

    it('answers every role as the matrix says', async () => {
      const got: Record<string, Record<string, number>> = {};
      for (const call of Object.keys(matrix) as Call[]) {
        got[call] = {};
        for (const role of Object.keys(matrix[call])) {
          const status = (await calls[call](keys[role])).status;
          got[call][role] = status === 201 ? 200 : status;
        }
      }
      expect(got).toEqual(matrix);
    });

    it('refuses keys that are not there (401)', async () => {
      await h.as('not-a-key').post('/v1/accounts/rm/check', { userId: 'ana', feature: 'f', action: 'a' }).expect(401);
      await h.http().get('/v1/accounts/rm/rates').expect(401);
    });
  });
});
