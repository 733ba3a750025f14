import { LedgerApiError } from './api';

/** One credit type of a member this cycle, as the members API answers it. */
export interface MemberBudget {
  readonly used: number;
  readonly reserved: number;
  readonly limit: number | null;
  readonly limitSource: 'member' | 'default' | null;
  readonly remaining: number | null;
}

export interface BudgetFigures {
  /** used + reserved: what counts against the limit. */
  readonly spent: number;
  /** spent / limit clamped to [0, 1]; null without a limit (no meter). */
  readonly ratio: number | null;
  readonly level: 'ok' | 'warning' | 'exhausted';
  /** Where the limit comes from, for people. */
  readonly source: string;
}

/** The Members page's cell: what counts against the limit (used and held), the meter and its level. */
export function budgetFigures(b: MemberBudget): BudgetFigures {
  const spent = b.used + b.reserved;
  const source = b.limitSource === 'member' ? 'own limit' : b.limitSource === 'default' ? 'account default' : 'no limit';
  if (b.limit === null) return { spent, ratio: null, level: 'ok', source };
  const ratio = b.limit <= 0 ? 1 : Math.min(1, Math.max(0, spent / b.limit));
  const level = b.remaining !== null && b.remaining <= 0 ? 'exhausted' : ratio >= 0.8 ? 'warning' : 'ok';
  return { spent, ratio, level, source };
}

/** What the editor holds per credit type: the text typed, and whether the limit is to be removed. */
export interface LimitDraft {
  readonly value: string;
  readonly remove: boolean;
}
export type LimitDrafts = Readonly<Record<string, LimitDraft>>;

/** The editor's starting state: the limits set now (a type without one is empty). */
export function draftsFrom(limits: Readonly<Record<string, number>>, creditTypes: readonly string[]): LimitDrafts {
  return Object.fromEntries(creditTypes.map((t) => [t, { value: Object.hasOwn(limits, t) ? String(limits[t]) : '', remove: false }]));
}

/**
 * The PUT body of an edit: only the credit types that change (the API keeps the others), a number
 * for a new limit, null for an explicit removal. A limit emptied without "Remove" is a problem
 * (a removal is never implied by an empty box). The number is sent as typed: the API judges it
 * (400 with the field), so the console and the API never disagree on what is valid.
 */
export function limitsBody(
  current: Readonly<Record<string, number>>,
  drafts: LimitDrafts,
): { body: Record<string, number | null>; problems: Record<string, string> } {
  const body: Record<string, number | null> = {};
  const problems: Record<string, string> = {};
  for (const [creditType, draft] of Object.entries(drafts)) {
    const has = Object.hasOwn(current, creditType);
    if (draft.remove) {
      if (has) body[creditType] = null;
      continue;
    }
    const text = draft.value.trim();
    if (text === '') {
      if (has) problems[creditType] = 'Enter a number of credits, or tick “Remove the limit” to remove it.';
      continue;
    }
    const value = Number(text);
    if (!has || value !== current[creditType]) body[creditType] = Number.isNaN(value) ? (text as unknown as number) : value;
  }
  return { body, problems };
}

/** An API refusal of an edit, next to the form: per credit type (400 details), and the general message with its code. */
export interface EditFailure {
  readonly byCreditType: Record<string, string>;
  readonly message: string;
}

export function editFailure(error: unknown): EditFailure {
  if (!(error instanceof LedgerApiError)) return { byCreditType: {}, message: error instanceof Error ? error.message : String(error) };
  const byCreditType: Record<string, string> = {};
  const other: string[] = [];
  if (Array.isArray(error.details)) {
    for (const d of error.details as { field?: unknown; reason?: unknown }[]) {
      const field = String(d.field ?? '');
      const reason = String(d.reason ?? 'is not valid');
      if (field.startsWith('creditTypes.')) byCreditType[field.slice('creditTypes.'.length)] = reason;
      else other.push(`${field || 'the request'}: ${reason}`);
    }
  }
  const prefix = error.status === 409 ? `Refused (${error.code})` : error.status === 400 ? 'Not valid' : `Error ${error.status} (${error.code})`;
  return { byCreditType, message: `${prefix}: ${error.message}${other.length ? ` — ${other.join('; ')}` : ''}` };
}

// The API's user id rule (visible characters, at most 128).
// eslint-disable-next-line no-control-regex -- control characters are what the pattern refuses
const USER_ID = /^[^\s\u0000-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]{1,128}$/u;

/** The Members page's URL: `user=` narrows it to one member (a member key: always itself). */
export function parseMembersParams(params: URLSearchParams): { user?: string; problems: string[] } {
  const problems: string[] = [];
  for (const name of new Set(params.keys()))
    if (name !== 'user' && name !== 'account') problems.push(`“${name}” is not a filter of this page; it was ignored.`);
  const user = params.get('user');
  if (user === null || user === '') return { problems };
  if (!USER_ID.test(user)) {
    problems.push(`“user” is not a team member id: ${JSON.stringify(user.slice(0, 80))} was ignored.`);
    return { problems };
  }
  return { user, problems };
}
