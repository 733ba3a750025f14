import { WEBHOOK_RETRY_DELAYS_MS, WEBHOOK_RETRY_WINDOW_MS } from '../limits';

/**
 * When to try again after the `failedAttempts`-th failed attempt (1 = the first), or null when the
 * delivery has been failing for WEBHOOK_RETRY_WINDOW_MS since its first attempt (it fails for good).
 * The delay is the schedule's step drawn in [step/2, step] (`random` in [0, 1)), so retries of many
 * deliveries spread out and the first comes within 5 s.
 */
export function nextAttemptAt(failedAttempts: number, firstAttemptAt: number, attemptAt: number, random: number): number | null {
  const step = WEBHOOK_RETRY_DELAYS_MS[Math.min(failedAttempts, WEBHOOK_RETRY_DELAYS_MS.length) - 1];
  const next = attemptAt + Math.round(step * (0.5 + random / 2));
  return next - firstAttemptAt > WEBHOOK_RETRY_WINDOW_MS ? null : next;
}
