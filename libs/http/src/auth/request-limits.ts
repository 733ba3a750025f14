import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../api-error';
import { FAILED_AUTH_WINDOW_SECONDS, MAX_FAILED_AUTH_PER_ADDRESS } from '../limits';

/** Seconds a refused client should wait, at least 1. */
function retryAfterSeconds(result: RateLimiterRes): number {
  return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
}

/**
 * Failed authentications counted per client address (rate-limiter-flexible): past
 * MAX_FAILED_AUTH_PER_ADDRESS in FAILED_AUTH_WINDOW_SECONDS, the address gets 429 + Retry-After
 * on every authenticated route, right key or not, until the window ends.
 */
export class FailedAuthLimiter {
  private readonly failures = new RateLimiterMemory({
    points: MAX_FAILED_AUTH_PER_ADDRESS,
    duration: FAILED_AUTH_WINDOW_SECONDS,
    blockDuration: FAILED_AUTH_WINDOW_SECONDS,
  });

  /** Throws 429 when the address is past the limit. */
  async refuseIfBlocked(address: string): Promise<void> {
    const current = await this.failures.get(address);
    if (current !== null && current.consumedPoints > MAX_FAILED_AUTH_PER_ADDRESS) throw tooManyFailures(current);
  }

  /** Counts one failure of the address (the caller then answers 401, or 429 once past the limit). */
  async recordFailure(address: string): Promise<void> {
    try {
      await this.failures.consume(address);
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) throw tooManyFailures(refusal);
      throw refusal;
    }
  }
}

function tooManyFailures(result: RateLimiterRes): ApiError {
  return new ApiError(
    429,
    'TOO_MANY_FAILED_AUTHENTICATIONS',
    `more than ${MAX_FAILED_AUTH_PER_ADDRESS} failed authentications from this address in ${FAILED_AUTH_WINDOW_SECONDS} s; retry later`,
    undefined,
    retryAfterSeconds(result),
  );
}

/** Requests per API key per minute (LEDGER_RATE_LIMIT_PER_KEY_PER_MINUTE; off when absent or 0). */
export class PerKeyRateLimiter {
  private readonly requests: RateLimiterMemory;

  constructor(private readonly perMinute: number) {
    this.requests = new RateLimiterMemory({ points: perMinute, duration: 60 });
  }

  async take(keyId: string): Promise<void> {
    try {
      await this.requests.consume(keyId);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      throw new ApiError(
        429,
        'RATE_LIMITED',
        `more than ${this.perMinute} requests per minute with this API key; retry later`,
        undefined,
        retryAfterSeconds(refusal),
      );
    }
  }
}
