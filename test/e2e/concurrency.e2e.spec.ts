import { consumption, LedgerHarness } from '../support/ledger-harness';

describe('concurrency', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await LedgerHarness.start();
  });
  afterAll(() => h.stop());

  it('200 concurrent consumptions of 1 credit against 100: exactly 100 succeed, 100 refused, remaining 0', async () => {
    await h
      .as()
      .post('/v1/accounts', { accountId: 'race', name: 'Race', plan: { creditTypes: { email: { allocation: 100 } } } })
      .expect(201);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => h.as().post('/v1/accounts/race/consumptions', consumption(`c${i}`))));
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(100);
    expect(refused).toHaveLength(100);
    expect(refused.every((r) => r.body.error === 'INSUFFICIENT_CREDITS')).toBe(true);
    const balances = (await h.as().get('/v1/accounts/race/balances').expect(200)).body.balances;
    expect(balances).toEqual([
      {
        creditType: 'email',
        allocated: 100,
        rolledIn: 0,
        granted: 0,
        used: 100,
        refunded: 0,
        expired: 0,
        remaining: 0,
        reserved: 0,
        available: 0,
        // All 100 used within the first day of the account: 100 a day, and nothing left, so depleted now.
        forecast: { dailyBurn: 100, projectedDepletionAt: '2026-11-10T12:00:00.000Z', lastsCycle: false },
      },
    ]);
    // Every success saw a distinct remaining, from 99 down to 0.
    expect(created.map((r) => r.body.balance.remaining).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const events = (await h.as().get('/v1/accounts/race/events?limit=1000').expect(200)).body.items;
    // The opening, 100 consumptions, and the two default threshold alerts (80% and 100% used), once each.
    expect(events.map((e: { revision: number }) => e.revision)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(events.filter((e: { type: string }) => e.type === 'CreditConsumed')).toHaveLength(100);
  });

  it('200 concurrent 1-credit consumptions by one member with a limit of 50, on an account with 1,000: exactly 50 succeed', async () => {
    await h
      .as()
      .post('/v1/accounts', { accountId: 'budget', name: 'Budget', plan: { creditTypes: { email: { allocation: 1000 } } } })
      .expect(201);
    await h
      .as()
      .put('/v1/accounts/budget/members/ana/limits', { creditTypes: { email: 50 } })
      .expect(201);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => h.as().post('/v1/accounts/budget/consumptions', consumption(`c${i}`))));
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(50);
    expect(refused).toHaveLength(150);
    expect(refused.every((r) => r.body.error === 'MEMBER_LIMIT_EXCEEDED' && r.body.details.used === 50 && r.body.details.limit === 50)).toBe(true);
    expect(created.map((r) => r.body.balance.remaining).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 950 + i));
    const member = (await h.as().get('/v1/accounts/budget/members/ana').expect(200)).body;
    expect(member.creditTypes.email).toEqual({ used: 50, reserved: 0, limit: 50, limitSource: 'member', remaining: 0 });
    const balances = (await h.as().get('/v1/accounts/budget/balances').expect(200)).body.balances;
    expect(balances[0]).toMatchObject({ used: 50, remaining: 950 });
  });

  it('concurrent retries of the same consumption charge once', async () => {
    await h
      .as()
      .post('/v1/accounts', { accountId: 'retry', name: 'Retry', plan: { creditTypes: { email: { allocation: 100 } } } })
      .expect(201);
    const results = await Promise.all(Array.from({ length: 50 }, () => h.as().post('/v1/accounts/retry/consumptions', consumption('same', { credits: 7 }))));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(49);
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect((await h.as().get('/v1/accounts/retry/balances').expect(200)).body.balances[0].remaining).toBe(93);
  });
});
