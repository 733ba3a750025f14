import { parse } from 'csv-parse/sync';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import {
  FAILED_AUTH_WINDOW_SECONDS,
  HEADERS_TIMEOUT_MS,
  HeavyReadSlots,
  KEEP_ALIVE_TIMEOUT_MS,
  MAX_CONCURRENT_HEAVY_READS,
  MAX_CONNECTIONS,
  MAX_FAILED_AUTH_PER_ADDRESS,
  MAX_JSON_DEPTH,
  REQUEST_TIMEOUT_MS,
} from '@credit-ledger/http';
import { ADMIN_KEY, consumption, LedgerHarness, PLAN } from '../support/ledger-harness';

const RESERVED = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
const AUTH = { Authorization: `Bearer ${ADMIN_KEY}` };

describe('hardening: what a hostile or careless client found stays closed', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await LedgerHarness.start();
    await h.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
    await h.as().post('/v1/accounts', { accountId: 'other', name: 'Other', plan: PLAN }).expect(201);
  });
  afterAll(() => h.stop());

  describe('CSV export', () => {
    const tricky = ['line1\nline2', 'cr\rinside', 'a, "quoted", b', '=HYPERLINK("http://evil")', '+1+1', '-2+3', '@SUM(A1)', '\tTab', '\rCR', 'plain'];
    beforeAll(async () => {
      for (const [index, description] of tricky.entries()) {
        await h
          .as()
          .post('/v1/accounts/acme/consumptions', consumption(`csv-${index}`, { description, userId: index === 3 ? '=cmd|x' : 'ana' }))
          .expect(201);
      }
    });

    it('quotes every field with CR, LF, a quote or a comma (RFC 4180): an independent parser reads one row per movement', async () => {
      const res = await h.as().get('/v1/accounts/acme/history.csv?minPosition=12').expect(200);
      const rows: string[][] = parse(res.text, { relax_column_count: false });
      expect(rows).toHaveLength(1 + tricky.length);
      const descriptions = rows.slice(1).map((row) => row[3]);
      expect(descriptions).toContain('line1\nline2');
      expect(descriptions).toContain('cr\rinside');
      expect(descriptions).toContain('a, "quoted", b');
    });

    it('neutralises formula-leading cells with a leading apostrophe; credits stay numbers', async () => {
      const rows: string[][] = parse((await h.as().get('/v1/accounts/acme/history.csv').expect(200)).text);
      const cells = rows.slice(1).flatMap((row) => [row[1], row[2], row[3], row[5], row[6], row[7]]);
      for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      const descriptions = rows.slice(1).map((row) => row[3]);
      expect(descriptions).toEqual(expect.arrayContaining(['\'=HYPERLINK("http://evil")', "'+1+1", "'-2+3", "'@SUM(A1)", "'\tTab", "'\rCR", 'plain']));
      expect(rows.slice(1).map((row) => row[6])).toContain("'=cmd|x");
      for (const row of rows.slice(1)) expect(row[4]).toMatch(/^-?\d+$/);
    });
  });

  describe('client strings never reach an object prototype', () => {
    it.each(RESERVED)('%s as a credit type, feature or user id: 400, never 500', async (name) => {
      for (const field of ['creditType', 'feature', 'action', 'userId']) {
        const res = await h.as().post('/v1/accounts/acme/consumptions', consumption(`reserved-${field}-${name}`, { [field]: name }));
        expect([400]).toContain(res.status);
        expect(res.body.error).toBe('VALIDATION_FAILED');
      }
      const grant = await h.as().post('/v1/accounts/acme/grants', { grantId: `g-${name}`, creditType: name, credits: 1, reason: 'x' });
      expect(grant.status).toBe(400);
    });

    it('a reserved name in a batch refuses that item only', async () => {
      const res = await h
        .as()
        .post('/v1/accounts/acme/consumptions/batch', { items: [consumption('batch-ok'), consumption('batch-bad', { creditType: 'constructor' })] })
        .expect(200);
      expect(res.body.results.map((result: { status: number }) => result.status)).toEqual([201, 400]);
    });

    it('a reserved name as a plan or threshold key: 400, not silently dropped', async () => {
      const plan = await h.as().put('/v1/accounts/acme/plan', {
        planId: 'p2',
        creditTypes: { email: { allocation: 100 }, mobile: { allocation: 10 }, export: { allocation: 50 }, constructor: { allocation: 5 } },
      });
      expect(plan.status).toBe(400);
      const thresholds = await h.as().put('/v1/accounts/acme/thresholds', { creditTypes: { constructor: [{ kind: 'percent_used', value: 50 }] } });
      expect(thresholds.status).toBe(400);
      for (const name of RESERVED) {
        const res = await h.as().get(`/v1/accounts/acme/history?userId=${encodeURIComponent(name)}`);
        expect(res.status).toBe(400);
      }
    });
  });

  describe('body parsing', () => {
    it('a malformed gzip body without a key: 400, never 500', async () => {
      const res = await request(h.app.getHttpServer())
        .post('/v1/accounts/acme/consumptions')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip')
        .send(Buffer.from('this is not gzip at all'));
      expect([400, 415]).toContain(res.status);
      expect(res.body.error).toMatch(/^(VALIDATION_FAILED|UNSUPPORTED_MEDIA_TYPE)$/);
    });

    it('a well-formed gzip body is read', async () => {
      const res = await request(h.app.getHttpServer())
        .post('/v1/accounts/acme/consumptions')
        .set({ ...AUTH, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' })
        .serialize((body: Buffer) => body as never)
        .send(gzipSync(JSON.stringify(consumption('gzipped'))) as never);
      expect(res.body).toMatchObject({ consumptionId: 'gzipped' });
      expect(res.status).toBe(201);
    });

    it(`nesting deeper than ${MAX_JSON_DEPTH} levels: 400 VALIDATION_FAILED (2,000 and 100,000 levels included)`, async () => {
      for (const depth of [MAX_JSON_DEPTH + 1, 2_000, 100_000]) {
        const body = `${'['.repeat(depth)}${']'.repeat(depth)}`;
        const res = await h.as().post('/v1/accounts/acme/consumptions').set('Content-Type', 'application/json').send(body);
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('VALIDATION_FAILED');
      }
      const nested = consumption('deep', { description: JSON.parse(`${'{"a":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}`) });
      expect((await h.as().post('/v1/accounts/acme/consumptions', nested)).body.details[0].reason).toMatch(/nested deeper/);
    });

    it('a JSON syntax error: a stable message with the position, not the parser’s words', async () => {
      const res = await h.as().post('/v1/accounts/acme/consumptions').set('Content-Type', 'application/json').send('{"consumptionId": }').expect(400);
      expect(res.body.message).toBe('request body is not valid JSON (at character 18)');
      const truncated = await h.as().post('/v1/accounts/acme/consumptions').set('Content-Type', 'application/json').send('{"a":').expect(400);
      expect(truncated.body.message).toBe('request body is not valid JSON (at character 5)');
    });

    it('a type error is reported as such: credits "1" is not an integer (not "too large")', async () => {
      const res = await h
        .as()
        .post('/v1/accounts/acme/consumptions', consumption('typed', { credits: '1' }))
        .expect(400);
      expect(res.body.details).toEqual([{ field: 'credits', reason: expect.stringMatching(/integer/) }]);
      expect(res.body.message).not.toMatch(/greater/);
    });
  });

  describe('dates', () => {
    it.each([
      '2026-02-30T00:00:00Z',
      '0000-01-01T00:00:00Z',
      '1969-12-31T23:59:59Z',
      '2026-13-01T00:00:00Z',
      '2026-11-01T24:00:00Z',
      '2026-11-01T10:00:00+25:00',
    ])('%s is refused wherever an instant enters', async (instant) => {
      expect((await h.as().post('/v1/accounts/acme/consumptions', consumption(`date-${instant}`, { occurredAt: instant }))).status).toBe(400);
      expect((await h.as().get(`/v1/accounts/acme/history?from=${encodeURIComponent(instant)}`)).status).toBe(400);
      expect((await h.as().get(`/v1/accounts/acme/balances?asOf=${encodeURIComponent(instant)}`)).status).toBe(400);
      expect(
        (await h.as().post('/v1/accounts/acme/grants', { grantId: `gd-${instant}`, creditType: 'email', credits: 1, reason: 'x', expiresAt: instant })).status,
      ).toBe(400);
    });

    it('a real leap day is accepted', async () => {
      await h.as().get('/v1/accounts/acme/history?from=2024-02-29T00:00:00Z').expect(200);
    });
  });

  describe('unknown accounts', () => {
    it.each([
      'balances',
      'balances?asOf=2026-11-01T00:00:00Z',
      'events',
      'cycles',
      'alerts',
      'history',
      'history.csv',
      'usage/by-user',
      'usage/by-feature',
      'usage/series',
      'filters',
    ])('GET %s of a never-opened account: 404 ACCOUNT_NOT_FOUND', async (path) => {
      const res = await h.as().get(`/v1/accounts/never-opened/${path}`).expect(404);
      expect(res.body.error).toBe('ACCOUNT_NOT_FOUND');
    });
  });

  describe('identifiers', () => {
    it.each(['a\u200bb', 'a\u202eb', 'a\u2066b', '\ufeffana'])('%j as a user id: 400', async (userId) => {
      expect((await h.as().post('/v1/accounts/acme/consumptions', consumption(`id-${Buffer.from(userId).toString('hex')}`, { userId }))).status).toBe(400);
    });

    it('zero-width and bidi characters are allowed in descriptions; a lone surrogate is refused everywhere', async () => {
      await h
        .as()
        .post('/v1/accounts/acme/consumptions', consumption('zw-desc', { description: 'a\u200bb \u202e' }))
        .expect(201);
      const lone = JSON.stringify(consumption('lone-desc', { description: 'x' })).replace('"x"', '"\\ud800"');
      const res = await h.as().post('/v1/accounts/acme/consumptions').set('Content-Type', 'application/json').send(lone).expect(400);
      expect(res.body.details).toEqual([{ field: 'body.description', reason: expect.stringMatching(/surrogate/) }]);
    });

    it('user ids are NFC-normalised: composed and decomposed are one member', async () => {
      await h
        .as()
        .post('/v1/accounts/other/consumptions', consumption('nfc-1', { userId: 'Jose\u0301' }))
        .expect(201);
      const second = await h
        .as()
        .post('/v1/accounts/other/consumptions', consumption('nfc-2', { userId: 'Jos\u00e9' }))
        .expect(201);
      const events = (await h.as().get('/v1/accounts/other/events').expect(200)).body.items;
      expect(
        events.filter((event: { type: string }) => event.type === 'CreditConsumed').map((event: { data: { userId: string } }) => event.data.userId),
      ).toEqual(['Jos\u00e9', 'Jos\u00e9']);
      const history = await h
        .as()
        // Read your own writes: the read models have applied the second consumption.
        .get(`/v1/accounts/other/history?minPosition=${second.body.position}&userId=${encodeURIComponent('Jose\u0301')}`)
        .expect(200);
      expect(history.body.items).toHaveLength(2);
    });
  });

  describe('history cursors', () => {
    it("another account's cursor, or a cursor for other filters: 400 on the cursor", async () => {
      const first = await h.as().get('/v1/accounts/acme/history?limit=1').expect(200);
      const cursor = first.body.nextCursor as string;
      expect(cursor).toEqual(expect.any(String));
      await h.as().get(`/v1/accounts/acme/history?limit=1&cursor=${cursor}`).expect(200);
      const foreign = await h.as().get(`/v1/accounts/other/history?limit=1&cursor=${cursor}`).expect(400);
      expect(foreign.body.details[0].field).toBe('cursor');
      await h.as().get(`/v1/accounts/acme/history?limit=1&feature=people_search&cursor=${cursor}`).expect(400);
    });
  });

  describe('headers and server limits', () => {
    it('no X-Powered-By; nosniff, no framing and a CSP on the API and /docs', async () => {
      for (const res of [await h.as().get('/v1/accounts/acme/balances').expect(200), await h.http().get('/docs').expect(200), await h.http().get('/health')]) {
        expect(res.headers['x-powered-by']).toBeUndefined();
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['x-frame-options']).toBe('DENY');
        expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      }
    });

    it('Cache-Control: no-store on authenticated JSON and CSV', async () => {
      expect((await h.as().get('/v1/accounts/acme/balances').expect(200)).headers['cache-control']).toBe('no-store');
      expect((await h.as().get('/v1/accounts/acme/history.csv').expect(200)).headers['cache-control']).toBe('no-store');
    });

    it('the server runs with the named timeouts and connection cap, not Node’s defaults', () => {
      const server = h.app.getHttpServer();
      expect(server.headersTimeout).toBe(HEADERS_TIMEOUT_MS);
      expect(server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
      expect(server.keepAliveTimeout).toBe(KEEP_ALIVE_TIMEOUT_MS);
      expect(server.maxConnections).toBe(MAX_CONNECTIONS);
    });
  });

  describe('heavy reads', () => {
    it(`past ${MAX_CONCURRENT_HEAVY_READS} at once: 503 TOO_MANY_HEAVY_READS with Retry-After; /health still answers`, async () => {
      const slots = h.app.get(HeavyReadSlots);
      // Exports that wait for a position the read models never reach hold their slot for the whole wait.
      const held = Array.from({ length: MAX_CONCURRENT_HEAVY_READS }, () =>
        h
          .as()
          .get('/v1/accounts/acme/history.csv?minPosition=999999999')
          .then((res) => res),
      );
      while (slots.inUse < MAX_CONCURRENT_HEAVY_READS) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const path of ['balances?asOf=2026-11-10T00:00:00Z', 'history.csv', 'usage/series']) {
        const refused = await h.as().get(`/v1/accounts/acme/${path}`).expect(503);
        expect(refused.body.error).toBe('TOO_MANY_HEAVY_READS');
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      }
      await h.http().get('/health').expect(200);
      await h.as().get('/v1/accounts/acme/balances').expect(200); // balances now are not a heavy read
      await Promise.all(held);
      expect(slots.inUse).toBe(0);
      await h.as().get('/v1/accounts/acme/balances?asOf=2026-11-10T12:00:00Z').expect(200);
    });
  });
});

