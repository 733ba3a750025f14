/**
 * Billing-cycle schedules. A cycle boundary is local midnight (the first instant of the local day)
 * in the schedule's IANA time zone, computed on calendar dates, so a DST change never shifts it.
 *
 * - `month`: every `every` months (default 1) on `anchorDay` (1..28 or `last`). Multi-month cycles
 *   are phased on calendar months counted from January of year 0: `every: 3` starts cycles in
 *   January, April, July and October; `every: 12` in January.
 * - `week` / `day`: every `every` weeks/days counted from `anchorDate` (a local date `YYYY-MM-DD`
 *   on which a cycle starts; any date before or after it works as well).
 *
 * Cycle ids are derived from the schedule: `YYYY-MM` of the start month for monthly schedules,
 * `YYYY-MM-DD` of the start date for weekly and daily ones. A cycle that does not start on a
 * boundary of its schedule (the first cycle after a schedule change) is labelled with its start
 * date `YYYY-MM-DD`.
 */
export type SchedulePeriod = 'month' | 'week' | 'day';

export interface CycleSchedule {
  readonly period: SchedulePeriod;
  /** Cycle length in periods; absent = 1. */
  readonly every?: number;
  /** Monthly schedules only: 1..28 or `last`. */
  readonly anchorDay?: number | 'last';
  /** Weekly and daily schedules only: a local date `YYYY-MM-DD` on which a cycle starts. */
  readonly anchorDate?: string;
  /** IANA time zone, e.g. `UTC`, `Europe/Paris`, `America/New_York`. */
  readonly timezone: string;
}

export const MIN_ANCHOR_DAY = 1;
export const MAX_ANCHOR_DAY = 28;
export const LAST_DAY_OF_MONTH = 'last';
/** Longest cycle per period: a year of months, a year of weeks, a year of days. */
export const MAX_EVERY: Readonly<Record<SchedulePeriod, number>> = { month: 12, week: 52, day: 366 };
export const LOCAL_DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

const DAY_MS = 86_400_000;

