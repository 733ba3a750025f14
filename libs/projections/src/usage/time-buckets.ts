import { dayLabel, isValidTimeZone, localDayNumber, startOfLocalDay } from '@credit-ledger/domain';

/** Calendar buckets in an IANA time zone, on the domain's own (Intl, DST-aware) day arithmetic. */
export type Bucket = 'day' | 'week' | 'month';
export const BUCKETS: readonly Bucket[] = ['day', 'week', 'month'];
const DAY_MS = 86_400_000;

export const isTimeZone = isValidTimeZone;

/** Bucket boundaries (instants, ms) covering [from, to): the first is at or before `from`, the last at or after `to`; null past maxBuckets. */
export function bucketBoundaries(fromMs: number, toMs: number, bucket: Bucket, timeZone: string, maxBuckets: number): number[] | null {
  let day = localDayNumber(fromMs, timeZone);
  if (bucket === 'week') day -= (new Date(day * DAY_MS).getUTCDay() + 6) % 7; // ISO weeks start on Monday
  const next = (d: number) => {
    if (bucket === 'day') return d + 1;
    if (bucket === 'week') return d + 7;
    const x = new Date(d * DAY_MS);
    return Date.UTC(x.getUTCFullYear(), x.getUTCMonth() + 1, 1) / DAY_MS;
  };
  if (bucket === 'month') {
    const x = new Date(day * DAY_MS);
    day = Date.UTC(x.getUTCFullYear(), x.getUTCMonth(), 1) / DAY_MS;
  }
  const out: number[] = [startOfLocalDay(day, timeZone)];
  while (out[out.length - 1] < toMs) {
    if (out.length > maxBuckets) return null;
    day = next(day);
    out.push(startOfLocalDay(day, timeZone));
  }
  return out;
}

/** The local calendar date (YYYY-MM-DD) of an instant. */
export function localDate(instantMs: number, timeZone: string): string {
  return dayLabel(localDayNumber(instantMs, timeZone));
}

/** Index i with boundaries[i] <= t < boundaries[i + 1]. */
export function bucketIndex(boundaries: readonly number[], t: number): number {
  let lo = 0;
  let hi = boundaries.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (boundaries[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
