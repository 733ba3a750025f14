import {
  CLIENT_ID_PATTERN,
  DATA_KEY_PATTERN,
  IDENTIFIER_PATTERN,
  MAX_CREDITS_PER_MOVEMENT,
  MAX_DESCRIPTION_LENGTH,
  USER_ID_PATTERN,
} from '@credit-ledger/domain';

const REQUIRED = ['consumptionId', 'userId', 'creditType', 'feature', 'action', 'credits'] as const;
const OPTIONAL = new Set(['description', 'dataRequested', 'dataKey', 'occurredAt']);

const absent = (v: unknown) => v === undefined || v === null;

/**
 * A conservative shortcut in front of ConsumeCreditsDto's class-validator rules for the common,
 * plainly valid consumption: true only when class-validator would accept the object too (a
 * property test holds it to that), false whenever in doubt, and then the caller validates with
 * the DTO, which also gives the exact problems. class-validator costs ~10 µs per item, a quarter
 * of the ingestor's CPU per message; this check costs well under 1 µs.
 */
export function isCertainlyValidConsumption(plain: unknown): boolean {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) return false;
  const o = plain as Record<string, unknown>;
  let known = 0;
  for (const key of Object.keys(o)) {
    if (OPTIONAL.has(key)) known++;
    else if (!(REQUIRED as readonly string[]).includes(key)) return false; // whitelist + forbidNonWhitelisted
  }
  if (Object.keys(o).length !== known + REQUIRED.length) return false; // a required field is missing
  if (typeof o.consumptionId !== 'string' || !CLIENT_ID_PATTERN.test(o.consumptionId)) return false;
  if (typeof o.userId !== 'string' || !USER_ID_PATTERN.test(o.userId)) return false;
  for (const k of ['creditType', 'feature', 'action'] as const) {
    const v = o[k];
    if (typeof v !== 'string' || !IDENTIFIER_PATTERN.test(v)) return false;
  }
  const credits = o.credits;
  if (typeof credits !== 'number' || !Number.isInteger(credits) || credits < 1 || credits > MAX_CREDITS_PER_MOVEMENT) return false;
  // UTF-16 length >= the validator's length (which counts a surrogate pair once): within it, surely within MaxLength.
  if (!absent(o.description) && (typeof o.description !== 'string' || o.description.length > MAX_DESCRIPTION_LENGTH)) return false;
  if (!absent(o.dataRequested) && (typeof o.dataRequested !== 'string' || !IDENTIFIER_PATTERN.test(o.dataRequested))) return false;
  if (!absent(o.dataKey) && (typeof o.dataKey !== 'string' || !DATA_KEY_PATTERN.test(o.dataKey))) return false;
  // The business time depends on the clock (not too far ahead): left to the DTO.
  if (!absent(o.occurredAt)) return false;
  return true;
}
