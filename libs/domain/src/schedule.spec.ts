import {
  CycleSchedule,
  cycleIdAt,
  cycleLabel,
  cycleStartAtOrBefore,
  nextCycleBoundaryAfter,
  nthBoundaryAfter,
  scheduleProblem,
  startOfLocalDay,
} from './schedule';

const date = (iso: string) => new Date(iso);
const iso = (instant: Date) => instant.toISOString();

/** The successive boundaries after `from`. */
function boundaries(schedule: CycleSchedule, from: string, count: number): string[] {
  const out: string[] = [];
  let boundary = date(from);
  for (let index = 0; index < count; index++) {
    boundary = nextCycleBoundaryAfter(schedule, boundary);
    out.push(iso(boundary));
  }
  return out;
}

const monthly1: CycleSchedule = { period: 'month', anchorDay: 1, timezone: 'UTC' };

describe('cycle schedules', () => {
  it('monthly on day 1 in UTC: the foundation schedule, unchanged', () => {
    expect(iso(cycleStartAtOrBefore(monthly1, date('2026-11-10T12:00:00Z')))).toBe('2026-11-01T00:00:00.000Z');
    expect(iso(nextCycleBoundaryAfter(monthly1, date('2026-11-10T12:00:00Z')))).toBe('2026-12-01T00:00:00.000Z');
    expect(iso(nextCycleBoundaryAfter(monthly1, date('2026-12-01T00:00:00Z')))).toBe('2027-01-01T00:00:00.000Z');
    expect(cycleIdAt(monthly1, date('2026-12-31T23:59:59Z'))).toBe('2026-12');
  });

  it('anchor day `last`: Jan 31 -> Feb 28 -> Mar 31, and Feb 29 in a leap year', () => {
    const last: CycleSchedule = { period: 'month', anchorDay: 'last', timezone: 'UTC' };
    expect(boundaries(last, '2027-01-15T00:00:00Z', 4)).toEqual([
      '2027-01-31T00:00:00.000Z',
      '2027-02-28T00:00:00.000Z',
      '2027-03-31T00:00:00.000Z',
      '2027-04-30T00:00:00.000Z',
    ]);
    expect(boundaries(last, '2028-01-31T00:00:00Z', 2)).toEqual(['2028-02-29T00:00:00.000Z', '2028-03-31T00:00:00.000Z']);
    expect(cycleIdAt(last, date('2028-02-29T00:00:00Z'))).toBe('2028-02');
    expect(cycleIdAt(last, date('2028-02-28T23:59:59Z'))).toBe('2028-01');
  });

  it('a boundary is local midnight in the zone, and DST does not shift it', () => {
    const paris: CycleSchedule = { period: 'month', anchorDay: 1, timezone: 'Europe/Paris' };
    // CET (UTC+1) in winter, CEST (UTC+2) in summer: always 00:00 in Paris.
    expect(boundaries(paris, '2026-10-15T00:00:00Z', 6)).toEqual([
      '2026-10-31T23:00:00.000Z',
      '2026-11-30T23:00:00.000Z',
      '2026-12-31T23:00:00.000Z',
      '2027-01-31T23:00:00.000Z',
      '2027-02-28T23:00:00.000Z',
      '2027-03-31T22:00:00.000Z',
    ]);
    expect(cycleIdAt(paris, date('2026-10-31T23:30:00Z'))).toBe('2026-11'); // already November in Paris
    const ny: CycleSchedule = { period: 'day', anchorDate: '2026-01-01', timezone: 'America/New_York' };
    // DST starts on 2026-03-08 at 02:00: that day is 23 hours long, midnight stays midnight.
    expect(boundaries(ny, '2026-03-07T04:00:00Z', 3)).toEqual(['2026-03-07T05:00:00.000Z', '2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z']);
    // DST ends on 2026-11-01: a 25-hour day.
    expect(boundaries(ny, '2026-10-31T12:00:00Z', 2)).toEqual(['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z']);
  });

  it('where midnight does not exist (DST starts at 00:00), the day starts when the clock jumps', () => {
    // Santiago: 2026-09-06 00:00 -> 01:00 at 04:00Z; Havana: 2026-03-08 00:00 -> 01:00 at 05:00Z.
    expect(iso(new Date(startOfLocalDay(Date.UTC(2026, 8, 6) / 86_400_000, 'America/Santiago')))).toBe('2026-09-06T04:00:00.000Z');
    expect(iso(new Date(startOfLocalDay(Date.UTC(2026, 2, 8) / 86_400_000, 'America/Havana')))).toBe('2026-03-08T05:00:00.000Z');
    const santiago: CycleSchedule = { period: 'day', anchorDate: '2026-09-01', timezone: 'America/Santiago' };
    expect(boundaries(santiago, '2026-09-05T12:00:00Z', 2)).toEqual(['2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z']);
  });
});

