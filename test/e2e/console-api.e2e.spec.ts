import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { READ_MODEL_FILE_NAME } from '@credit-ledger/projections';
import { sqliteTamperer } from '@credit-ledger/event-store/testing';
import { ApiKeyStore, MAX_ACTIVE_KEYS_PER_ACCOUNT } from '@credit-ledger/ledger';
import { ADMIN_KEY, consumption, LedgerHarness, PLAN } from '../support/ledger-harness';

const run = promisify(execFile);

/**
 * The endpoints a console needs besides the read models: who the key is, the account list and one
 * account, the history's consumptionId and dataKey filters, keys over HTTP (sharing the CLI's
 * store) and the per-account verify. Every answer is checked against the OpenAPI document.
 */
describe.each(['sqlite', 'postgres'] as const)('console API on %s', (store) => {
  let h: LedgerHarness;
  let head = 0;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    h = await LedgerHarness.start({ store });
    h.clock.set('2026-11-01T00:00:00.000Z');
    await h.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme Inc.', plan: PLAN }).expect(201);
    await h.as().post('/v1/accounts', { accountId: 'globex', name: 'Globex Corporation', plan: PLAN }).expect(201);
    await h.as().post('/v1/accounts', { accountId: 'init_ech', name: '100% Initech', plan: PLAN }).expect(201);
    h.clock.set('2026-11-10T12:00:00.000Z');
    await h
      .as()
      .post('/v1/accounts/acme/consumptions', consumption('c1', { dataKey: 'contact_1', occurredAt: '2026-11-02T10:00:00Z' }))
      .expect(201);
    await h
      .as()
      .post('/v1/accounts/acme/consumptions', consumption('c2', { userId: 'ben', dataKey: 'contact_1', occurredAt: '2026-11-03T10:00:00Z' }))
      .expect(201);
    await h
      .as()
      .post('/v1/accounts/acme/consumptions', consumption('c3', { credits: 4, occurredAt: '2026-11-04T10:00:00Z' }))
      .expect(201);
    await h.as().post('/v1/accounts/acme/refunds', { refundId: 'r1', consumptionId: 'c3', credits: 1, reason: 'bounced' }).expect(201);
    const grant = await h
      .as()
      .post('/v1/accounts/acme/grants', { grantId: 'promo', creditType: 'email', credits: 20, reason: 'promo', expiresAt: '2026-12-15T00:00:00Z' })
      .expect(201);
    head = grant.body.position;
    keys.admin = await h.createKey('acme', 'admin');
    keys.analyst = await h.createKey('acme', 'analyst');
    keys.member = await h.createKey('acme', 'member', 'ana');
    keys.service = await h.createKey('acme', 'service');
    keys.otherAdmin = await h.createKey('globex', 'admin');
  });
  afterAll(() => h.stop());

  it('GET /v1/me names the role, account and user of each key', async () => {
    expect((await h.as().get('/v1/me').expect(200)).body).toEqual({ role: 'superuser', accountId: null, userId: null, keyId: null });
    const member = (await h.as(keys.member).get('/v1/me').expect(200)).body;
    expect(member).toMatchObject({ role: 'member', accountId: 'acme', userId: 'ana' });
    expect(keys.member).toContain(`_${member.keyId}_`);
    expect((await h.as(keys.analyst).get('/v1/me').expect(200)).body).toMatchObject({ role: 'analyst', accountId: 'acme', userId: null });
    await h.http().get('/v1/me').expect(401);
  });

  it('GET /v1/accounts pages and searches by id or name, for the superuser only', async () => {
    const all = (await h.as().get(`/v1/accounts?minPosition=${head}`).expect(200)).body;
    expect(all.items.map((a: { accountId: string }) => a.accountId)).toEqual(['acme', 'globex', 'init_ech']);
    expect(all.items[0]).toEqual({ accountId: 'acme', name: 'Acme Inc.', openedAt: '2026-11-01T00:00:00.000Z' });
    const page1 = (await h.as().get('/v1/accounts?limit=2').expect(200)).body;
    expect(page1.items).toHaveLength(2);
    const page2 = (await h.as().get(`/v1/accounts?limit=2&cursor=${page1.nextCursor}`).expect(200)).body;
    expect(page2).toEqual({ items: [expect.objectContaining({ accountId: 'init_ech' })], nextCursor: null });
    // By name, any case; by id; % and _ are literal characters, not wildcards.
    expect((await h.as().get('/v1/accounts?search=GLOBEX%20corp').expect(200)).body.items.map((a: { accountId: string }) => a.accountId)).toEqual(['globex']);
    expect((await h.as().get('/v1/accounts?search=acm').expect(200)).body.items.map((a: { accountId: string }) => a.accountId)).toEqual(['acme']);
    expect((await h.as().get('/v1/accounts?search=100%25').expect(200)).body.items.map((a: { accountId: string }) => a.accountId)).toEqual(['init_ech']);
    expect((await h.as().get('/v1/accounts?search=t_e').expect(200)).body.items.map((a: { accountId: string }) => a.accountId)).toEqual(['init_ech']);
    expect((await h.as().get('/v1/accounts?search=a_m').expect(200)).body.items).toEqual([]);
    // A cursor of another search, and bad parameters: 400 naming the field.
    expect((await h.as().get(`/v1/accounts?search=a&cursor=${page1.nextCursor}`).expect(400)).body.details).toEqual([
      expect.objectContaining({ field: 'cursor' }),
    ]);
    expect((await h.as().get('/v1/accounts?limit=0').expect(400)).body.details).toEqual([expect.objectContaining({ field: 'limit' })]);
    expect(
      (
        await h
          .as()
          .get(`/v1/accounts?search=${'x'.repeat(129)}`)
          .expect(400)
      ).body.details,
    ).toEqual([expect.objectContaining({ field: 'search' })]);
    for (const key of [keys.admin, keys.analyst, keys.member]) await h.as(key).get('/v1/accounts').expect(403);
  });

  it('GET /v1/accounts/{id}: plan, schedule, thresholds, open cycle with days left, live grants', async () => {
    const account = (await h.as(keys.member).get('/v1/accounts/acme').expect(200)).body;
    expect(account).toMatchObject({
      accountId: 'acme',
      name: 'Acme Inc.',
      plan: { creditTypes: { email: { allocation: 100 } } },
      pendingPlan: null,
      pendingSchedule: null,
      cycle: { cycleId: expect.any(String), startedAt: '2026-11-01T00:00:00.000Z', endsAt: '2026-12-01T00:00:00.000Z', daysLeft: 21 },
      thresholds: {
        email: {
          thresholds: [
            { kind: 'percent_used', value: 80 },
            { kind: 'percent_used', value: 100 },
          ],
          default: true,
          alerted: [],
        },
      },
      grants: [
        {
          grantId: 'promo',
          creditType: 'email',
          credits: 20,
          remaining: 20,
          expiresAt: '2026-12-15T00:00:00.000Z',
          priority: 0,
          grantedAt: expect.any(String),
        },
      ],
    });
    expect(account.schedule.period).toBe('month');
    await h.as(keys.otherAdmin).get('/v1/accounts/acme').expect(403);
    expect((await h.as().get('/v1/accounts/nobody').expect(404)).body.error).toBe('ACCOUNT_NOT_FOUND');
  });

  it('history filters by consumptionId (the consumption and its refunds) and by dataKey (every access to the datum)', async () => {
    const byConsumption = (await h.as().get(`/v1/accounts/acme/history?minPosition=${head}&consumptionId=c3`).expect(200)).body.items;
    expect(byConsumption.map((i: { kind: string; credits: number }) => [i.kind, i.credits])).toEqual([
      ['refund', -1],
      ['consumption', 4],
    ]);
    const byDataKey = (await h.as().get(`/v1/accounts/acme/history?minPosition=${head}&dataKey=contact_1`).expect(200)).body.items;
    expect(byDataKey.map((i: { consumptionId: string; alreadyPurchased: boolean }) => [i.consumptionId, i.alreadyPurchased])).toEqual([
      ['c2', true],
      ['c1', false],
    ]);
    expect((await h.as().get('/v1/accounts/acme/history?dataKey=nothing').expect(200)).body.items).toEqual([]);
    // Paging keeps the filter; a cursor of the unfiltered history is refused.
    const first = (await h.as().get('/v1/accounts/acme/history?dataKey=contact_1&limit=1').expect(200)).body;
    const second = (await h.as().get(`/v1/accounts/acme/history?dataKey=contact_1&limit=1&cursor=${first.nextCursor}`).expect(200)).body;
    expect(second.items.map((i: { consumptionId: string }) => i.consumptionId)).toEqual(['c1']);
    await h.as().get(`/v1/accounts/acme/history?limit=1&cursor=${first.nextCursor}`).expect(400);
    // The member still sees only its own rows.
    const member = (await h.as(keys.member).get('/v1/accounts/acme/history?dataKey=contact_1').expect(200)).body.items;
    expect(member.map((i: { userId: string }) => i.userId)).toEqual(['ana']);
    expect((await h.as().get('/v1/accounts/acme/history?consumptionId=bad%20id').expect(400)).body.details).toEqual([
      expect.objectContaining({ field: 'consumptionId' }),
    ]);
    const csv = (await h.as().get('/v1/accounts/acme/history.csv?consumptionId=c3').expect(200)).text;
    expect(csv.trim().split('\r\n')).toHaveLength(3);
  });

  it('usage totals and series narrow by feature and action like the history does', async () => {
    const c9 = await h
      .as()
      .post('/v1/accounts/acme/consumptions', consumption('c9', { feature: 'exports', action: 'csv_export', credits: 7, occurredAt: '2026-11-05T10:30:00Z' }))
      .expect(201);
    // Up to just after the refund (recorded at 12:00:00).
    const range = `minPosition=${c9.body.position}&from=2026-11-01T00:00:00Z&to=2026-11-10T12:00:01Z`;
    const narrowed = `${range}&feature=exports&action=csv_export`;
    const byUser = (await h.as().get(`/v1/accounts/acme/usage/by-user?${narrowed}`).expect(200)).body;
    expect(byUser.totals).toEqual({ consumed: 7, refunded: 0, net: 7, count: 1 });
    const byFeature = (await h.as().get(`/v1/accounts/acme/usage/by-feature?${narrowed}`).expect(200)).body;
    expect(byFeature.items).toEqual([expect.objectContaining({ feature: 'exports', action: 'csv_export', net: 7 })]);
    const series = (await h.as().get(`/v1/accounts/acme/usage/series?${narrowed}&groupBy=action&timezone=Asia/Kolkata`).expect(200)).body;
    expect(series.series.map((s: { key: string }) => s.key)).toEqual(['csv_export']);
    expect(series.totals.net).toBe(7);
    const others = (await h.as().get(`/v1/accounts/acme/usage/by-user?${range}&feature=people_search`).expect(200)).body;
    // c1 (1), c2 (already purchased: 0), c3 (4) and its refund of 1.
    expect(others.totals).toEqual({ consumed: 5, refunded: 1, net: 4, count: 3 });
  });

  it('keys over HTTP: an admin creates, lists and revokes; the key is shown once and works at once; the CLI sees the same store', async () => {
    const created = await h.as(keys.admin).post('/v1/accounts/acme/keys', { role: 'member', userId: 'cat@acme.test' }).expect(201);
    expect(created.body).toMatchObject({ role: 'member', accountId: 'acme', userId: 'cat@acme.test', revokedAt: null });
    const newKey: string = created.body.key;
    expect((await h.as(newKey).get('/v1/me').expect(200)).body.userId).toBe('cat@acme.test');
    const listed = (await h.as(keys.admin).get('/v1/accounts/acme/keys').expect(200)).body;
    expect(listed.items.find((k: { keyId: string }) => k.keyId === created.body.keyId)).toEqual({ ...created.body, key: undefined });
    expect(JSON.stringify(listed)).not.toContain(newKey);
    const revoked = (await h.as(keys.admin).delete(`/v1/accounts/acme/keys/${created.body.keyId}`).expect(200)).body;
    expect(revoked.revokedAt).toEqual(expect.any(String));
    await h.as(newKey).get('/v1/me').expect(401);
    expect((await h.as(keys.admin).delete(`/v1/accounts/acme/keys/${created.body.keyId}`).expect(200)).body.revokedAt).toBe(revoked.revokedAt);

    // Refusals: bad bodies, admin keys by an admin, other roles and accounts, unknown keys.
    expect((await h.as(keys.admin).post('/v1/accounts/acme/keys', { role: 'member' }).expect(400)).body.details).toEqual([
      expect.objectContaining({ field: 'userId' }),
    ]);
    expect((await h.as(keys.admin).post('/v1/accounts/acme/keys', { role: 'analyst', userId: 'x' }).expect(400)).body.details).toEqual([
      expect.objectContaining({ field: 'userId' }),
    ]);
    expect((await h.as(keys.admin).post('/v1/accounts/acme/keys', { role: 'owner' }).expect(400)).body.details).toEqual([
      expect.objectContaining({ field: 'role' }),
    ]);
    await h.as(keys.admin).post('/v1/accounts/acme/keys', { role: 'admin' }).expect(403);
    expect((await h.as().post('/v1/accounts/acme/keys', { role: 'admin' }).expect(201)).body.role).toBe('admin');
    for (const key of [keys.analyst, keys.member, keys.service, keys.otherAdmin]) {
      await h.as(key).post('/v1/accounts/acme/keys', { role: 'service' }).expect(403);
      await h.as(key).get('/v1/accounts/acme/keys').expect(403);
    }
    const otherKeyId = (await h.as(keys.otherAdmin).get('/v1/me').expect(200)).body.keyId;
    expect((await h.as(keys.admin).delete(`/v1/accounts/acme/keys/${otherKeyId}`).expect(404)).body.error).toBe('KEY_NOT_FOUND');
    await h.as(keys.admin).delete('/v1/accounts/acme/keys/not-a-key').expect(400);
    expect((await h.as().post('/v1/accounts/nobody/keys', { role: 'service' }).expect(404)).body.error).toBe('ACCOUNT_NOT_FOUND');

    if (store === 'sqlite') {
      // The CLI lists the key created over HTTP, from the same store.
      const cli = join(__dirname, '../../dist/apps/ledger-cli/src/main.js');
      const env = { ...process.env, LEDGER_STORE: 'sqlite', LEDGER_DATA_DIR: h.dataDir, LEDGER_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'silent' };
      const { stdout } = await run('node', [cli, 'keys', 'list', '--account', 'acme'], { env });
      expect(stdout).toContain(`${created.body.keyId}\tacme\tmember\tcat@acme.test`);
    }
  });

  it('refuses a key past MAX_ACTIVE_KEYS_PER_ACCOUNT active keys with 409 TOO_MANY_KEYS, and accepts one again after a revocation', async () => {
    if (store !== 'sqlite') return; // the limit is the controller's, whatever the key store
    const keys = h.app.get(ApiKeyStore);
    const created = [];
    for (let i = 0; i < MAX_ACTIVE_KEYS_PER_ACCOUNT; i++) created.push((await keys.create({ accountId: 'init_ech', role: 'service' })).record.keyId);
    expect((await h.as().post('/v1/accounts/init_ech/keys', { role: 'service' }).expect(409)).body.error).toBe('TOO_MANY_KEYS');
    await h.as().delete(`/v1/accounts/init_ech/keys/${created[0]}`).expect(200);
    await h.as().post('/v1/accounts/init_ech/keys', { role: 'service' }).expect(201);
  });

  it('POST /v1/accounts/{id}/verify re-derives the account and names a tampered row', async () => {
    const clean = (await h.as(keys.analyst).post('/v1/accounts/acme/verify').expect(200)).body;
    expect(clean).toMatchObject({ accountId: 'acme', ok: true, differenceCount: 0, differences: [] });
    expect(clean.eventsChecked).toBeGreaterThanOrEqual(6);
    await h.as(keys.member).post('/v1/accounts/acme/verify').expect(403);
    await h.as(keys.otherAdmin).post('/v1/accounts/acme/verify').expect(403);
    expect((await h.as().post('/v1/accounts/nobody/verify').expect(404)).body.error).toBe('ACCOUNT_NOT_FOUND');
    if (store !== 'sqlite') return;
    const db = new Database(join(h.dataDir, READ_MODEL_FILE_NAME));
    try {
      const { version } = db.prepare("SELECT version FROM projection_registry WHERE name = 'history' AND status = 'live'").get() as { version: number };
      db.prepare(`UPDATE history_v${version} SET credits = credits + 5 WHERE account_id = 'acme' AND consumption_id = 'c1' AND kind = 'consumption'`).run();
    } finally {
      db.close();
    }
    const tampered = (await h.as(keys.admin).post('/v1/accounts/acme/verify').expect(200)).body;
    expect(tampered).toMatchObject({ ok: false, chain: { ok: true, firstBreak: null } });
    expect(tampered.differences).toEqual([expect.objectContaining({ readModel: 'history', expected: 1, actual: 6 })]);
    // Another account is not affected.
    expect((await h.as(keys.otherAdmin).post('/v1/accounts/globex/verify').expect(200)).body.ok).toBe(true);
    // An event edited in the store itself: the account's hash chain names it.
    const events = (await h.as().get('/v1/accounts/acme/events?limit=100').expect(200)).body.items as { position: number; type: string }[];
    const edited = events.find((event) => event.type === 'CreditConsumed')!.position;
    const tamperer = sqliteTamperer(h.dataDir);
    await tamperer.setCredits(edited, 7);
    await tamperer.close();
    const forged = (await h.as(keys.admin).post('/v1/accounts/acme/verify').expect(200)).body;
    expect(forged).toMatchObject({ ok: false, chain: { ok: false, firstBreak: { position: edited, problem: 'changed' } } });
  });
});
