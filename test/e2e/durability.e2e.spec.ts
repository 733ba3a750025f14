import { consumption, LedgerHarness, PLAN, tempDataDir } from '../support/ledger-harness';

// The SIGKILL-under-load proof, for every store, is test/e2e/crash-recovery.e2e.spec.ts.

describe('durability: a restart keeps every acknowledged movement', () => {
  it('in process: close and reopen the data dir, same balances and same audit trail', async () => {
    const dataDir = tempDataDir();
    const first = await LedgerHarness.start({ dataDir });
    await first.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
    for (let i = 0; i < 20; i++)
      await first
        .as()
        .post('/v1/accounts/acme/consumptions', consumption(`c${i}`, { credits: 2 }))
        .expect(201);
    await first.as().post('/v1/accounts/acme/refunds', { refundId: 'r1', consumptionId: 'c3', reason: 'bounced' }).expect(201);
    await first.as().post('/v1/accounts/acme/grants', { grantId: 'g1', creditType: 'mobile', credits: 5, reason: 'promo' }).expect(201);
    const balances = (await first.as().get('/v1/accounts/acme/balances').expect(200)).body;
    const events = (await first.as().get('/v1/accounts/acme/events?limit=1000').expect(200)).body;
    await first.stop({ keepData: true });

    const second = await LedgerHarness.start({ dataDir });
    try {
      expect((await second.as().get('/v1/accounts/acme/balances').expect(200)).body).toEqual(balances);
      expect((await second.as().get('/v1/accounts/acme/events?limit=1000').expect(200)).body).toEqual(events);
      // Idempotency survives the restart: a retry answers the first outcome.
      expect(
        (
          await second
            .as()
            .post('/v1/accounts/acme/consumptions', consumption('c0', { credits: 2 }))
            .expect(200)
        ).body.balance.remaining,
      ).toBe(98);
    } finally {
      await second.stop();
    }
  });
});
