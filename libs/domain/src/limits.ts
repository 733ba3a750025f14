/**
 * Named limits of the domain. Every amount is an integer number of credits; these bounds keep
 * every running total a safe integer (2^53) even after billions of movements.
 */
export const MAX_CREDITS_PER_MOVEMENT = 1_000_000_000;
export const MAX_ALLOCATION_PER_CREDIT_TYPE = 1_000_000_000_000;
export const MAX_OVERDRAFT_LIMIT = 1_000_000_000_000;
export const MAX_CREDIT_TYPES_PER_PLAN = 32;
export const MAX_DESCRIPTION_LENGTH = 500;
export const MAX_REASON_LENGTH = 500;
export const MAX_NAME_LENGTH = 200;
/** Entries of a plan's rate card at most. */
export const MAX_RATES_PER_PLAN = 1_000;
/** Units of one consumption at most (priced: rate x units, itself at most MAX_CREDITS_PER_MOVEMENT). */
export const MAX_UNITS_PER_CONSUMPTION = 1_000_000;
/** A member's budget per credit type and cycle at most. */
export const MAX_MEMBER_LIMIT = 1_000_000_000_000;
/** A reservation's lifetime: `expiresInSeconds` from 1 to a day, 15 minutes unless the client says. */
export const MIN_RESERVATION_SECONDS = 1;
export const MAX_RESERVATION_SECONDS = 86_400;
export const DEFAULT_RESERVATION_SECONDS = 900;
/** Reservations open at once on one account at most (each decision on the account looks at them). */
export const MAX_OPEN_RESERVATIONS_PER_ACCOUNT = 1_000;

/** Grant burn-down priorities (higher first; the cycle allocation and rollovers are 0). */
export const MIN_GRANT_PRIORITY = -1_000;
export const MAX_GRANT_PRIORITY = 1_000;

/**
 * Names a JavaScript object already answers to (`constructor`, `__proto__`, `toString`,
 * `hasOwnProperty`, ...): refused as credit types, features, actions, user ids and plan keys, so
 * that no client string can ever reach an object's prototype.
 */
export const RESERVED_NAMES: readonly string[] = Object.getOwnPropertyNames(Object.prototype);
const NOT_RESERVED = `(?!(?:${RESERVED_NAMES.map((name) => name.replace(/[$]/g, '\\$&')).join('|')})$)`;

export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.includes(name);
}

/** feature, action, creditType and dataRequested identifiers (never a reserved name). */
export const IDENTIFIER_PATTERN = new RegExp(`^${NOT_RESERVED}[a-z0-9][a-z0-9_.:-]{0,63}$`);
/** Client-chosen ids (accountId, consumptionId, refundId, grantId, cycleId): UUIDs fit. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/**
 * Characters refused in identifiers besides whitespace: control characters, zero-width and
 * bidirectional controls (they make look-alike ids) and lone surrogates (not text). Allowed in
 * descriptions, except lone surrogates, which no text field takes.
 */
const INVISIBLE_OR_BROKEN =
  '\\s\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ud800-\\udfff';
/** Team member ids: anything printable without whitespace (emails, UUIDs, numeric ids), NFC-normalised by the transports. */
export const USER_ID_PATTERN = new RegExp(`^${NOT_RESERVED}[^${INVISIBLE_OR_BROKEN}]{1,128}$`, 'u');
/** dataKey: the id of the bought datum (a contact id, for example). */
export const DATA_KEY_PATTERN = new RegExp(`^[^${INVISIBLE_OR_BROKEN}]{1,256}$`, 'u');
/** A lone surrogate: half of a UTF-16 pair, not text; refused in every string a client sends. */
export const LONE_SURROGATE = /\p{Cs}/u;

export function isCreditAmount(value: unknown, min = 1, max = MAX_CREDITS_PER_MOVEMENT): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/**
 * A record keyed by names that come from clients (credit types, user ids, features): no
 * prototype, so `__proto__` or `constructor` is a key like any other, on write and on read.
 */
export function emptyRecord<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/** `record[key]` if the record has it as its own property (never a member of Object.prototype). */
export function ownValue<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
