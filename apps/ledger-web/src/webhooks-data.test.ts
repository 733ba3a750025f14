import { describe, expect, it } from 'vitest';
import { ACCOUNT_EVENT_TYPES, deliveryAction, endpointState, lastAttemptAt, parseStatusFilter, urlProblem } from './webhooks-data';

describe('webhooks page data', () => {
  it('offers every account event type with its meaning, not the operator-only ones', () => {
    const types = ACCOUNT_EVENT_TYPES.map((t) => t.type);
    expect(types).toContain('credits.threshold_crossed');
    expect(types).toContain('reservation.expired');
    expect(types).not.toContain('endpoint.disabled');
    expect(ACCOUNT_EVENT_TYPES.every((t) => t.help.length > 0)).toBe(true);
  });

  it('says an endpoint’s state: enabled, failing, disabled with its reason', () => {
    expect(endpointState({ enabled: true, disabledReason: null, failingSince: null })).toEqual({ label: 'Enabled', tone: 'ok' });
    expect(endpointState({ enabled: true, disabledReason: null, failingSince: '2026-11-20T10:15:30.000Z' })).toEqual({
      label: 'Enabled, failing since 2026-11-20 10:15 UTC',
      tone: 'warning',
    });
    expect(endpointState({ enabled: false, disabledReason: '410 Gone', failingSince: null })).toEqual({ label: 'Disabled (410 Gone)', tone: 'bad' });
  });

  it('retries what did not succeed, replays what did; the last attempt is the newest', () => {
    expect(deliveryAction({ status: 'failed' })).toBe('retry');
    expect(deliveryAction({ status: 'pending' })).toBe('retry');
    expect(deliveryAction({ status: 'succeeded' })).toBe('replay');
    const attempt = (at: string) => ({ at, statusCode: 500, latencyMs: 3, error: null, response: null });
    expect(lastAttemptAt({ attempts: [] })).toBeNull();
    expect(lastAttemptAt({ attempts: [attempt('2026-11-20T10:00:00.000Z'), attempt('2026-11-20T10:00:05.000Z')] })).toBe('2026-11-20T10:00:05.000Z');
  });

  it('reads the status filter from the URL (anything else: all) and checks the URL field', () => {
    expect(parseStatusFilter('failed')).toBe('failed');
    expect(parseStatusFilter('nope')).toBeNull();
    expect(parseStatusFilter(null)).toBeNull();
    expect(urlProblem('https://example.com/hooks')).toBeNull();
    expect(urlProblem('example.com/hooks')).toMatch(/absolute URL/);
    expect(urlProblem('ftp://example.com/hooks')).toMatch(/https:\/\//);
  });
});
