/** The Overview card's figures: Used / Total, the meter, and what the depletion forecast says. */

export interface BalanceFigures {
  readonly allocated: number;
  readonly rolledIn: number;
  readonly granted: number;
  readonly used: number;
  readonly refunded: number;
  readonly expired: number;
  readonly remaining: number;
}

export interface Forecast {
  readonly dailyBurn: number;
  readonly projectedDepletionAt: string | null;
  readonly lastsCycle: boolean;
}

export interface CardFigures {
  /** Net of refunds: what the cycle's credits actually paid for. */
  readonly used: number;
  /** allocated + rolled in + granted. */
  readonly total: number;
  /** used / total, clamped to [0, 1] for the meter (0 when the total is 0). */
  readonly ratio: number;
  readonly level: 'ok' | 'warning' | 'exhausted';
}

export function cardFigures(b: BalanceFigures): CardFigures {
  const total = b.allocated + b.rolledIn + b.granted;
  const used = b.used - b.refunded;
  const ratio = total <= 0 ? (used > 0 ? 1 : 0) : Math.min(1, Math.max(0, used / total));
  const level = b.remaining <= 0 && (total > 0 || used > 0) ? 'exhausted' : ratio >= 0.8 ? 'warning' : 'ok';
  return { used, total, ratio, level };
}

export type DepletionOutlook =
  | { readonly kind: 'lasts'; readonly projectedUsedAtEnd: number }
  | { readonly kind: 'runs-out'; readonly at: string; readonly daysBeforeEnd: number }
  | { readonly kind: 'depleted' };

const DAY_MS = 86_400_000;

/**
 * What the forecast means for the cycle: it lasts (and how much will be used by the end at the
 * current pace), it runs out on a date (so many days before the cycle ends), or it is out now.
 */
export function depletionOutlook(b: BalanceFigures, f: Forecast, now: number, cycleEndsAt: string): DepletionOutlook {
  const end = Date.parse(cycleEndsAt);
  if (f.projectedDepletionAt !== null) {
    const at = Date.parse(f.projectedDepletionAt);
    if (at <= now) return { kind: 'depleted' };
    return { kind: 'runs-out', at: f.projectedDepletionAt, daysBeforeEnd: Math.max(0, Math.floor((end - at) / DAY_MS)) };
  }
  const daysLeft = Math.max(0, (end - now) / DAY_MS);
  return { kind: 'lasts', projectedUsedAtEnd: Math.round(b.used - b.refunded + f.dailyBurn * daysLeft) };
}
