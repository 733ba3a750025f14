import { addDailyNet, forecastCreditType, forecastDepletion } from './depletion-forecast';
import { OpenAccountState } from './state';
import { consume, open, planOf, refund, reset, run } from './testing/fixtures';

const at = (text: string) => Date.parse(text);

describe('depletion forecast', () => {
  it('worked example: net burn since the account opened (shorter than 7 days), extrapolated to when the remaining credits run out', () => {
    // Opened 2026-11-10 12:00 with 100 email credits on a cycle ending 2026-12-01.
    const { state } = run([
      open('2026-11-10T12:00:00.000Z', planOf({ email: 100 })),
      consume('c1', 20, {}, '2026-11-10T15:00:00.000Z'),
      consume('c2', 10, {}, '2026-11-11T09:00:00.000Z'),
      consume('c3', 15, {}, '2026-11-12T09:00:00.000Z'),
      refund('r1', 'c3', 5, '2026-11-12T10:00:00.000Z'),
    ]);
    const opened = state as OpenAccountState;
    expect(opened.cycleStartedAt).toBe('2026-11-01T00:00:00.000Z');
    // Net 40 credits over the 3 days since the account opened: 13.33 a day; 60 left last 4.5 days.
    expect(forecastCreditType(opened, 'email', at('2026-11-13T12:00:00.000Z'))).toEqual({
      dailyBurn: 13.33,
      projectedDepletionAt: '2026-11-18T00:00:00.000Z',
      lastsCycle: false,
    });
  });

  it('averages over the last 7 UTC days, today included, once the cycle is older', () => {
    const days = [
      { dayNumber: at('2026-11-01T00:00:00Z') / 86_400_000, credits: 500 }, // outside the window
      { dayNumber: at('2026-11-10T00:00:00Z') / 86_400_000, credits: 40 },
      { dayNumber: at('2026-11-14T00:00:00Z') / 86_400_000, credits: 20 },
    ];
    // Window 2026-11-08T00:00 .. now (2026-11-14T12:00): 6.5 days, 60 credits: 9.23 a day; 92 left last 9.97 days.
    const forecast = forecastDepletion({
      days,
      remaining: 92,
      cycleStartedAt: '2026-11-01T00:00:00.000Z',
      cycleEndsAt: '2026-12-01T00:00:00.000Z',
      nowMs: at('2026-11-14T12:00:00.000Z'),
    });
    expect(forecast).toEqual({ dailyBurn: 9.23, projectedDepletionAt: '2026-11-24T11:12:00.000Z', lastsCycle: false });
  });

  it('lasts the cycle when the pace would run out after the cycle ends, or nothing is burnt, or refunds outweigh use', () => {
    const base = { remaining: 100, cycleStartedAt: '2026-11-01T00:00:00.000Z', cycleEndsAt: '2026-12-01T00:00:00.000Z', nowMs: at('2026-11-14T12:00:00.000Z') };
    const today = at('2026-11-14T00:00:00Z') / 86_400_000;
    expect(forecastDepletion({ ...base, days: [{ dayNumber: today, credits: 13 }] })).toEqual({ dailyBurn: 2, projectedDepletionAt: null, lastsCycle: true });
    expect(forecastDepletion({ ...base, days: [] })).toEqual({ dailyBurn: 0, projectedDepletionAt: null, lastsCycle: true });
    expect(forecastDepletion({ ...base, days: [{ dayNumber: today, credits: -8 }] })).toEqual({ dailyBurn: 0, projectedDepletionAt: null, lastsCycle: true });
  });

  it('an exhausted credit type that still burns is depleted now', () => {
    const nowMs = at('2026-11-14T12:00:00.000Z');
    const forecast = forecastDepletion({
      days: [{ dayNumber: Math.floor(nowMs / 86_400_000), credits: 30 }],
      remaining: -5,
      cycleStartedAt: '2026-11-01T00:00:00.000Z',
      cycleEndsAt: '2026-12-01T00:00:00.000Z',
      nowMs,
    });
    expect(forecast).toMatchObject({ projectedDepletionAt: '2026-11-14T12:00:00.000Z', lastsCycle: false });
  });

  it('the fold keeps at most the window and a day, and starts again with each cycle', () => {
    let days = addDailyNet([], '2026-11-01T10:00:00.000Z', 1);
    for (let day = 2; day <= 20; day++) days = addDailyNet(days, `2026-11-${String(day).padStart(2, '0')}T10:00:00.000Z`, day);
    expect(days.map((entry) => entry.credits)).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
    expect(addDailyNet(days, '2026-11-01T10:00:00.000Z', 100)).toEqual(days); // too old to count in any window
    const { state } = run([
      open('2026-11-10T12:00:00.000Z', planOf({ email: 100 })),
      consume('c1', 20, {}, '2026-11-10T15:00:00.000Z'),
      reset('2026-11b', '2026-11-11T00:00:00.000Z'),
    ]);
    expect((state as OpenAccountState).dailyNet).toEqual({});
  });
});
