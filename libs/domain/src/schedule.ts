/**
 * Billing-cycle schedule. The foundation supports monthly cycles on an anchor day in UTC;
 * a cycle boundary is 00:00 UTC on the anchor day.
 */
export interface CycleSchedule {
  readonly period: 'month';
  readonly anchorDay: number; // 1..28 so that every month has the day
  readonly timezone: 'UTC';
}

export const MIN_ANCHOR_DAY = 1;
export const MAX_ANCHOR_DAY = 28;

function boundaryOf(year: number, monthIndex: number, anchorDay: number): number {
  return Date.UTC(year, monthIndex, anchorDay);
}

/** The last boundary at or before `at`. */
export function cycleStartAtOrBefore(schedule: CycleSchedule, at: Date): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const inThisMonth = boundaryOf(y, m, schedule.anchorDay);
  return new Date(inThisMonth <= at.getTime() ? inThisMonth : boundaryOf(y, m - 1, schedule.anchorDay));
}

/** The first boundary strictly after `at`. */
export function nextCycleBoundaryAfter(schedule: CycleSchedule, at: Date): Date {
  const start = cycleStartAtOrBefore(schedule, at);
  return new Date(boundaryOf(start.getUTCFullYear(), start.getUTCMonth() + 1, schedule.anchorDay));
}

/** Deterministic label of the cycle that contains `at`, e.g. `2026-11` for a cycle starting in November. */
export function cycleIdAt(schedule: CycleSchedule, at: Date): string {
  const start = cycleStartAtOrBefore(schedule, at);
  return `${start.getUTCFullYear()}-${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
}
