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
/** Grant burn-down priorities (higher first; the cycle allocation and rollovers are 0). */
export const MIN_GRANT_PRIORITY = -1_000;
export const MAX_GRANT_PRIORITY = 1_000;

/** feature, action, creditType and dataRequested identifiers. */
export const IDENTIFIER_PATTERN = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;
/** Client-chosen ids (accountId, consumptionId, refundId, grantId, cycleId): UUIDs fit. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
/** Team member ids: anything printable without whitespace (emails, UUIDs, numeric ids). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what the pattern refuses
export const USER_ID_PATTERN = /^[^\s\u0000-\u001f\u007f]{1,128}$/;
/** dataKey: the id of the bought datum (a contact id, for example). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what the pattern refuses
export const DATA_KEY_PATTERN = /^[^\s\u0000-\u001f\u007f]{1,256}$/;

export function isCreditAmount(value: unknown, min = 1, max = MAX_CREDITS_PER_MOVEMENT): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}