describe('hardening: request limits', () => {
  it(`failed authentications: past ${MAX_FAILED_AUTH_PER_ADDRESS} from one address, 429 with Retry-After, even with the right key`, async () => {
    const h = await LedgerHarness.start();
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt <= MAX_FAILED_AUTH_PER_ADDRESS + 5; attempt++) {
        statuses.push((await h.as(`wrong-key-${attempt}`).get('/v1/accounts/acme/balances')).status);
      }
      expect(statuses.slice(0, MAX_FAILED_AUTH_PER_ADDRESS)).toEqual(Array(MAX_FAILED_AUTH_PER_ADDRESS).fill(401));
      expect(statuses.slice(MAX_FAILED_AUTH_PER_ADDRESS)).toEqual(Array(6).fill(429));
      const blocked = await h.as().get('/v1/accounts/acme/balances').expect(429);
      expect(blocked.body.error).toBe('TOO_MANY_FAILED_AUTHENTICATIONS');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(FAILED_AUTH_WINDOW_SECONDS);
      await h.http().get('/health').expect(200); // public routes are not counted
    } finally {
      await h.stop();
    }
  });

  it('a per-key limit, off by default, answers 429 RATE_LIMITED past the configured requests per minute', async () => {
    const h = await LedgerHarness.start({ config: { rateLimitPerKeyPerMinute: 3 } });
    try {
      await h.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
      await h.as().get('/v1/accounts/acme/balances').expect(200);
      await h.as().get('/v1/accounts/acme/balances').expect(200);
      const limited = await h.as().get('/v1/accounts/acme/balances').expect(429);
      expect(limited.body.error).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await h.stop();
    }
    const unlimited = await LedgerHarness.start();
    try {
      for (let index = 0; index < 10; index++) await unlimited.http().get('/health').expect(200);
      for (let index = 0; index < 10; index++) await unlimited.as().get('/v1/accounts/none/balances').expect(404);
    } finally {
      await unlimited.stop();
    }
  });
});
