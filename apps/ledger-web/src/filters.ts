import { addDays, isCalendarDate, localDate, startOfLocalDay } from './dates';

/** The history page's whole state, held in the URL (shareable; Back and Forward work). */
export const PRESETS = ['today', '7d', '30d', 'cycle', 'previous-cycle', 'custom'] as const;
export type Preset = (typeof PRESETS)[number];
export const GROUPS = ['feature', 'user', 'creditType', 'action'] as const;
export type Group = (typeof GROUPS)[number];
export const ZONES = ['account', 'browser'] as const;
export type ZoneChoice = (typeof ZONES)[number];

export interface HistoryFilters {
  readonly preset: Preset;
  /** custom: first and last local day, inclusive (YYYY-MM-DD). */
  readonly from?: string;
  readonly to?: string;
  readonly user?: string;
  readonly feature?: string;
  readonly action?: string;
  readonly creditType?: string;
  readonly refunds: boolean;
  /** Reservations' holds, releases and expiries as rows of the table. */
  readonly holds: boolean;
  readonly groupBy: Group;
  readonly tz: ZoneChoice;
  /** Related movements: one consumption and its refunds, or every access to a datum. */
  readonly consumptionId?: string;
  readonly dataKey?: string;
}

export const DEFAULT_FILTERS: HistoryFilters = { preset: '30d', refunds: false, holds: false, groupBy: 'feature', tz: 'account' };

export const PRESET_LABELS: Record<Preset, string> = {
  today: 'Today',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  cycle: 'This cycle',
  'previous-cycle': 'Previous cycle',
  custom: 'Custom range',
};
export const GROUP_LABELS: Record<Group, string> = { feature: 'Feature', user: 'Team member', creditType: 'Credit type', action: 'Action' };

// The API's own patterns (libs/domain/src/limits.ts), so that a bad link never reaches it.
const IDENTIFIER = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
// eslint-disable-next-line no-control-regex -- control characters are what the pattern refuses
const VISIBLE = /^[^\s\u0000-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]+$/u;
/** The longest custom range the graph can bucket by day/week/month (the API's 800 buckets, by month). */
export const MAX_CUSTOM_RANGE_DAYS = 3_660;

const KNOWN = new Set([
  'preset',
  'from',
  'to',
  'user',
  'feature',
  'action',
  'creditType',
  'refunds',
  'holds',
  'groupBy',
  'tz',
  'consumptionId',
  'dataKey',
  'account',
]);

function oneOf<T extends string>(value: string | null, allowed: readonly T[]): value is T {
  return value !== null && (allowed as readonly string[]).includes(value);
}

/**
 * The filters a URL's query holds, and a message per value that is not understood: the page shows
 * those messages and uses the default for that value instead (never a blank page).
 */
export function parseFilters(params: URLSearchParams): { filters: HistoryFilters; problems: string[] } {
  const problems: string[] = [];
  const f: { -readonly [K in keyof HistoryFilters]: HistoryFilters[K] } = { ...DEFAULT_FILTERS };
  const text = (name: string, pattern: RegExp, max: number, what: string): string | undefined => {
    const value = params.get(name);
    if (value === null || value === '') return undefined;
    if (value.length > max || !pattern.test(value)) {
      problems.push(`“${name}” is not ${what}: ${JSON.stringify(value.slice(0, 80))} was ignored.`);
      return undefined;
    }
    return value;
  };
  for (const name of new Set(params.keys())) if (!KNOWN.has(name)) problems.push(`“${name}” is not a filter of this page; it was ignored.`);

  const preset = params.get('preset');
  if (preset !== null) {
    if (oneOf(preset, PRESETS)) f.preset = preset;
    else problems.push(`“preset” must be one of ${PRESETS.join(', ')}; “${preset.slice(0, 40)}” was ignored.`);
  }
  if (f.preset === 'custom') {
    const from = params.get('from') ?? '';
    const to = params.get('to') ?? '';
    if (!isCalendarDate(from) || !isCalendarDate(to)) {
      problems.push('A custom range needs “from” and “to” as real dates (YYYY-MM-DD); showing the last 30 days instead.');
      f.preset = '30d';
    } else if (from > to) {
      problems.push(`The range starts (${from}) after it ends (${to}); showing the last 30 days instead.`);
      f.preset = '30d';
    } else if ((Date.parse(to) - Date.parse(from)) / 86_400_000 > MAX_CUSTOM_RANGE_DAYS) {
      problems.push(`A range is at most ${MAX_CUSTOM_RANGE_DAYS} days; showing the last 30 days instead.`);
      f.preset = '30d';
    } else {
      f.from = from;
      f.to = to;
    }
  }
  f.user = text('user', VISIBLE, 128, 'a team member id');
  f.feature = text('feature', IDENTIFIER, 64, 'a feature name');
  f.action = text('action', IDENTIFIER, 64, 'an action name');
  if (f.action !== undefined && f.feature === undefined) {
    problems.push('An action is chosen within a feature; “action” without “feature” was ignored.');
    f.action = undefined;
  }
  f.creditType = text('creditType', IDENTIFIER, 64, 'a credit type');
  f.consumptionId = text('consumptionId', CLIENT_ID, 128, 'a consumption id');
  f.dataKey = text('dataKey', VISIBLE, 256, 'a data key');
  const refunds = params.get('refunds');
  if (refunds !== null) {
    if (refunds === '1' || refunds === '0') f.refunds = refunds === '1';
    else problems.push('“refunds” must be 1 or 0; it was ignored.');
  }
  const holds = params.get('holds');
  if (holds !== null) {
    if (holds === '1' || holds === '0') f.holds = holds === '1';
    else problems.push('“holds” must be 1 or 0; it was ignored.');
  }
  const groupBy = params.get('groupBy');
  if (groupBy !== null) {
    if (oneOf(groupBy, GROUPS)) f.groupBy = groupBy;
    else problems.push(`“groupBy” must be one of ${GROUPS.join(', ')}; it was ignored.`);
  }
  const tz = params.get('tz');
  if (tz !== null) {
    if (oneOf(tz, ZONES)) f.tz = tz;
    else problems.push('“tz” must be account or browser; it was ignored.');
  }
  return { filters: f, problems };
}

