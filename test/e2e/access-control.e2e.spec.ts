import { ApiKeyStore } from '@credit-ledger/ledger';
import { consumption, LedgerHarness, PLAN } from '../support/ledger-harness';

describe('access control (API keys, roles, account scope)', () => {
  let h: LedgerHarness;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    h = await LedgerHarness.start();
    await h.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
    await h.as().post('/v1/accounts', { accountId: 'globex', name: 'Globex', plan: PLAN }).expect(201);
    keys.admin = await h.createKey('acme', 'admin');
    keys.service = await h.createKey('acme', 'service');
    keys.analyst = await h.createKey('acme', 'analyst');
    keys.member = await h.createKey('acme', 'member', 'ana');
    await h
      .as()
      .post('/v1/accounts/acme/consumptions', consumption('seed', { credits: 2 }))
      .expect(201);
  });
  afterAll(() => h.stop());

  it('401 without a key, with a malformed header, with an unknown or revoked key', async () => {
    expect((await h.http().get('/v1/accounts/acme/balances').expect(401)).body.error).toBe('UNAUTHORIZED');
    await h.http().get('/v1/accounts/acme/balances').set('Authorization', `Basic ${keys.admin}`).expect(401);
    await h.as('clk_000000000000_nope').get('/v1/accounts/acme/balances').expect(401);
    const revoked = await h.app.get(ApiKeyStore).create({ accountId: 'acme', role: 'admin' });
    await h.as(revoked.key).get('/v1/accounts/acme/balances').expect(200);
    await h.app.get(ApiKeyStore).revoke(revoked.record.keyId);
    await h.as(revoked.key).get('/v1/accounts/acme/balances').expect(401);
  });

  it('stores keys hashed, never in clear', () => {
    const db = (h.app.get(ApiKeyStore) as unknown as { db: { prepare(sql: string): { all(): { key_hash: string }[] } } }).db;
    const hashes = db
      .prepare('SELECT key_hash FROM api_keys')
      .all()
      .map((r) => r.key_hash);
    for (const k of Object.values(keys)) expect(hashes).not.toContain(k);
    expect(hashes.every((x) => /^[0-9a-f]{64}$/.test(x))).toBe(true);
  });

  // role -> endpoint -> expected status (201/200 allowed, 403 refused)
  const matrix: [string, (key: string) => Promise<{ status: number }>, Record<string, number>][] = [
    [
      'consume',
      (k) => h.as(k).post('/v1/accounts/acme/consumptions', consumption(`m_${k.slice(4, 16)}`)),
      { admin: 201, service: 201, analyst: 403, member: 403 },
    ],
    [
      'batch',
      (k) => h.as(k).post('/v1/accounts/acme/consumptions/batch', { items: [consumption(`b_${k.slice(4, 16)}`)] }),
      { admin: 200, service: 200, analyst: 403, member: 403 },
    ],
    [
      'refund',
      (k) => h.as(k).post('/v1/accounts/acme/refunds', { refundId: `r_${k.slice(4, 16)}`, consumptionId: 'seed', credits: 1, reason: 'x' }),
      { admin: 201, service: 201, analyst: 403, member: 403 },
    ],
    [
      'grant',
      (k) => h.as(k).post('/v1/accounts/acme/grants', { grantId: `g_${k.slice(4, 16)}`, creditType: 'email', credits: 1, reason: 'x' }),
      { admin: 201, service: 201, analyst: 403, member: 403 },
    ],
    ['cycle', (k) => h.as(k).post('/v1/accounts/acme/cycles', { cycleId: '2026-11' }), { admin: 200, service: 403, analyst: 403, member: 403 }],
    ['balances', (k) => h.as(k).get('/v1/accounts/acme/balances'), { admin: 200, service: 403, analyst: 200, member: 200 }],
    ['events', (k) => h.as(k).get('/v1/accounts/acme/events'), { admin: 200, service: 403, analyst: 200, member: 403 }],
    [
      'open account',
      (k) => h.as(k).post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }),
      { admin: 200, service: 403, analyst: 403, member: 403 },
    ],
  ];
  for (const [endpoint, call, expected] of matrix) {
    for (const role of ['admin', 'service', 'analyst', 'member']) {
      it(`${role} -> ${endpoint}: ${expected[role]}`, async () => {
        const res = await call(keys[role]);
        expect(res.status).toBe(expected[role]);
        if (res.status === 403) expect((res as unknown as { body: { error: string } }).body.error).toBe('FORBIDDEN');
      });
    }
  }

  it('403 for another account, for every role, before revealing whether it exists', async () => {
    for (const role of ['admin', 'service', 'analyst', 'member']) {
      await h.as(keys[role]).get('/v1/accounts/globex/balances').expect(403);
      await h.as(keys[role]).post('/v1/accounts/globex/consumptions', consumption('x')).expect(403);
      await h.as(keys[role]).get('/v1/accounts/does_not_exist/balances').expect(403);
    }
    await h.as(keys.admin).post('/v1/accounts', { accountId: 'initech', name: 'Initech', plan: PLAN }).expect(403);
  });

  it('the superuser key reaches every account', async () => {
    await h.as().get('/v1/accounts/globex/balances').expect(200);
  });

  it('records who did it: the key id and role are the events actor', async () => {
    const events = (await h.as().get('/v1/accounts/acme/events?limit=1000').expect(200)).body.items;
    const byService = events.find((e: { data: { grantId?: string } }) => e.data.grantId?.startsWith('g_'));
    expect(byService.metadata.actor).toMatch(/^key:[0-9a-f]{12}:(admin|service)$/);
  });
});
