import fc from 'fast-check';
import request from 'supertest';
import { MAX_BODY_BYTES } from '../../apps/ledger-api/src/app';
import { consumption, LedgerHarness, PLAN } from '../support/ledger-harness';

describe('HTTP contract: errors, limits, docs, health', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await LedgerHarness.start();
    await h.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
  });
  afterAll(() => h.stop());

  it('413 for a body over the limit, and nothing recorded', async () => {
    const huge = { items: [consumption('x', { description: 'x'.repeat(MAX_BODY_BYTES) })] };
    const res = await h.as().post('/v1/accounts/acme/consumptions/batch', huge).expect(413);
    expect(res.body.error).toBe('PAYLOAD_TOO_LARGE');
    expect((await h.as().get('/v1/accounts/acme/events').expect(200)).body.items).toHaveLength(1);
  });

  it('400 VALIDATION_FAILED for malformed JSON, naming the body', async () => {
    const res = await h
      .http()
      .post('/v1/accounts/acme/consumptions')
      .set('Authorization', 'Bearer test-superuser-key-0123456789abcdef')
      .set('Content-Type', 'application/json')
      .send('{"consumptionId": ')
      .expect(400);
    expect(res.body).toMatchObject({ error: 'VALIDATION_FAILED', details: [{ field: 'body' }] });
  });

  it('415 UNSUPPORTED_MEDIA_TYPE for a body that is not JSON at all, 400 for a bad account id in the path', async () => {
    const refused = await h.as().post('/v1/accounts/acme/consumptions').set('Content-Type', 'text/plain').send('hello').expect(415);
    expect(refused.body.error).toBe('UNSUPPORTED_MEDIA_TYPE');
    await h.as().post('/v1/accounts/acme/consumptions').set('Content-Type', 'application/x-www-form-urlencoded').send('credits=1').expect(415);
    expect((await h.as().get('/v1/accounts/bad%20id/balances').expect(400)).body.details[0].field).toBe('accountId');
  });

  it('routes as before the move to Fastify: any letter case, a trailing slash, long ids reach the pipe; an undecodable path is 400', async () => {
    const server = h.app.getHttpServer();
    const auth = { Authorization: 'Bearer test-superuser-key-0123456789abcdef' };
    await request(server).get('/V1/Accounts/acme/balances').set(auth).expect(200);
    await request(server).get('/v1/accounts/acme/balances/').set(auth).expect(200);
    expect(
      (
        await request(server)
          .get(`/v1/accounts/${'a'.repeat(500)}/balances`)
          .set(auth)
          .expect(400)
      ).body.details[0].field,
    ).toBe('accountId');
    const undecodable = await request(server).get('/v1/accounts/%E0%A4%A/balances').set(auth).expect(400);
    expect(undecodable.body).toMatchObject({ error: 'VALIDATION_FAILED', details: [{ field: 'body' }] });
    expect(undecodable.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('never answers 500 to whatever a client sends (property)', async () => {
    const paths = [
      '/v1/accounts',
      '/v1/accounts/acme/consumptions',
      '/v1/accounts/acme/consumptions/batch',
      '/v1/accounts/acme/refunds',
      '/v1/accounts/acme/grants',
      '/v1/accounts/acme/cycles',
    ];
    const before = (await h.as().get('/v1/accounts/acme/events?limit=1000')).body.items.length;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(fc.jsonValue(), fc.object(), fc.record({ items: fc.array(fc.jsonValue(), { maxLength: 5 }) })),
        async (path, body) => {
          const res = await h.as().post(path).set('Content-Type', 'application/json').send(JSON.stringify(body));
          expect(res.status).toBeLessThan(500);
          expect(typeof res.body.error === 'string' || res.status < 300).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    // Random bodies never form a valid command, so the audit trail is untouched.
    expect((await h.as().get('/v1/accounts/acme/events?limit=1000')).body.items.length).toBe(before);
  });

  it('serves the OpenAPI document at /docs', async () => {
    await h.http().get('/docs').expect(200);
    const doc = (await h.http().get('/docs/json').expect(200)).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/accounts',
        '/v1/accounts/{accountId}/consumptions',
        '/v1/accounts/{accountId}/consumptions/batch',
        '/v1/accounts/{accountId}/refunds',
        '/v1/accounts/{accountId}/grants',
        '/v1/accounts/{accountId}/cycles',
        '/v1/accounts/{accountId}/balances',
        '/v1/accounts/{accountId}/events',
        '/health',
      ]),
    );
  });

  it('answers /health without a key', async () => {
    const res = await h.http().get('/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { eventStore: { status: 'up' } } });
  });

  it('404 NOT_FOUND in the contract shape for unknown routes', async () => {
    expect((await h.as().get('/v2/nothing').expect(404)).body.error).toBe('NOT_FOUND');
  });
});