/** True when `Intl` knows the zone (Node ships the full IANA database). */
export function isValidTimeZone(timezone: string): boolean {
  if (typeof timezone !== 'string' || timezone.length === 0 || timezone.length > 64) return false;
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

/** A problem with a schedule, or null when it is valid. */
export function scheduleProblem(s: CycleSchedule): string | null {
  if (!['month', 'week', 'day'].includes(s.period)) return 'period must be month, week or day';
  const every = s.every ?? 1;
  if (!Number.isInteger(every) || every < 1 || every > MAX_EVERY[s.period]) return `every must be an integer 1..${MAX_EVERY[s.period]} for ${s.period}`;
  if (!isValidTimeZone(s.timezone)) return `timezone ${String(s.timezone)} is not an IANA time zone`;
  if (s.period === 'month') {
    if (s.anchorDate !== undefined) return 'anchorDate is only for week and day schedules';
    const a = s.anchorDay;
    if (!(a === LAST_DAY_OF_MONTH || (Number.isInteger(a) && (a as number) >= MIN_ANCHOR_DAY && (a as number) <= MAX_ANCHOR_DAY))) {
      return `anchorDay must be ${MIN_ANCHOR_DAY}..${MAX_ANCHOR_DAY} or "last"`;
    }
  } else {
    if (s.anchorDay !== undefined) return 'anchorDay is only for month schedules';
    if (typeof s.anchorDate !== 'string' || parseLocalDate(s.anchorDate) === null) return 'anchorDate must be a date YYYY-MM-DD';
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Time-zone arithmetic on Intl (no library): local date of an instant, first instant of a local day.

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

interface LocalParts {
  readonly y: number;
  readonly m0: number;
  readonly d: number;
  readonly h: number;
  readonly mi: number;
  readonly s: number;
}

function localParts(t: number, timezone: string): LocalParts {
  if (timezone === 'UTC') {
    const x = new Date(t);
    return { y: x.getUTCFullYear(), m0: x.getUTCMonth(), d: x.getUTCDate(), h: x.getUTCHours(), mi: x.getUTCMinutes(), s: x.getUTCSeconds() };
  }
  const p = { y: 0, m0: 0, d: 0, h: 0, mi: 0, s: 0 };
  for (const part of formatter(timezone).formatToParts(new Date(t))) {
    switch (part.type) {
      case 'year':
        p.y = Number(part.value);
        break;
      case 'month':
        p.m0 = Number(part.value) - 1;
        break;
      case 'day':
        p.d = Number(part.value);
        break;
      case 'hour':
        p.h = Number(part.value);
        break;
      case 'minute':
        p.mi = Number(part.value);
        break;
      case 'second':
        p.s = Number(part.value);
        break;
      default:
        break;
    }
  }
  return p;
}

/** Day number (days since 1970-01-01) of the local date of instant `t`. */
export function localDayNumber(t: number, timezone: string): number {
  const p = localParts(t, timezone);
  return Math.floor(Date.UTC(p.y, p.m0, p.d) / DAY_MS);
}

/** Offset of the zone at `t` in ms (local wall time minus UTC), at second precision. */
function offsetAt(t: number, timezone: string): number {
  const p = localParts(t, timezone);
  const wall = Date.UTC(p.y, p.m0, p.d, p.h, p.mi, p.s);
  return wall - (t - (((t % 1000) + 1000) % 1000));
}

const dayStarts = new Map<string, number>();
const MAX_MEMO = 50_000;

/**
 * The first instant of local day `dayNumber` in `timezone`: local midnight, or the end of the DST
 * gap when midnight does not exist that day, or the first of two midnights when it repeats.
 */
export function startOfLocalDay(dayNumber: number, timezone: string): number {
  const wallMidnight = dayNumber * DAY_MS;
  if (timezone === 'UTC') return wallMidnight;
  const key = `${timezone}|${dayNumber}`;
  const memo = dayStarts.get(key);
  if (memo !== undefined) return memo;
  let t = wallMidnight - offsetAt(wallMidnight, timezone);
  const o2 = offsetAt(t, timezone);
  if (wallMidnight - o2 !== t) t = wallMidnight - o2;
  // Fast path: t is on the day and the instant before it is not.
  if (!(localDayNumber(t, timezone) === dayNumber && localDayNumber(t - 1, timezone) < dayNumber)) {
    // Binary search for the first instant whose local date is >= dayNumber (local date is monotonic).
    let lo = wallMidnight - 15 * 3_600_000; // before: local date < dayNumber
    let hi = wallMidnight + 15 * 3_600_000; // after: local date >= dayNumber
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (localDayNumber(mid, timezone) >= dayNumber) hi = mid;
      else lo = mid;
    }
    t = hi;
  }
  if (dayStarts.size >= MAX_MEMO) dayStarts.clear();
  dayStarts.set(key, t);
  return t;
}

export function parseLocalDate(text: string): number | null {
  const m = LOCAL_DATE_PATTERN.exec(text);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  const t = Date.UTC(y, mo, d);
  const x = new Date(t);
  if (x.getUTCFullYear() !== y || x.getUTCMonth() !== mo || x.getUTCDate() !== d) return null;
  return t / DAY_MS;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function dayLabel(dayNumber: number): string {
  const x = new Date(dayNumber * DAY_MS);
  return `${pad(x.getUTCFullYear(), 4)}-${pad(x.getUTCMonth() + 1)}-${pad(x.getUTCDate())}`;
}

function daysInMonth(y: number, m0: number): number {
  return new Date(Date.UTC(y, m0 + 1, 0)).getUTCDate();
}

// ---------------------------------------------------------------------------------------------
// Boundaries. A boundary is identified by an integer `slot` (month index y*12+m0 for monthly
// schedules, local day number for weekly/daily ones); consecutive boundaries differ by a step.

function monthBoundary(s: CycleSchedule, monthIndex: number): number {
  const y = Math.floor(monthIndex / 12);
  const m0 = monthIndex - y * 12;
  const day = s.anchorDay === LAST_DAY_OF_MONTH || s.anchorDay === undefined ? daysInMonth(y, m0) : Math.min(s.anchorDay, daysInMonth(y, m0));
  return startOfLocalDay(Math.floor(Date.UTC(y, m0, day) / DAY_MS), s.timezone);
}

function step(s: CycleSchedule): number {
  const every = s.every ?? 1;
  return s.period === 'week' ? every * 7 : every;
}

function boundaryOfSlot(s: CycleSchedule, slot: number): number {
  return s.period === 'month' ? monthBoundary(s, slot) : startOfLocalDay(slot, s.timezone);
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** The slot of the last boundary at or before `t`. */
function slotAtOrBefore(s: CycleSchedule, t: number): number {
  const p = localParts(t, s.timezone);
  let slot: number;
  let stride: number;
  if (s.period === 'month') {
    stride = s.every ?? 1;
    const monthIndex = p.y * 12 + p.m0;
    slot = monthIndex - mod(monthIndex, stride);
  } else {
    stride = step(s);
    const anchor = parseLocalDate(s.anchorDate ?? '') ?? 0;
    const dn = Math.floor(Date.UTC(p.y, p.m0, p.d) / DAY_MS);
    slot = dn - mod(dn - anchor, stride);
  }
  while (boundaryOfSlot(s, slot) > t) slot -= stride;
  return slot;
}

function slotStride(s: CycleSchedule): number {
  return s.period === 'month' ? s.every ?? 1 : step(s);
}

/** The last boundary at or before `at`. */
export function cycleStartAtOrBefore(s: CycleSchedule, at: Date): Date {
  return new Date(boundaryOfSlot(s, slotAtOrBefore(s, at.getTime())));
}

/** The first boundary strictly after `at`. */
export function nextCycleBoundaryAfter(s: CycleSchedule, at: Date): Date {
  const slot = slotAtOrBefore(s, at.getTime());
  return new Date(boundaryOfSlot(s, slot + slotStride(s)));
}

/** The n-th boundary after `at` (n >= 1). */
export function nthBoundaryAfter(s: CycleSchedule, at: Date, n: number): Date {
  const slot = slotAtOrBefore(s, at.getTime());
  return new Date(boundaryOfSlot(s, slot + n * slotStride(s)));
}

function regularLabel(s: CycleSchedule, slot: number): string {
  if (s.period === 'month') {
    const y = Math.floor(slot / 12);
    return `${pad(y, 4)}-${pad(slot - y * 12 + 1)}`;
  }
  return dayLabel(slot);
}

/**
 * Deterministic label of the cycle that starts at `start`: the regular label when `start` is a
 * boundary of the schedule (`2026-12`, `2026-12-07`), else the local start date (`2026-12-15`).
 */
export function cycleLabel(s: CycleSchedule, start: Date): string {
  const t = start.getTime();
  const slot = slotAtOrBefore(s, t);
  if (boundaryOfSlot(s, slot) === t) return regularLabel(s, slot);
  return dayLabel(localDayNumber(t, s.timezone));
}

/** Deterministic label of the cycle that contains `at`, e.g. `2026-11` for a monthly cycle starting in November. */
export function cycleIdAt(s: CycleSchedule, at: Date): string {
  return regularLabel(s, slotAtOrBefore(s, at.getTime()));
}

/** Same schedule, whatever the key order or an explicit `every: 1`. */
export function sameSchedule(a: CycleSchedule, b: CycleSchedule): boolean {
  return (
    a.period === b.period &&
    (a.every ?? 1) === (b.every ?? 1) &&
    a.anchorDay === b.anchorDay &&
    a.anchorDate === b.anchorDate &&
    a.timezone === b.timezone
  );
}
