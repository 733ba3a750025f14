import type { OpenAccountState } from './state';

/** How many UTC days, today included, the burn rate of a depletion forecast averages over. */
export const FORECAST_WINDOW_DAYS = 7;
const DAY_MS = 86_400_000;

/** Net credits (consumed minus refunded) of one UTC day of the open cycle, for one credit type. */
export interface DailyNetCredits {
  /** Days since 1970-01-01 (UTC). */
  readonly dayNumber: number;
  readonly credits: number;
}

/** When a credit type runs out at its recent pace. */
export interface DepletionForecast {
  /** Average net credits used per day over the window, two decimals; 0 or less means no burn. */
  readonly dailyBurn: number;
  /** When the remaining credits reach 0 at that pace, if that falls before the cycle ends; else null. */
  readonly projectedDepletionAt: string | null;
  /** True when the remaining credits last until the cycle ends at that pace. */
  readonly lastsCycle: boolean;
}

export interface ForecastInput {
  /** The open cycle's daily net credits (any order; days outside the window are ignored). */
  readonly days: readonly DailyNetCredits[];
  readonly remaining: number;
  readonly cycleStartedAt: string;
  readonly cycleEndsAt: string;
  /** An account opened mid-cycle has burnt nothing before: the window starts no earlier. */
  readonly openedAt?: string;
  readonly nowMs: number;
}

/**
 * The daily list with `credits` added to the day of `occurredAt`. Days that can no longer fall in a
 * window are dropped, so the list holds at most FORECAST_WINDOW_DAYS + 1 entries, newest last.
 */
export function addDailyNet(days: readonly DailyNetCredits[], occurredAt: string, credits: number): readonly DailyNetCredits[] {
  const dayNumber = Math.floor(Date.parse(occurredAt) / DAY_MS);
  // The usual case, every movement of the day: the newest day changes and nothing drops out of the window.
  const last = days.length - 1;
  if (last >= 0 && days[last].dayNumber === dayNumber && days[0].dayNumber >= dayNumber - FORECAST_WINDOW_DAYS) {
    const next = days.slice();
    next[last] = { dayNumber, credits: days[last].credits + credits };
    return next;
  }
  const newestDay = Math.max(dayNumber, days.length > 0 ? days[days.length - 1].dayNumber : dayNumber);
  const kept = days.filter((day) => day.dayNumber >= newestDay - FORECAST_WINDOW_DAYS);
  if (dayNumber < newestDay - FORECAST_WINDOW_DAYS) return kept;
  const index = kept.findIndex((day) => day.dayNumber === dayNumber);
  if (index >= 0) return kept.map((day, at) => (at === index ? { dayNumber, credits: day.credits + credits } : day));
  return [...kept, { dayNumber, credits }].sort((first, second) => first.dayNumber - second.dayNumber);
}

/**
 * The window is the last FORECAST_WINDOW_DAYS UTC days, today included, or the open cycle if it
 * started later (or the account, if it opened later still). Its burn is its net credits divided by its elapsed days (at least one, so the first
 * hours of a cycle do not extrapolate a minute's usage to a day).
 */
export function forecastDepletion(input: ForecastInput): DepletionForecast {
  const todayStartMs = Math.floor(input.nowMs / DAY_MS) * DAY_MS;
  const openedMs = input.openedAt === undefined ? 0 : Date.parse(input.openedAt);
  const windowStartMs = Math.max(todayStartMs - (FORECAST_WINDOW_DAYS - 1) * DAY_MS, Date.parse(input.cycleStartedAt), openedMs);
  const firstDay = Math.floor(windowStartMs / DAY_MS);
  const todayNumber = todayStartMs / DAY_MS;
  let netCredits = 0;
  for (const day of input.days) if (day.dayNumber >= firstDay && day.dayNumber <= todayNumber) netCredits += day.credits;
  const elapsedDays = Math.max(1, (input.nowMs - windowStartMs) / DAY_MS);
  const burnPerDay = netCredits / elapsedDays;
  const dailyBurn = Math.round(burnPerDay * 100) / 100;
  if (burnPerDay <= 0) return { dailyBurn: Math.max(0, dailyBurn), projectedDepletionAt: null, lastsCycle: true };
  const depletionMs = input.nowMs + (Math.max(0, input.remaining) / burnPerDay) * DAY_MS;
  if (depletionMs >= Date.parse(input.cycleEndsAt)) return { dailyBurn, projectedDepletionAt: null, lastsCycle: true };
  return { dailyBurn, projectedDepletionAt: new Date(Math.floor(depletionMs / 1000) * 1000).toISOString(), lastsCycle: false };
}

/**
 * The forecast of one credit type of an open account at `nowMs`, on what is available (remaining
 * minus what open reservations hold): held credits are spoken for, and new work is already
 * decided without them.
 */
export function forecastCreditType(state: OpenAccountState, creditType: string, nowMs: number): DepletionForecast {
  const held = Object.hasOwn(state.holds.reserved, creditType) ? state.holds.reserved[creditType] : 0;
  return forecastDepletion({
    days: Object.hasOwn(state.dailyNet, creditType) ? state.dailyNet[creditType] : [],
    remaining: (Object.hasOwn(state.creditTypes, creditType) ? state.creditTypes[creditType].figures.remaining : 0) - held,
    cycleStartedAt: state.cycleStartedAt,
    cycleEndsAt: state.cycleEndsAt,
    openedAt: state.openedAt,
    nowMs,
  });
}
