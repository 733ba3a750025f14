/** Calendar buckets in an IANA time zone, computed with Intl (no time-zone library needed). */
export type Bucket = 'day' | 'week' | 'month';
export const BUCKETS: readonly Bucket[] = ['day', 'week', 'month'];

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(value: string): boolean {
  try {
    formatter(value);
    return true;
  } catch {
    return false;
  }
}

interface LocalParts {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(instantMs: number, timeZone: string): LocalParts {
  const out: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instantMs))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return { year: out.year, month: out.month, day: out.day, hour: out.hour, minute: out.minute, second: out.second };
}

/** Local time minus UTC at that instant, in ms. */
function offsetMs(instantMs: number, timeZone: string): number {
  const p = localParts(instantMs, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - (instantMs - (((instantMs % 1000) + 1000) % 1000));
}

/** The instant of local midnight starting the given local date (month may overflow: Date.UTC normalizes). */
export function localMidnight(year: number, monthIndex: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, monthIndex, day);
  let t = wall - offsetMs(wall, timeZone);
  t = wall - offsetMs(t, timeZone); // again, in case the offset differs across the change (DST)
  return t;
}

/** Bucket boundaries (instants, ms) covering [from, to): the first is at or before `from`, the last at or after `to`. */
export function bucketBoundaries(fromMs: number, toMs: number, bucket: Bucket, timeZone: string, maxBuckets: number): number[] | null {
  const p = localParts(fromMs, timeZone);
  let y = p.year;
  let m = p.month - 1;
  let d = p.day;
  if (bucket === 'week') {
    const weekday = (new Date(Date.UTC(y, m, d)).getUTCDay() + 6) % 7; // Monday = 0 (ISO weeks)
    d -= weekday;
  }
  if (bucket === 'month') d = 1;
  const out: number[] = [localMidnight(y, m, d, timeZone)];
  while (out[out.length - 1] < toMs) {
    if (out.length > maxBuckets) return null;
    if (bucket === 'day') d += 1;
    else if (bucket === 'week') d += 7;
    else m += 1;
    out.push(localMidnight(y, m, d, timeZone));
  }
  return out;
}

/** The local calendar date (YYYY-MM-DD) of an instant. */
export function localDate(instantMs: number, timeZone: string): string {
  const p = localParts(instantMs, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
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
