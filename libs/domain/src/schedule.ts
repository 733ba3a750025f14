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
export function scheduleProblem(schedule: CycleSchedule): string | null {
  if (!['month', 'week', 'day'].includes(schedule.period)) return 'period must be month, week or day';
  const every = schedule.every ?? 1;
  if (!Number.isInteger(every) || every < 1 || every > MAX_EVERY[schedule.period])
    return `every must be an integer 1..${MAX_EVERY[schedule.period]} for ${schedule.period}`;
  if (!isValidTimeZone(schedule.timezone)) return `timezone ${String(schedule.timezone)} is not an IANA time zone`;
  if (schedule.period === 'month') {
    if (schedule.anchorDate !== undefined) return 'anchorDate is only for week and day schedules';
    const value = schedule.anchorDay;
    if (!(value === LAST_DAY_OF_MONTH || (Number.isInteger(value) && (value as number) >= MIN_ANCHOR_DAY && (value as number) <= MAX_ANCHOR_DAY))) {
      return `anchorDay must be ${MIN_ANCHOR_DAY}..${MAX_ANCHOR_DAY} or "last"`;
    }
  } else {
    if (schedule.anchorDay !== undefined) return 'anchorDay is only for month schedules';
    if (typeof schedule.anchorDate !== 'string' || parseLocalDate(schedule.anchorDate) === null) return 'anchorDate must be a date YYYY-MM-DD';
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Time-zone arithmetic on Intl (no library): local date of an instant, first instant of a local day.

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timezone: string): Intl.DateTimeFormat {
  let cached = formatters.get(timezone);
  if (!cached) {
    cached = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, cached);
  }
  return cached;
}

interface LocalParts {
  readonly year: number;
  readonly month0: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

function localParts(instant: number, timezone: string): LocalParts {
  if (timezone === 'UTC') {
    const date = new Date(instant);
    return {
      year: date.getUTCFullYear(),
      month0: date.getUTCMonth(),
      day: date.getUTCDate(),
      hour: date.getUTCHours(),
      minute: date.getUTCMinutes(),
      second: date.getUTCSeconds(),
    };
  }
  const parts = { year: 0, month0: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timezone).formatToParts(new Date(instant))) {
    switch (part.type) {
      case 'year':
        parts.year = Number(part.value);
        break;
      case 'month':
        parts.month0 = Number(part.value) - 1;
        break;
      case 'day':
        parts.day = Number(part.value);
        break;
      case 'hour':
        parts.hour = Number(part.value);
        break;
      case 'minute':
        parts.minute = Number(part.value);
        break;
      case 'second':
        parts.second = Number(part.value);
        break;
      default:
        break;
    }
  }
  return parts;
}

/** Day number (days since 1970-01-01) of the local date of `instant`. */
export function localDayNumber(instant: number, timezone: string): number {
  const parts = localParts(instant, timezone);
  return Math.floor(Date.UTC(parts.year, parts.month0, parts.day) / DAY_MS);
}

/** Offset of the zone at `instant` in ms (local wall time minus UTC), at second precision. */
function offsetAt(instant: number, timezone: string): number {
  const parts = localParts(instant, timezone);
  const wall = Date.UTC(parts.year, parts.month0, parts.day, parts.hour, parts.minute, parts.second);
  return wall - (instant - (((instant % 1000) + 1000) % 1000));
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
  let instant = wallMidnight - offsetAt(wallMidnight, timezone);
  const offsetThere = offsetAt(instant, timezone);
  if (wallMidnight - offsetThere !== instant) instant = wallMidnight - offsetThere;
  // Fast path: `instant` is on the day and the instant before it is not.
  if (!(localDayNumber(instant, timezone) === dayNumber && localDayNumber(instant - 1, timezone) < dayNumber)) {
    // Binary search for the first instant whose local date is >= dayNumber (local date is monotonic).
    let lo = wallMidnight - 15 * 3_600_000; // before: local date < dayNumber
    let hi = wallMidnight + 15 * 3_600_000; // after: local date >= dayNumber
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (localDayNumber(mid, timezone) >= dayNumber) hi = mid;
      else lo = mid;
    }
    instant = hi;
  }
  if (dayStarts.size >= MAX_MEMO) dayStarts.clear();
  dayStarts.set(key, instant);
  return instant;
}

export function parseLocalDate(text: string): number | null {
  const match = LOCAL_DATE_PATTERN.exec(text);
  if (!match) return null;
  const [year, month0, day] = [Number(match[1]), Number(match[2]) - 1, Number(match[3])];
  const instant = Date.UTC(year, month0, day);
  const date = new Date(instant);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month0 || date.getUTCDate() !== day) return null;
  return instant / DAY_MS;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

