import { randomUUID } from 'node:crypto';
import { EventToAppend } from '../event-store.port';

/** Metadata of a test event (the store only checks that it is there). */
export const TEST_EVENT_METADATA = { schemaVersion: 1, occurredAt: 'x', recordedAt: 'x', actor: 'a', correlationId: 'c', causationId: 'c' };

/** One event to append, numbered by `sequence` in its data; `extra` overrides any field. */
export function anEvent(sequence = 1, extra: Partial<EventToAppend> = {}): EventToAppend {
  return { eventId: randomUUID(), type: 'ThingHappened', data: { n: sequence }, metadata: TEST_EVENT_METADATA, ...extra };
}

const WAIT_INTERVAL_MS = 10;
const DEFAULT_WAIT_TIMEOUT_MS = 60_000;

/**
 * Polls `condition` until it holds, or fails naming `what` after `timeoutMs`. The one waiting
 * helper of the test suites (synchronous or asynchronous conditions alike).
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>;
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>;
export async function waitFor(
  first: string | (() => boolean | Promise<boolean>),
  second?: number | (() => boolean | Promise<boolean>),
  third?: number,
): Promise<void> {
  const what = typeof first === 'string' ? first : 'a condition';
  const condition = typeof first === 'string' ? (second as () => boolean | Promise<boolean>) : first;
  const timeoutMs = (typeof first === 'string' ? third : (second as number | undefined)) ?? DEFAULT_WAIT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, WAIT_INTERVAL_MS));
  }
}
