import { createHash } from 'node:crypto';
import { CURRENT_SCHEMA_VERSION, isLedgerEventType, LedgerEvent, LedgerEventType } from '../../../domain/src';
import { EventToAppend, RecordedEvent } from '../../../event-store/src';

/** Namespace of deterministic event ids: the same command on the same stream always yields the same ids. */
const EVENT_ID_NAMESPACE = '6f1d9a52-3c7e-4b8a-9d21-5e0c7f4a8b13';

export interface CommandContext {
  readonly actor: string;
  readonly correlationId: string;
  readonly recordedAt: string;
}

/** Upcasters: `type -> fromVersion -> fn` turning a stored payload of that version into the next one. */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;
export const UPCASTERS: Readonly<Partial<Record<LedgerEventType, Readonly<Record<number, Upcaster>>>>> = {
  // Every event type is at version 1; the first payload change adds e.g. `CreditConsumed: { 1: (d) => ({ ...d, newField: null }) }`.
};

export class UnknownEventTypeError extends Error {
  constructor(readonly position: number, readonly type: string) {
    super(`event at position ${position} has unknown type "${type}"`);
    this.name = 'UnknownEventTypeError';
  }
}

export class UnsupportedSchemaVersionError extends Error {
  constructor(readonly position: number, readonly type: string, readonly schemaVersion: unknown) {
    super(`event ${type} at position ${position} has schemaVersion ${String(schemaVersion)}, which this version cannot read`);
    this.name = 'UnsupportedSchemaVersionError';
  }
}

const NAMESPACE_BYTES = Buffer.from(EVENT_ID_NAMESPACE.replace(/-/g, ''), 'hex');

/**
 * RFC 4122 version-5 (name-based, SHA-1) UUID of (stream, command, index). Written against
 * node:crypto directly because it runs for every event on the hot path; `uuid`'s v5 gives the
 * same ids (checked in event-codec.spec.ts).
 */
export function eventIdFor(streamId: string, commandKey: string, index: number): string {
  const hash = createHash('sha1').update(NAMESPACE_BYTES).update(`${streamId}\u0000${commandKey}\u0000${index}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function encodeEvents(
  streamId: string,
  commandKey: string,
  events: readonly LedgerEvent[],
  ctx: CommandContext,
): EventToAppend[] {
  return events.map((e, i) => ({
    eventId: eventIdFor(streamId, commandKey, i),
    type: e.type,
    data: e.data,
    metadata: {
      schemaVersion: CURRENT_SCHEMA_VERSION[e.type],
      occurredAt: e.occurredAt,
      recordedAt: ctx.recordedAt,
      actor: ctx.actor,
      correlationId: ctx.correlationId,
      causationId: commandKey,
    },
  }));
}

/** Stored event -> domain event at the current schema version. Stored events are never rewritten. */
export function decodeEvent(recorded: RecordedEvent): LedgerEvent {
  if (!isLedgerEventType(recorded.type)) throw new UnknownEventTypeError(recorded.position, recorded.type);
  const current = CURRENT_SCHEMA_VERSION[recorded.type];
  let version = recorded.metadata?.schemaVersion;
  if (!Number.isInteger(version) || (version as number) < 1 || (version as number) > current) {
    throw new UnsupportedSchemaVersionError(recorded.position, recorded.type, version);
  }
  let data = recorded.data as Record<string, unknown>;
  const steps = UPCASTERS[recorded.type] ?? {};
  while ((version as number) < current) {
    const up = steps[version as number];
    if (!up) throw new UnsupportedSchemaVersionError(recorded.position, recorded.type, version);
    data = up(data);
    version = (version as number) + 1;
  }
  return { type: recorded.type, data, occurredAt: recorded.metadata.occurredAt } as unknown as LedgerEvent;
}
