import { afterEach, describe, expect, it, vi } from 'vitest';
import { LedgerApiError, load, MAX_RETRIES } from './api';

const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  data: status < 300 ? body : undefined,
  error: status >= 300 ? body : undefined,
  response: new Response(null, { status, headers }),
});

afterEach(() => vi.useRealTimers());

describe('load: 503 READ_MODELS_BEHIND is retried after Retry-After, other errors are not', () => {
  it('retries a retryable 503 and returns the data once it answers', async () => {
    vi.useFakeTimers();
    const calls = vi
      .fn()
      .mockResolvedValueOnce(answer(503, { error: 'READ_MODELS_BEHIND', message: 'behind' }, { 'Retry-After': '1' }))
      .mockResolvedValueOnce(answer(503, { error: 'TOO_MANY_HEAVY_READS', message: 'busy' }, { 'Retry-After': '2' }))
      .mockResolvedValueOnce(answer(200, { ok: true }));
    const retries: number[] = [];
    const result = load(calls, (attempt) => retries.push(attempt));
    await vi.advanceTimersByTimeAsync(3_000);
    await expect(result).resolves.toEqual({ ok: true });
    expect(retries).toEqual([1, 2]);
  });

  it('gives up after MAX_RETRIES and throws the 503', async () => {
    vi.useFakeTimers();
    const calls = vi.fn().mockResolvedValue(answer(503, { error: 'READ_MODELS_BEHIND', message: 'behind' }, { 'Retry-After': '1' }));
    const result = load(calls).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    const error = await result;
    expect(error).toBeInstanceOf(LedgerApiError);
    expect(calls).toHaveBeenCalledTimes(MAX_RETRIES + 1);
  });

  it('throws a 401 or 403 at once, with its code', async () => {
    const forbidden = vi.fn().mockResolvedValue(answer(403, { error: 'FORBIDDEN', message: 'no' }));
    await expect(load(forbidden)).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(forbidden).toHaveBeenCalledTimes(1);
    await expect(load(vi.fn().mockResolvedValue(answer(401, { error: 'UNAUTHORIZED', message: 'revoked' })))).rejects.toMatchObject({ status: 401 });
  });
});