// The same describe title: the second half of the schedule cases (blocks stay short).
describe('cycle schedules', () => {
  it('every N weeks or days from an anchor date, every N months on calendar quarters', () => {
    const fortnight: CycleSchedule = { period: 'week', every: 2, anchorDate: '2026-11-02', timezone: 'UTC' };
    expect(iso(cycleStartAtOrBefore(fortnight, date('2026-11-20T10:00:00Z')))).toBe('2026-11-16T00:00:00.000Z');
    expect(iso(nextCycleBoundaryAfter(fortnight, date('2026-11-20T10:00:00Z')))).toBe('2026-11-30T00:00:00.000Z');
    expect(cycleIdAt(fortnight, date('2026-11-20T10:00:00Z'))).toBe('2026-11-16');
    // Dates before the anchor work too.
    expect(iso(cycleStartAtOrBefore(fortnight, date('2026-10-25T00:00:00Z')))).toBe('2026-10-19T00:00:00.000Z');
    const tenDays: CycleSchedule = { period: 'day', every: 10, anchorDate: '2026-11-01', timezone: 'UTC' };
    expect(boundaries(tenDays, '2026-11-01T00:00:00Z', 3)).toEqual(['2026-11-11T00:00:00.000Z', '2026-11-21T00:00:00.000Z', '2026-12-01T00:00:00.000Z']);
    const quarterly: CycleSchedule = { period: 'month', every: 3, anchorDay: 1, timezone: 'UTC' };
    expect(cycleIdAt(quarterly, date('2026-11-10T00:00:00Z'))).toBe('2026-10');
    expect(boundaries(quarterly, '2026-11-10T00:00:00Z', 2)).toEqual(['2027-01-01T00:00:00.000Z', '2027-04-01T00:00:00.000Z']);
    expect(iso(nthBoundaryAfter(quarterly, date('2026-11-10T00:00:00Z'), 2))).toBe('2027-04-01T00:00:00.000Z');
  });

  it('labels a cycle that does not start on a boundary with its start date', () => {
    const mid: CycleSchedule = { period: 'month', anchorDay: 15, timezone: 'UTC' };
    expect(cycleLabel(mid, date('2026-12-15T00:00:00Z'))).toBe('2026-12');
    expect(cycleLabel(mid, date('2026-12-01T00:00:00Z'))).toBe('2026-12-01');
  });

  it('names what is wrong with a schedule', () => {
    expect(scheduleProblem(monthly1)).toBeNull();
    expect(scheduleProblem({ period: 'month', anchorDay: 29, timezone: 'UTC' })).toMatch(/anchorDay/);
    expect(scheduleProblem({ period: 'month', anchorDay: 'last', timezone: 'Mars/Olympus' })).toMatch(/timezone/);
    expect(scheduleProblem({ period: 'week', timezone: 'UTC' })).toMatch(/anchorDate/);
    expect(scheduleProblem({ period: 'day', anchorDate: '2026-02-30', timezone: 'UTC' })).toMatch(/anchorDate/);
    expect(scheduleProblem({ period: 'month', every: 13, anchorDay: 1, timezone: 'UTC' })).toMatch(/every/);
    expect(scheduleProblem({ period: 'week', anchorDay: 1, anchorDate: '2026-11-02', timezone: 'UTC' })).toMatch(/anchorDay/);
  });
});
