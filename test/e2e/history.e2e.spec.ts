import { parse } from 'csv-parse/sync';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { READ_MODEL_FILE_NAME } from '@credit-ledger/projections';
import { consumption, LedgerHarness, PLAN } from '../support/ledger-harness';

/**
 * Hand-computed expectations over one small, fully known account, on each store: the read models
 * in SQLite next to the embedded log, or in the PostgreSQL database of the PostgreSQL log. The
 * expectations are the same literals for both, so both give the same HTTP answers.
 */
/** The account every read-model test reads: six consumptions (one already purchased) and a refund. Returns the head position. */
async function givenHistoryAccount(h: LedgerHarness): Promise<number> {
  let head = 0;
  h.clock.set('2026-11-01T00:00:00.000Z');
  await h.as().post('/v1/accounts', { accountId: 'hist', name: 'History', plan: PLAN }).expect(201);
  h.clock.set('2026-11-10T12:00:00.000Z');
  const c = async (id: string, extra: Record<string, unknown>) => {
    const res = await h.as().post('/v1/accounts/hist/consumptions', consumption(id, extra)).expect(201);
    head = Math.max(head, res.body.position);
  };
  await c('c1', { userId: 'ana', occurredAt: '2026-11-02T10:00:00Z', description: 'Jane "JD" Doe, VP' });
  await c('c2', { userId: 'ben', occurredAt: '2026-11-02T23:30:00Z' });
  await c('c3', { userId: 'ana', creditType: 'mobile', action: 'mobile_reveal', credits: 2, occurredAt: '2026-11-03T01:15:00Z', dataRequested: 'phone' });
  await c('c4', {
    userId: 'cat',
    creditType: 'export',
    feature: 'exports',
    action: 'csv_export',
    credits: 5,
    occurredAt: '2026-11-05T12:00:00Z',
    description: 'line one\nline two',
  });
  await c('c5', { userId: 'ana', feature: 'waterfall', action: 'email', dataKey: 'k', occurredAt: '2026-11-06T08:00:00Z' });
  await c('c6', { userId: 'ben', feature: 'waterfall', action: 'email', dataKey: 'k', occurredAt: '2026-11-06T09:00:00Z' });
  const r = await h.as().post('/v1/accounts/hist/refunds', { refundId: 'r1', consumptionId: 'c4', credits: 2, reason: 'export failed' }).expect(201);
  return r.body.position;
}