/** The query for some filters: only what differs from the defaults, in a stable order. */
export function filtersToParams(f: HistoryFilters, account?: string): URLSearchParams {
  const p = new URLSearchParams();
  if (account) p.set('account', account);
  if (f.preset !== DEFAULT_FILTERS.preset) p.set('preset', f.preset);
  if (f.preset === 'custom' && f.from && f.to) {
    p.set('from', f.from);
    p.set('to', f.to);
  }
  if (f.user) p.set('user', f.user);
  if (f.feature) p.set('feature', f.feature);
  if (f.feature && f.action) p.set('action', f.action);
  if (f.creditType) p.set('creditType', f.creditType);
  if (f.consumptionId) p.set('consumptionId', f.consumptionId);
  if (f.dataKey) p.set('dataKey', f.dataKey);
  if (f.refunds !== DEFAULT_FILTERS.refunds) p.set('refunds', f.refunds ? '1' : '0');
  if (f.holds !== DEFAULT_FILTERS.holds) p.set('holds', f.holds ? '1' : '0');
  if (f.groupBy !== DEFAULT_FILTERS.groupBy) p.set('groupBy', f.groupBy);
  if (f.tz !== DEFAULT_FILTERS.tz) p.set('tz', f.tz);
  return p;
}

export interface CycleBounds {
  readonly startedAt: string;
  readonly endsAt: string;
}

export interface ResolvedRange {
  /** Inclusive ISO instant. */
  readonly from: string;
  /** Exclusive ISO instant. */
  readonly to: string;
  readonly bucket: 'day' | 'week' | 'month';
}

/** The graph's bucket for a range: days up to 6 weeks, weeks up to 7 months, then months. */
export function bucketFor(fromMs: number, toMs: number): 'day' | 'week' | 'month' {
  const days = (toMs - fromMs) / 86_400_000;
  return days <= 45 ? 'day' : days <= 215 ? 'week' : 'month';
}

/** The instants a preset stands for, in a zone: whole local days, or the cycle's own bounds. */
export function resolveRange(f: HistoryFilters, now: number, timeZone: string, cycle: CycleBounds, previous: CycleBounds | null): ResolvedRange {
  const today = localDate(now, timeZone);
  const days = (first: string, last: string) => [startOfLocalDay(first, timeZone), startOfLocalDay(addDays(last, 1), timeZone)];
  let span: number[];
  switch (f.preset) {
    case 'today':
      span = days(today, today);
      break;
    case '7d':
      span = days(addDays(today, -6), today);
      break;
    case '30d':
      span = days(addDays(today, -29), today);
      break;
    case 'cycle':
      span = [Date.parse(cycle.startedAt), Date.parse(cycle.endsAt)];
      break;
    case 'previous-cycle':
      span = previous ? [Date.parse(previous.startedAt), Date.parse(previous.endsAt)] : [Date.parse(cycle.startedAt), Date.parse(cycle.startedAt) + 1];
      break;
    case 'custom':
      span = days(f.from ?? today, f.to ?? today);
      break;
    default: {
      const unknown: never = f.preset;
      throw new Error(`unknown preset ${String(unknown)}`);
    }
  }
  const [from, to] = span;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucket: bucketFor(from, to) };
}
