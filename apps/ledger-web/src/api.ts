import { createLedgerClient, LedgerApiError, unwrap, type LedgerClient } from '@credit-ledger/client';

export { LedgerApiError };
export type Api = LedgerClient;

/** The client of the signed-in key, on the page's own origin. */
export function apiFor(key: string): Api {
  return createLedgerClient({ baseUrl: '', apiKey: key });
}

/** 503s worth retrying: the read models are catching up, or the heavy-read slots are taken. */
const RETRYABLE = new Set(['READ_MODELS_BEHIND', 'TOO_MANY_HEAVY_READS', 'STORE_UNAVAILABLE', 'CONCURRENCY_RETRY_EXHAUSTED']);
export const MAX_RETRIES = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The data of a call; a retryable 503 is retried after its Retry-After (at most MAX_RETRIES
 * times, `onRetry` told each time), anything else not 2xx throws LedgerApiError.
 */
export async function load<T>(call: () => Promise<{ data?: T; error?: unknown; response: Response }>, onRetry?: (attempt: number) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await unwrap(call());
    } catch (e) {
      if (!(e instanceof LedgerApiError) || e.status !== 503 || !RETRYABLE.has(e.code) || attempt > MAX_RETRIES) throw e;
      onRetry?.(attempt);
      await sleep(Math.min(5, e.retryAfterSeconds ?? 1) * 1000);
    }
  }
}

/** What a failed load says to the person looking at the page. */
export function explain(error: unknown): { title: string; detail: string } {
  if (error instanceof LedgerApiError) {
    if (error.status === 403)
      return { title: 'Not allowed', detail: `Your key’s role may not see this (${error.message}). Ask an admin of the account for a key that can.` };
    if (error.status === 404) return { title: 'Not found', detail: error.message };
    if (error.status === 400) return { title: 'The request was refused', detail: error.message };
    if (error.status === 503) return { title: 'The ledger is busy', detail: `${error.message} It was retried ${MAX_RETRIES} times; try again in a moment.` };
    if (error.status === 429) return { title: 'Too many requests', detail: error.message };
    return { title: `Error ${error.status}`, detail: error.message };
  }
  return { title: 'The ledger cannot be reached', detail: error instanceof Error ? error.message : String(error) };
}
