import { describe, expect, it } from 'vitest';
import { addDays, isCalendarDate, localDate, startOfLocalDay, zoneOffset } from './dates';
import { formatCredits, formatDate, formatDateTime, formatDaysLeft, formatPercent, formatRate, formatSignedCredits, humanize } from './format';

describe('formatting', () => {
  it('credits with thousands separators; refunds with a real minus sign', () => {
    expect(formatCredits(1234567)).toBe('1,234,567');
    expect(formatSignedCredits(-3)).toBe('−3');
    expect(formatSignedCredits(12)).toBe('12');
    expect(formatCredits(-1500)).toBe('−1,500');
    expect(formatRate(13.3333)).toBe('13.33');
    expect(formatPercent(0.8)).toBe('80%');
    expect(formatPercent(0.054)).toBe('5.4%');
  });
  it('dates in the chosen zone', () => {
    expect(formatDateTime('2026-11-02T03:30:00Z', 'America/New_York')).toBe('Nov 1, 2026, 22:30');
    expect(formatDateTime('2026-11-02T03:30:00Z', 'Asia/Kolkata')).toBe('Nov 2, 2026, 09:00');
    expect(formatDate('2026-12-01T05:00:00Z', 'America/New_York')).toBe('Dec 1, 2026');
  });
  it('ids become words; days left read naturally', () => {
    expect(humanize('people_search')).toBe('People search');
    expect(humanize('waterfall.mobile')).toBe('Waterfall mobile');
    expect(humanize(null)).toBe('—');
    expect(formatDaysLeft(0)).toBe('ends today');
    expect(formatDaysLeft(1)).toBe('1 day left');
    expect(formatDaysLeft(10)).toBe('10 days left');
  });
});

describe('calendar arithmetic in a zone', () => {
  it('offsets and local dates around a DST change', () => {
    expect(zoneOffset(Date.parse('2026-07-01T12:00:00Z'), 'Europe/Paris')).toBe(2 * 3_600_000);
    expect(zoneOffset(Date.parse('2026-12-01T12:00:00Z'), 'Europe/Paris')).toBe(3_600_000);
    expect(localDate(Date.parse('2026-11-02T03:30:00Z'), 'America/New_York')).toBe('2026-11-01');
    expect(new Date(startOfLocalDay('2026-03-29', 'Europe/Paris')).toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(new Date(startOfLocalDay('2026-03-30', 'Europe/Paris')).toISOString()).toBe('2026-03-29T22:00:00.000Z');
  });
  it('real calendar dates only; day arithmetic across months and leap days', () => {
    expect(isCalendarDate('2028-02-29')).toBe(true);
    expect(isCalendarDate('2026-02-29')).toBe(false);
    expect(isCalendarDate('26-1-1')).toBe(false);
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
  });
});