export function dayLabel(dayNumber: number): string {
  const date = new Date(dayNumber * DAY_MS);
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

// ---------------------------------------------------------------------------------------------
// Boundaries. A boundary is identified by an integer `slot` (month index year*12+month0 for monthly
// schedules, local day number for weekly/daily ones); consecutive boundaries differ by a step.

function monthBoundary(schedule: CycleSchedule, monthIndex: number): number {
  const year = Math.floor(monthIndex / 12);
  const month0 = monthIndex - year * 12;
  const day =
    schedule.anchorDay === LAST_DAY_OF_MONTH || schedule.anchorDay === undefined
      ? daysInMonth(year, month0)
      : Math.min(schedule.anchorDay, daysInMonth(year, month0));
  return startOfLocalDay(Math.floor(Date.UTC(year, month0, day) / DAY_MS), schedule.timezone);
}

function step(schedule: CycleSchedule): number {
  const every = schedule.every ?? 1;
  return schedule.period === 'week' ? every * 7 : every;
}

function boundaryOfSlot(schedule: CycleSchedule, slot: number): number {
  return schedule.period === 'month' ? monthBoundary(schedule, slot) : startOfLocalDay(slot, schedule.timezone);
}

function mod(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}

/** The slot of the last boundary at or before `instant`. */
function slotAtOrBefore(schedule: CycleSchedule, instant: number): number {
  const parts = localParts(instant, schedule.timezone);
  let slot: number;
  let stride: number;
  if (schedule.period === 'month') {
    stride = schedule.every ?? 1;
    const monthIndex = parts.year * 12 + parts.month0;
    slot = monthIndex - mod(monthIndex, stride);
  } else {
    stride = step(schedule);
    const anchor = parseLocalDate(schedule.anchorDate ?? '') ?? 0;
    const dayNumber = Math.floor(Date.UTC(parts.year, parts.month0, parts.day) / DAY_MS);
    slot = dayNumber - mod(dayNumber - anchor, stride);
  }
  while (boundaryOfSlot(schedule, slot) > instant) slot -= stride;
  return slot;
}

function slotStride(schedule: CycleSchedule): number {
  return schedule.period === 'month' ? (schedule.every ?? 1) : step(schedule);
}

/** The last boundary at or before `at`. */
export function cycleStartAtOrBefore(schedule: CycleSchedule, at: Date): Date {
  return new Date(boundaryOfSlot(schedule, slotAtOrBefore(schedule, at.getTime())));
}

/** The first boundary strictly after `at`. */
export function nextCycleBoundaryAfter(schedule: CycleSchedule, at: Date): Date {
  const slot = slotAtOrBefore(schedule, at.getTime());
  return new Date(boundaryOfSlot(schedule, slot + slotStride(schedule)));
}

/** The `count`-th boundary after `at` (count >= 1). */
export function nthBoundaryAfter(schedule: CycleSchedule, at: Date, count: number): Date {
  const slot = slotAtOrBefore(schedule, at.getTime());
  return new Date(boundaryOfSlot(schedule, slot + count * slotStride(schedule)));
}

function regularLabel(schedule: CycleSchedule, slot: number): string {
  if (schedule.period === 'month') {
    const year = Math.floor(slot / 12);
    return `${pad(year, 4)}-${pad(slot - year * 12 + 1)}`;
  }
  return dayLabel(slot);
}

/**
 * Deterministic label of the cycle that starts at `start`: the regular label when `start` is a
 * boundary of the schedule (`2026-12`, `2026-12-07`), else the local start date (`2026-12-15`).
 */
export function cycleLabel(schedule: CycleSchedule, start: Date): string {
  const instant = start.getTime();
  const slot = slotAtOrBefore(schedule, instant);
  if (boundaryOfSlot(schedule, slot) === instant) return regularLabel(schedule, slot);
  return dayLabel(localDayNumber(instant, schedule.timezone));
}

/** Deterministic label of the cycle that contains `at`, e.g. `2026-11` for a monthly cycle starting in November. */
export function cycleIdAt(schedule: CycleSchedule, at: Date): string {
  return regularLabel(schedule, slotAtOrBefore(schedule, at.getTime()));
}

/** Same schedule, whatever the key order or an explicit `every: 1`. */
export function sameSchedule(first: CycleSchedule, second: CycleSchedule): boolean {
  return (
    first.period === second.period &&
    (first.every ?? 1) === (second.every ?? 1) &&
    first.anchorDay === second.anchorDay &&
    first.anchorDate === second.anchorDate &&
    first.timezone === second.timezone
  );
}