describe.each(['sqlite', 'postgres'] as const)('credit-usage history, usage, series and filters (read models over HTTP) on %s', (store) => {
  let h: LedgerHarness;
  let head = 0;
  const keys: Record<string, string> = {};
  const get = (path: string, key?: string) => h.as(key).get(path);
  const q = (path: string, params: Record<string, string | number> = {}) =>
    `/v1/accounts/hist/${path}?${new URLSearchParams(Object.entries({ minPosition: head, ...params }).map(([k, v]): [string, string] => [k, String(v)])).toString()}`;

  beforeAll(async () => {
    h = await LedgerHarness.start({ store });
    head = await givenHistoryAccount(h);
    keys.member = await h.createKey('hist', 'member', 'ana');
    keys.analyst = await h.createKey('hist', 'analyst');
    keys.service = await h.createKey('hist', 'service');
  });
  afterAll(() => h.stop());

  const ids = (items: { consumptionId: string | null; refundId: string | null }[]): string[] => items.map((i) => i.refundId ?? i.consumptionId ?? '');

  it('lists every movement newest first, with the table columns', async () => {
    const res = await get(q('history')).expect(200);
    expect(ids(res.body.items)).toEqual(['r1', 'c6', 'c5', 'c4', 'c3', 'c2', 'c1']);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items[0]).toMatchObject({
      kind: 'refund',
      credits: -2,
      userId: 'cat',
      feature: 'exports',
      action: 'csv_export',
      description: 'export failed',
      consumptionId: 'c4',
      creditType: 'export',
    });
    expect(res.body.items[1]).toMatchObject({ kind: 'consumption', credits: 0, alreadyPurchased: true, userId: 'ben' });
    expect(res.body.items[4]).toMatchObject({
      occurredAt: '2026-11-03T01:15:00.000Z',
      recordedAt: '2026-11-10T12:00:00.000Z',
      dataRequested: 'phone',
      credits: 2,
    });
  });

  it('filters by user, feature, action, credit type, refunds and time (to exclusive), and combinations', async () => {
    const cases: [Record<string, string>, string[]][] = [
      [{ userId: 'ana' }, ['c5', 'c3', 'c1']],
      [{ feature: 'people_search' }, ['c3', 'c2', 'c1']],
      [{ action: 'email_reveal' }, ['c2', 'c1']],
      [{ feature: 'people_search', action: 'email_reveal', userId: 'ben' }, ['c2']],
      [{ creditType: 'mobile' }, ['c3']],
      [{ includeRefunds: 'false' }, ['c6', 'c5', 'c4', 'c3', 'c2', 'c1']],
      [{ creditType: 'export' }, ['r1', 'c4']],
      [{ creditType: 'export', includeRefunds: 'false' }, ['c4']],
      [{ from: '2026-11-03T00:00:00Z', to: '2026-11-06T08:00:00Z' }, ['c4', 'c3']],
      [{ from: '2026-11-02T10:00:00Z', to: '2026-11-02T10:00:00.001Z' }, ['c1']],
      [{ userId: 'ana', from: '2026-11-03T00:00:00Z' }, ['c5', 'c3']],
      [{ userId: 'nobody' }, []],
    ];
    for (const [params, expected] of cases) {
      const res = await get(q('history', params)).expect(200);
      expect({ params, got: ids(res.body.items) }).toEqual({ params, got: expected });
    }
  });

  it('pages with a keyset cursor: the pages add up to the whole list', async () => {
    const all: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const params: Record<string, string | number> = cursor ? { limit: 2, cursor } : { limit: 2 };
      const res: { body: { items: { consumptionId: string | null; refundId: string | null }[]; nextCursor: string | null } } = await get(
        q('history', params),
      ).expect(200);
      all.push(...ids(res.body.items));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(all).toEqual(['r1', 'c6', 'c5', 'c4', 'c3', 'c2', 'c1']);
    expect(pages).toBe(4);
  });

  it('refuses bad filters with 400 and the field', async () => {
    const bad: [Record<string, string>, string][] = [
      [{ limit: '0' }, 'limit'],
      [{ limit: '501' }, 'limit'],
      [{ cursor: 'not-a-cursor' }, 'cursor'],
      [{ from: '2026-11-05T00:00:00Z', to: '2026-11-01T00:00:00Z' }, 'from'],
      [{ from: 'last week' }, 'from'],
      [{ includeRefunds: 'maybe' }, 'includeRefunds'],
      [{ feature: 'Bad Feature' }, 'feature'],
    ];
    for (const [params, field] of bad) {
      const res = await get(q('history', params)).expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect((await get(q('usage/series', { bucket: 'hour' })).expect(400)).body.details[0].field).toBe('bucket');
    expect((await get(q('usage/series', { groupBy: 'planet' })).expect(400)).body.details[0].field).toBe('groupBy');
    expect((await get(q('usage/series', { timezone: 'Mars/Olympus' })).expect(400)).body.details[0].field).toBe('timezone');
    expect((await get(q('usage/series', { bucket: 'day', from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' })).expect(400)).body.details[0].field).toBe(
      'bucket',
    );
  });

  it('exports the same rows as CSV (RFC 4180, header row), parsed back equal to the JSON', async () => {
    const json = (await get(q('history')).expect(200)).body.items;
    const res = await get(q('history.csv')).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.text).toContain('\r\n');
    const rows = parse(res.text, { columns: true }) as Record<string, string>[];
    // New columns only ever go at the end: Units after the original eight.
    expect(Object.keys(rows[0])).toEqual(['Date', 'Feature', 'Action', 'Description', 'Credits', 'Data requested', 'User', 'Credit type', 'Units']);
    expect(rows).toEqual(
      json.map((i: Record<string, unknown>) => ({
        Date: i.occurredAt,
        Feature: i.feature ?? '',
        Action: i.action ?? '',
        Description: i.description ?? '',
        Credits: String(i.credits),
        'Data requested': i.dataRequested ?? '',
        User: i.userId ?? '',
        'Credit type': i.creditType ?? '',
        Units: i.units === null ? '' : String(i.units),
      })),
    );
    expect(rows.find((r) => r.Description.includes('"JD"'))).toBeDefined();
    expect(rows.find((r) => r.Description === 'line one\nline two')).toBeDefined();
    const filtered = parse((await get(q('history.csv', { userId: 'ana', includeRefunds: 'false' })).expect(200)).text, { columns: true }) as unknown[];
    expect(filtered).toHaveLength(3);
  });

  it('sums usage per user and per feature, exactly even for partial days', async () => {
    const month = { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' };
    expect((await get(q('usage/by-user', month)).expect(200)).body).toMatchObject({
      items: [
        { userId: 'ana', consumed: 4, refunded: 0, net: 4, count: 3 },
        { userId: 'cat', consumed: 5, refunded: 2, net: 3, count: 1 },
        { userId: 'ben', consumed: 1, refunded: 0, net: 1, count: 2 },
      ],
      totals: { consumed: 10, refunded: 2, net: 8, count: 6 },
    });
    expect((await get(q('usage/by-feature', month)).expect(200)).body.items).toEqual([
      { feature: 'exports', action: 'csv_export', consumed: 5, refunded: 2, net: 3, count: 1, distinctUsers: 1 },
      { feature: 'people_search', action: 'email_reveal', consumed: 2, refunded: 0, net: 2, count: 2, distinctUsers: 2 },
      { feature: 'people_search', action: 'mobile_reveal', consumed: 2, refunded: 0, net: 2, count: 1, distinctUsers: 1 },
      { feature: 'waterfall', action: 'email', consumed: 1, refunded: 0, net: 1, count: 2, distinctUsers: 2 },
    ]);
    const partial = { from: '2026-11-02T12:00:00Z', to: '2026-11-05T12:00:00Z' };
    expect((await get(q('usage/by-user', partial)).expect(200)).body.items).toEqual([
      { userId: 'ana', consumed: 2, refunded: 0, net: 2, count: 1 },
      { userId: 'ben', consumed: 1, refunded: 0, net: 1, count: 1 },
    ]);
    expect((await get(q('usage/by-user', { ...month, creditType: 'email' })).expect(200)).body.totals).toEqual({ consumed: 3, refunded: 0, net: 3, count: 4 });
  });

  it('draws trend series per bucket in a time zone, with empty buckets as zeros', async () => {
    const utc = (await get(q('usage/series', { from: '2026-11-02T00:00:00Z', to: '2026-11-07T00:00:00Z', groupBy: 'creditType' })).expect(200)).body;
    expect(utc.buckets.map((b: { label: string }) => b.label)).toEqual(['2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06']);
    const net = (key: string, body = utc) => body.series.find((s: { key: string }) => s.key === key).points.map((p: { net: number }) => p.net);
    expect(net('email')).toEqual([2, 0, 0, 0, 1]);
    expect(net('mobile')).toEqual([0, 2, 0, 0, 0]);
    expect(net('export')).toEqual([0, 0, 0, 5, 0]);

    // New York (UTC-5 in November): c2 and c3 happened on the evening of Nov 2 local time.
    const ny = (
      await get(q('usage/series', { from: '2026-11-02T05:00:00Z', to: '2026-11-04T05:00:00Z', groupBy: 'user', timezone: 'America/New_York' })).expect(200)
    ).body;
    expect(ny.buckets.map((b: { label: string }) => b.label)).toEqual(['2026-11-02', '2026-11-03']);
    expect(net('ana', ny)).toEqual([3, 0]);
    expect(net('ben', ny)).toEqual([1, 0]);

    // Kolkata (UTC+5:30): buckets start at 18:30Z, inside UTC hours — the exact path.
    const ist = (
      await get(q('usage/series', { from: '2026-11-01T18:30:00Z', to: '2026-11-03T18:30:00Z', groupBy: 'creditType', timezone: 'Asia/Kolkata' })).expect(200)
    ).body;
    expect(ist.buckets.map((b: { label: string }) => b.label)).toEqual(['2026-11-02', '2026-11-03']);
    expect(net('email', ist)).toEqual([1, 1]);
    expect(net('mobile', ist)).toEqual([0, 2]);

    const weekly = (await get(q('usage/series', { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', bucket: 'week', groupBy: 'feature' })).expect(200))
      .body;
    expect(weekly.buckets[0]).toMatchObject({ label: '2026-10-26', start: '2026-11-01T00:00:00.000Z' });
    expect(weekly.totals).toEqual({ consumed: 10, refunded: 2, net: 8, count: 6 });
    const monthly = (await get(q('usage/series', { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', bucket: 'month', groupBy: 'action' })).expect(200))
      .body;
    expect(monthly.buckets).toHaveLength(1);
    expect(net('csv_export', monthly)).toEqual([3]);
  });

  it('offers as filters only what has usage', async () => {
    expect((await get(q('filters')).expect(200)).body).toEqual({
      accountId: 'hist',
      features: [
        { feature: 'exports', actions: ['csv_export'] },
        { feature: 'people_search', actions: ['email_reveal', 'mobile_reveal'] },
        { feature: 'waterfall', actions: ['email'] },
      ],
      actions: ['csv_export', 'email', 'email_reveal', 'mobile_reveal'],
      users: ['ana', 'ben', 'cat'],
      creditTypes: ['email', 'export', 'mobile'],
    });
  });

  it('members see only their own rows and totals; asking for another user is 403', async () => {
    expect(ids((await get(q('history'), keys.member).expect(200)).body.items)).toEqual(['c5', 'c3', 'c1']);
    expect((await get(q('history', { userId: 'ben' }), keys.member).expect(403)).body.error).toBe('FORBIDDEN');
    expect((await get(q('usage/by-user', { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' }), keys.member).expect(200)).body.items).toEqual([
      { userId: 'ana', consumed: 4, refunded: 0, net: 4, count: 3 },
    ]);
    expect((await get(q('usage/by-feature', { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z' }), keys.member).expect(200)).body.totals).toEqual({
      consumed: 4,
      refunded: 0,
      net: 4,
      count: 3,
    });
    expect((await get(q('filters'), keys.member).expect(200)).body.users).toEqual(['ana']);
    const csv = parse((await get(q('history.csv'), keys.member).expect(200)).text, { columns: true }) as { User: string }[];
    expect(csv.every((r) => r.User === 'ana')).toBe(true);
  });

  it('role matrix of the read endpoints', async () => {
    for (const path of ['history', 'history.csv', 'usage/by-user', 'usage/by-feature', 'usage/series', 'filters']) {
      await get(q(path), keys.analyst).expect(200);
      await get(q(path), keys.member).expect(200);
      await get(q(path)).expect(200);
      expect((await get(q(path), keys.service).expect(403)).body.error).toBe('FORBIDDEN');
      await h.http().get(q(path)).expect(401);
    }
  });

  it('waits for minPosition, and answers 503 READ_MODELS_BEHIND when the read models do not get there', async () => {
    const res = await h
      .as()
      .post('/v1/accounts/hist/consumptions', consumption('late', { userId: 'dan' }))
      .expect(201);
    const items = (await get(`/v1/accounts/hist/history?minPosition=${res.body.position}&userId=dan`).expect(200)).body.items;
    expect(items).toHaveLength(1);
    const behind = await get(`/v1/accounts/hist/history?minPosition=${res.body.position + 1000}`).expect(503);
    expect(behind.body).toMatchObject({ error: 'READ_MODELS_BEHIND', details: { minPosition: res.body.position + 1000 } });
  }, 15_000);

  it('reports the projections in /health and their lag in /metrics', async () => {
    const health = (await h.http().get('/health').expect(200)).body;
    expect(health.info.projections).toMatchObject({ status: 'up', lag: 0 });
    const metrics = (await h.http().get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/ledger_projection_lag_events 0/);
    expect(metrics).toMatch(/ledger_projection_checkpoint\{projection="history",version="3",status="live"\} \d+/);
  });

  it('keeps the read models in the store it runs on', () => {
    expect(existsSync(join(h.dataDir, READ_MODEL_FILE_NAME))).toBe(store === 'sqlite');
  });
});

describe('the same HTTP answers from the read models on SQLite and on PostgreSQL', () => {
  const harnesses: LedgerHarness[] = [];
  let head = 0;
  beforeAll(async () => {
    for (const store of ['sqlite', 'postgres'] as const) {
      const h = await LedgerHarness.start({ store });
      head = await givenHistoryAccount(h);
      harnesses.push(h);
    }
  });
  afterAll(() => Promise.all(harnesses.map((h) => h.stop())));

  it('every read endpoint, with filters, cursors, partial days and time zones, answers byte for byte the same (event ids aside)', async () => {
    const paths = [
      'history',
      'history?limit=3',
      'history?userId=ana&includeRefunds=false',
      'history?feature=people_search&action=email_reveal',
      'history?creditType=export&from=2026-11-03T00:00:00Z&to=2026-11-06T08:00:00Z',
      'history.csv',
      'history.csv?userId=ben',
      'usage/by-user?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z',
      'usage/by-user?from=2026-11-02T12:00:00Z&to=2026-11-05T12:00:00Z&creditType=email',
      'usage/by-feature?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z',
      'usage/by-feature?from=2026-11-02T12:00:00Z&to=2026-11-06T08:30:00Z&userId=ana',
      'usage/series?from=2026-11-01T18:30:00Z&to=2026-11-07T18:30:00Z&groupBy=user&timezone=Asia/Kolkata',
      'usage/series?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&bucket=week&groupBy=action&timezone=America/New_York',
      'filters',
    ];
    // Event ids are random per server; everything else comes from the same commands and clock.
    const answer = async (h: LedgerHarness, path: string) => {
      const res = await h
        .as()
        .get(`/v1/accounts/hist/${path}${path.includes('?') ? '&' : '?'}minPosition=${head}`)
        .expect(200);
      return path.startsWith('history.csv') ? res.text : JSON.stringify(res.body, (k, v) => (k === 'eventId' ? undefined : v));
    };
    for (const path of paths) {
      const [onSqlite, onPostgres] = await Promise.all(harnesses.map((h) => answer(h, path)));
      expect({ path, onPostgres }).toEqual({ path, onPostgres: onSqlite });
    }
    // The cursor walk gives the same pages too.
    const walk = async (h: LedgerHarness) => {
      const pages: string[] = [];
      for (let cursor: string | null = ''; cursor !== null;) {
        const body: { items: { rowId: number }[]; nextCursor: string | null } = (
          await h
            .as()
            .get(`/v1/accounts/hist/history?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
            .expect(200)
        ).body;
        pages.push(body.items.map((i) => i.rowId).join(','));
        cursor = body.nextCursor;
      }
      return pages;
    };
    const [sqlitePages, postgresPages] = await Promise.all(harnesses.map(walk));
    expect(postgresPages).toEqual(sqlitePages);
    expect(sqlitePages).toHaveLength(4);
  });
});

describe('balances as of an instant', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await LedgerHarness.start();
  });
  afterAll(() => h.stop());

  it('folds the events recorded up to that instant; a backdated event counts from when it was recorded', async () => {
    h.clock.set('2026-11-01T10:00:00.000Z');
    await h.as().post('/v1/accounts', { accountId: 'asof', name: 'As of', plan: PLAN }).expect(201);
    h.clock.set('2026-11-02T10:00:00.000Z');
    await h
      .as()
      .post('/v1/accounts/asof/consumptions', consumption('a1', { credits: 10 }))
      .expect(201);
    h.clock.set('2026-11-03T10:00:00.000Z');
    await h
      .as()
      .post('/v1/accounts/asof/consumptions', consumption('a2', { credits: 5, occurredAt: '2026-11-01T12:00:00Z' }))
      .expect(201);
    const email = async (asOf: string) =>
      (await h.as().get(`/v1/accounts/asof/balances?asOf=${asOf}`).expect(200)).body.balances.find((b: { creditType: string }) => b.creditType === 'email');
    expect((await email('2026-11-01T11:00:00Z')).remaining).toBe(100);
    expect((await email('2026-11-02T10:00:00Z')).remaining).toBe(90);
    expect((await email('2026-11-02T23:00:00Z')).remaining).toBe(90); // a2 (occurred Nov 1) was recorded Nov 3
    expect((await email('2026-11-03T10:00:00Z')).remaining).toBe(85);
    expect((await h.as().get('/v1/accounts/asof/balances?asOf=2026-10-01T00:00:00Z').expect(404)).body.error).toBe('ACCOUNT_NOT_FOUND');
    await h.as().get('/v1/accounts/asof/balances?asOf=yesterday').expect(400);
  });
});
