/** Earliest and latest calendar years an instant given by a client may fall in. */
export const MIN_INSTANT_YEAR = 1970;
export const MAX_INSTANT_YEAR = 9999;
const MAX_OFFSET_MINUTES = 14 * 60;

const INSTANT_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Milliseconds of an ISO-8601 instant with a time zone, strictly: a real calendar date (never
 * 2026-02-30 rolled into March), hours 00..23, minutes and seconds 00..59, an offset within
 * ±14:00, a year in MIN_INSTANT_YEAR..MAX_INSTANT_YEAR. Null for anything else. The one parser
 * of instants that enter from outside (HTTP bodies and queries, Kafka messages).
 */
export function parseInstant(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const match = INSTANT_PATTERN.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((group) => Number(match[group]));
  const second = match[6] === undefined ? 0 : Number(match[6]);
  if (year < MIN_INSTANT_YEAR || year > MAX_INSTANT_YEAR || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  let offsetMinutes = 0;
  if (match[8] !== 'Z') {
    const [offsetHours, offsetMins] = [Number(match[10]), Number(match[11])];
    if (offsetMins > 59) return null;
    offsetMinutes = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
    if (Math.abs(offsetMinutes) > MAX_OFFSET_MINUTES) return null;
  }
  const fraction = match[7] === undefined ? 0 : Math.floor(Number(`0${match[7]}`) * 1000);
  return Date.UTC(year, month - 1, day, hour, minute, second, fraction) - offsetMinutes * 60_000;
}
