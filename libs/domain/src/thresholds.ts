import { BalanceFigures } from './events';

/**
 * A usage alert of one credit type: `percent_used` crosses when (used - refunded) reaches `value`
 * percent of the cycle's allocation (never with an allocation of 0); `remaining` crosses when
 * `remaining` falls to `value` credits or below.
 */
export type Threshold =
  | { readonly kind: 'percent_used'; readonly value: number }
  | { readonly kind: 'remaining'; readonly value: number };

export const THRESHOLD_KINDS = ['percent_used', 'remaining'] as const;
export const DEFAULT_THRESHOLDS: readonly Threshold[] = [
  { kind: 'percent_used', value: 80 },
  { kind: 'percent_used', value: 100 },
];
export const MAX_THRESHOLDS_PER_CREDIT_TYPE = 10;
export const MAX_PERCENT_THRESHOLD = 1_000;

export function thresholdId(t: Threshold): string {
  return `${t.kind}:${t.value}`;
}

/** Integer arithmetic only: (used - refunded) * 100 >= value * allocated. */
export function isCrossed(t: Threshold, f: BalanceFigures): boolean {
  if (t.kind === 'remaining') return f.remaining <= t.value;
  if (f.allocated <= 0) return false;
  return (f.used - f.refunded) * 100 >= t.value * f.allocated;
}

/** Percent of the allocation used, rounded down (null without an allocation). */
export function percentUsed(f: BalanceFigures): number | null {
  if (f.allocated <= 0) return null;
  return Math.floor((Math.max(f.used - f.refunded, 0) * 100) / f.allocated);
}

/** Thresholds sorted and deduplicated, so that equal sets compare equal. */
export function normalizeThresholds(list: readonly Threshold[]): Threshold[] {
  const byId = new Map<string, Threshold>();
  for (const t of list) byId.set(thresholdId(t), { kind: t.kind, value: t.value } as Threshold);
  return [...byId.values()].sort((a, b) => (a.kind !== b.kind ? (a.kind < b.kind ? -1 : 1) : a.value - b.value));
}
