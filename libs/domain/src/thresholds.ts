import { BalanceFigures } from './events';

/**
 * A usage alert of one credit type: `percent_used` crosses when (used - refunded) reaches `value`
 * percent of the cycle's allocation (never with an allocation of 0); `remaining` crosses when
 * `remaining` falls to `value` credits or below.
 */
export type Threshold = { readonly kind: 'percent_used'; readonly value: number } | { readonly kind: 'remaining'; readonly value: number };

export const THRESHOLD_KINDS = ['percent_used', 'remaining'] as const;
export const DEFAULT_THRESHOLDS: readonly Threshold[] = [
  { kind: 'percent_used', value: 80 },
  { kind: 'percent_used', value: 100 },
];
export const MAX_THRESHOLDS_PER_CREDIT_TYPE = 10;
export const MAX_PERCENT_THRESHOLD = 1_000;

export function thresholdId(threshold: Threshold): string {
  return `${threshold.kind}:${threshold.value}`;
}

/** Integer arithmetic only: (used - refunded) * 100 >= value * allocated. */
export function isCrossed(threshold: Threshold, figures: BalanceFigures): boolean {
  if (threshold.kind === 'remaining') return figures.remaining <= threshold.value;
  if (figures.allocated <= 0) return false;
  return (figures.used - figures.refunded) * 100 >= threshold.value * figures.allocated;
}

/** Percent of the allocation used, rounded down (null without an allocation). */
export function percentUsed(figures: BalanceFigures): number | null {
  if (figures.allocated <= 0) return null;
  return Math.floor((Math.max(figures.used - figures.refunded, 0) * 100) / figures.allocated);
}

/** Thresholds sorted and deduplicated, so that equal sets compare equal. */
export function normalizeThresholds(list: readonly Threshold[]): Threshold[] {
  const byId = new Map<string, Threshold>();
  for (const threshold of list) byId.set(thresholdId(threshold), { kind: threshold.kind, value: threshold.value } as Threshold);
  return [...byId.values()].sort((first, second) => (first.kind !== second.kind ? (first.kind < second.kind ? -1 : 1) : first.value - second.value));
}
