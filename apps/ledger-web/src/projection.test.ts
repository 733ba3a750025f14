import { describe, expect, it } from 'vitest';
import { cardFigures, depletionOutlook } from './projection';

const figures = { allocated: 100, rolledIn: 10, granted: 20, used: 70, refunded: 5, expired: 0, remaining: 65 };

describe('Used / Total', () => {
  it('total is allocated + rolled in + granted; used is net of refunds', () => {
    expect(cardFigures(figures)).toEqual({ used: 65, total: 130, ratio: 0.5, level: 'ok' });
  });
  it('warns from 80% and is exhausted at 0 remaining; the meter never passes full', () => {
    expect(cardFigures({ ...figures, used: 110, remaining: 25 }).level).toBe('warning');
    expect(cardFigures({ ...figures, used: 140, refunded: 0, remaining: -10 })).toMatchObject({ ratio: 1, level: 'exhausted' });
    expect(cardFigures({ ...figures, allocated: 0, rolledIn: 0, granted: 0, used: 0, refunded: 0, remaining: 0 })).toMatchObject({ ratio: 0, total: 0 });
  });
});

describe('the depletion projection', () => {
  const now = Date.parse('2026-11-13T12:00:00Z');
  const end = '2026-12-01T00:00:00.000Z';
  it('runs out on the API’s date, so many whole days before the cycle ends', () => {
    // The worked example of docs/http-api.md: 60 left at 13.33 a day → Nov 18.
    const outlook = depletionOutlook(
      { ...figures, remaining: 60 },
      { dailyBurn: 13.33, projectedDepletionAt: '2026-11-18T00:00:00.000Z', lastsCycle: false },
      now,
      end,
    );
    expect(outlook).toEqual({ kind: 'runs-out', at: '2026-11-18T00:00:00.000Z', daysBeforeEnd: 13 });
  });
  it('lasts the cycle, with what will be used by its end at the current pace', () => {
    const outlook = depletionOutlook(figures, { dailyBurn: 2, projectedDepletionAt: null, lastsCycle: true }, now, end);
    // 65 used + 2 a day × 17.5 days left = 100.
    expect(outlook).toEqual({ kind: 'lasts', projectedUsedAtEnd: 100 });
  });
  it('is depleted when the projected date is not in the future', () => {
    expect(
      depletionOutlook({ ...figures, remaining: 0 }, { dailyBurn: 5, projectedDepletionAt: '2026-11-13T12:00:00.000Z', lastsCycle: false }, now, end),
    ).toEqual({
      kind: 'depleted',
    });
  });
});
