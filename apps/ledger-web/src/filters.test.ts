import { describe, expect, it } from 'vitest';
import { bucketFor, DEFAULT_FILTERS, filtersToParams, type HistoryFilters, parseFilters, resolveRange } from './filters';
import { historyQuery } from './history-data';

const parse = (query: string) => parseFilters(new URLSearchParams(query));

describe('filters ↔ URL', () => {
  it('an empty query is the defaults, and the defaults write an empty query', () => {
    expect(parse('')).toEqual({ filters: DEFAULT_FILTERS, problems: [] });
    expect(filtersToParams(DEFAULT_FILTERS).toString()).toBe('');
  });

  it('round-trips every filter through the URL', () => {
    const f: HistoryFilters = {
      preset: 'custom',
      from: '2026-11-01',
      to: '2026-11-15',
      user: 'ana@acme.test',
      feature: 'waterfall',
      action: 'waterfall_email',
      creditType: 'email',
      refunds: true,
      holds: true,
      groupBy: 'action',
      tz: 'browser',
    };
    const query = filtersToParams(f, 'acme');
    expect(query.get('account')).toBe('acme');
    expect(parseFilters(query)).toEqual({ filters: f, problems: [] });
    const related = { ...DEFAULT_FILTERS, consumptionId: 'c-42', dataKey: 'contact_9' };
    expect(parseFilters(filtersToParams(related)).filters).toEqual(related);
  });

  it('explains each bad value and falls back to its default, keeping the good ones', () => {
    const { filters, problems } = parse('preset=fortnight&feature=Bad%20Feature&creditType=email&refunds=maybe&groupBy=colour&tz=mars&color=red');
    expect(filters).toEqual({ ...DEFAULT_FILTERS, creditType: 'email' });
    expect(problems).toHaveLength(6);
    expect(problems.join(' ')).toContain('“preset” must be one of today, 7d, 30d, cycle, previous-cycle, custom');
    expect(problems.join(' ')).toContain('“color” is not a filter of this page');
  });

  it('“Show holds” is holds=1 in the URL, absent by default, and asks the history API for holds', () => {
    const withHolds = { ...DEFAULT_FILTERS, holds: true };
    expect(filtersToParams(withHolds).toString()).toBe('holds=1');
    expect(parse('holds=1')).toEqual({ filters: withHolds, problems: [] });
    expect(parse('holds=0')).toEqual({ filters: DEFAULT_FILTERS, problems: [] });
    expect(parse('holds=yes&refunds=1')).toEqual({
      filters: { ...DEFAULT_FILTERS, refunds: true },
      problems: ['“holds” must be 1 or 0; it was ignored.'],
    });
    // Toggling it on and off again comes back to the same link.
    const start = new URLSearchParams('preset=cycle&feature=waterfall&refunds=1');
    const on = filtersToParams({ ...parseFilters(start).filters, holds: true });
    expect(on.get('holds')).toBe('1');
    expect(filtersToParams({ ...parseFilters(on).filters, holds: false }).toString()).toBe(start.toString());
    const range = { from: '2026-11-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', bucket: 'day' as const };
    expect(historyQuery(withHolds, range, undefined)).toMatchObject({ includeHolds: 'true', includeRefunds: 'false' });
    expect(historyQuery(DEFAULT_FILTERS, range, undefined)).not.toHaveProperty('includeHolds');
  });

  it('refuses impossible custom ranges with a message', () => {
    expect(parse('preset=custom&from=2026-02-30&to=2026-03-02').problems[0]).toContain('real dates');
    expect(parse('preset=custom&from=2026-03-05&to=2026-03-02').problems[0]).toContain('starts (2026-03-05) after it ends');
    expect(parse('preset=custom&from=2000-01-01&to=2026-03-02').problems[0]).toContain('at most');
    expect(parse('preset=custom&from=2026-03-05&to=2026-03-02').filters.preset).toBe('30d');
  });

  it('an action needs its feature; user ids refuse invisible characters', () => {
    expect(parse('action=email_reveal')).toEqual({ filters: DEFAULT_FILTERS, problems: [expect.stringContaining('without “feature”')] });
    expect(parse('user=ana%E2%80%8B').problems[0]).toContain('team member id');
  });
});

describe('ranges of the presets', () => {
  const cycle = { startedAt: '2026-11-01T04:00:00.000Z', endsAt: '2026-12-01T05:00:00.000Z' };
  const previous = { startedAt: '2026-10-01T04:00:00.000Z', endsAt: '2026-11-01T04:00:00.000Z' };
  const now = Date.parse('2026-11-20T15:00:00Z');
  const range = (f: Partial<HistoryFilters>, tz = 'America/New_York') => resolveRange({ ...DEFAULT_FILTERS, ...f }, now, tz, cycle, previous);

  it('whole local days in the zone, across a DST change', () => {
    expect(range({ preset: 'today' })).toEqual({ from: '2026-11-20T05:00:00.000Z', to: '2026-11-21T05:00:00.000Z', bucket: 'day' });
    // Oct 22 is still summer time in New York (UTC-4); Nov 20 is winter time (UTC-5).
    expect(range({ preset: '30d' })).toEqual({ from: '2026-10-22T04:00:00.000Z', to: '2026-11-21T05:00:00.000Z', bucket: 'day' });
    expect(range({ preset: '7d' }, 'Asia/Kolkata')).toEqual({ from: '2026-11-13T18:30:00.000Z', to: '2026-11-20T18:30:00.000Z', bucket: 'day' });
  });

  it('this and the previous cycle are the cycles’ own bounds; custom days are inclusive', () => {
    expect(range({ preset: 'cycle' })).toEqual({ from: cycle.startedAt, to: cycle.endsAt, bucket: 'day' });
    expect(range({ preset: 'previous-cycle' })).toEqual({ from: previous.startedAt, to: previous.endsAt, bucket: 'day' });
    expect(range({ preset: 'custom', from: '2026-01-01', to: '2026-06-30' }, 'UTC')).toEqual({
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-07-01T00:00:00.000Z',
      bucket: 'week',
    });
  });

  it('picks day, week or month buckets from the length of the range', () => {
    const day = 86_400_000;
    expect(bucketFor(0, 45 * day)).toBe('day');
    expect(bucketFor(0, 46 * day)).toBe('week');
    expect(bucketFor(0, 215 * day)).toBe('week');
    expect(bucketFor(0, 400 * day)).toBe('month');
  });
});
