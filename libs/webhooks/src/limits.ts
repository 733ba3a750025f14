/** Named limits of webhooks: enforced at the HTTP boundary and by the dispatcher, documented in docs/webhooks.md. */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const DAY_MS = 24 * HOUR;

/** One HTTP attempt: past this the attempt failed (and is retried). */
export const WEBHOOK_TIMEOUT_MS = 10 * SECOND;
/** What is read of a receiver's answer (kept in the delivery log, truncated). */
export const WEBHOOK_MAX_RESPONSE_BYTES = 64 * 1024;
/** What the delivery log keeps of a response body. */
export const WEBHOOK_LOGGED_RESPONSE_CHARS = 1_000;
/**
 * Retry back-off, from the previous attempt: each delay is drawn in [delay/2, delay] (jitter), so the
 * first retry comes within 5 s. A delivery is retried until 3 days after its first attempt, then it fails.
 */
export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [
  5 * SECOND,
  30 * SECOND,
  2 * MINUTE,
  10 * MINUTE,
  30 * MINUTE,
  1 * HOUR,
  2 * HOUR,
  4 * HOUR,
  8 * HOUR,
  12 * HOUR,
];
export const WEBHOOK_RETRY_WINDOW_MS = 3 * DAY_MS;
/** An endpoint whose every attempt failed for this long is disabled. */
export const WEBHOOK_DISABLE_AFTER_MS = 5 * DAY_MS;
/** After a rotation the previous secret still signs (second signature) for this long. */
export const WEBHOOK_SECRET_OVERLAP_MS = DAY_MS;
/** Attempts kept per delivery in the log (the oldest are dropped). */
export const WEBHOOK_MAX_LOGGED_ATTEMPTS = 20;

export const MAX_WEBHOOKS_PER_ACCOUNT = 20;
export const MAX_OPERATOR_WEBHOOKS = 20;
export const MAX_WEBHOOK_URL_LENGTH = 2_048;
export const MAX_WEBHOOK_DESCRIPTION_LENGTH = 500;
export const DEFAULT_DELIVERIES_PAGE = 100;
export const MAX_DELIVERIES_PAGE = 1_000;
/** Messages one replay call re-sends; more: the answer names the position to continue from. */
export const MAX_REPLAY_MESSAGES = 10_000;

/** Requests in flight at once, in all, and to one endpoint (a slow endpoint never takes every slot). */
export const MAX_IN_FLIGHT = 512;
export const MAX_IN_FLIGHT_PER_ENDPOINT = 32;
/** How often the dispatcher looks for due retries and grant timers when nothing wakes it. */
export const DISPATCH_POLL_MS = 500;
/** The dispatcher lease in the shared store: held by one process, renewed well before it lapses. */
export const WEBHOOK_LEASE_TTL_MS = 10 * SECOND;
export const WEBHOOK_LEASE_RENEW_MS = 2 * SECOND;

export const DEFAULT_FORECAST_HORIZON_DAYS = 3;
export const DEFAULT_GRANT_EXPIRING_DAYS = 7;
export const MAX_NOTICE_DAYS = 90;
