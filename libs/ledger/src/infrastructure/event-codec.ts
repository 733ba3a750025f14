import { randomUUID } from 'node:crypto';
import { CURRENT_SCHEMA_VERSION, isLedgerEventType, LedgerEvent, LedgerEventType } from '@credit-ledger/domain';
import { EventToAppend, RecordedEvent, UnreadableEventError } from '@credit-ledger/event-store';

export interface CommandContext {
  readonly actor: string;
  readonly correlationId: string;
  readonly recordedAt: string;
}

/** Upcasters: `type -> fromVersion -> fn` turning a stored payload of that version into the next one. */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;
type Json = Record<string, unknown>;

/** v1 figures had no rollover: rolledIn = 0 (the identity remaining = allocated + rolledIn + granted - used + refunded - expired holds). */
function figuresV2(f: unknown): Json {
  return { ...(f as Json), rolledIn: 0 };
}

const withBalanceV2: Upcaster = (d) => ({ ...d, balanceAfter: figuresV2(d.balanceAfter) });

/** Before rate cards every plan let clients price their consumptions and had no rates. */
const NO_RATE_CARD = { rates: [], clientPrices: true };

/**
 * v1 -> v2 (billing cycles: rollovers and grant priorities). Every v1 event was written before rollovers, grant priorities, scheduled
 * resets and plan changes existed, so the new fields take the values that meant exactly that.
 * Rate cards (AccountOpened and CreditConsumed v2 -> v3, CycleReset v2 -> v3, PlanChanged v1 -> v2): every earlier consumption was
 * priced by its client, for one unit, and every earlier plan had no rate card.
 * Reservations (CreditConsumed v3 -> v4, CycleReset v3 -> v4): no earlier consumption captured a reservation, and no
 * earlier reset found credits held.
 */
export const UPCASTERS: Readonly<Partial<Record<LedgerEventType, Readonly<Record<number, Upcaster>>>>> = {
  // v1 plans are v2 plans, v2 plans v3 plans (new plan and schedule fields are optional): the version marks that newer payloads may carry them.
  AccountOpened: { 1: (d) => d, 2: (d) => d },
  CreditConsumed: { 1: withBalanceV2, 2: (d) => ({ ...d, units: 1, pricedBy: 'client', rate: null }), 3: (d) => ({ ...d, reservationId: null }) },
  CreditRefunded: { 1: withBalanceV2 },
  CreditsGranted: { 1: (d) => ({ ...withBalanceV2(d), priority: 0 }) },
  CreditsExpired: { 1: (d) => ({ ...withBalanceV2(d), bucketId: `grant:${String(d.grantId)}` }) },
  CycleReset: {
    1: (d) => {
      const allocations = d.allocations as Record<string, number>;
      const carried = d.carriedOverGrants as { creditType: string; credits: number }[];
      return {
        ...d,
        trigger: 'manual', // v1 had no scheduled resets
        closing: (d.closing as Json[]).map((c) => ({ ...figuresV2(c), rolledOver: 0 })),
        rolledOver: [],
        opening: Object.keys(allocations)
          .sort()
          .map((creditType) => {
            const granted = carried.filter((g) => g.creditType === creditType).reduce((sum, g) => sum + g.credits, 0);
            const allocated = allocations[creditType];
            return { creditType, allocated, rolledIn: 0, granted, used: 0, refunded: 0, expired: 0, remaining: allocated + granted };
          }),
        planApplied: null,
        scheduleApplied: null,
      };
    },
    2: (d) => ({ ...d, planApplied: d.planApplied === null ? null : { ...(d.planApplied as Json), ...NO_RATE_CARD } }),
    3: (d) => ({ ...d, closing: (d.closing as Json[]).map((c) => ({ ...c, reservedAtReset: 0 })) }),
  },
  PlanChanged: { 1: (d) => ({ ...d, ...NO_RATE_CARD }) },
};

export class UnknownEventTypeError extends UnreadableEventError {
  constructor(
    position: number,
    readonly type: string,
  ) {
    super(position, `event at position ${position} has unknown type "${type}"`);
    this.name = 'UnknownEventTypeError';
  }
}

export class UnsupportedSchemaVersionError extends UnreadableEventError {
  constructor(
    position: number,
    readonly type: string,
    readonly schemaVersion: unknown,
  ) {
    super(position, `event ${type} at position ${position} has schemaVersion ${String(schemaVersion)}, which this version cannot read`);
    this.name = 'UnsupportedSchemaVersionError';
  }
}

/**
 * Domain events -> events to append. Event ids are random UUIDs: a retried command is recognised
 * by the domain (its client-chosen id), and a retried append by the store (same ids at the same
 * revisions), so an id needs no meaning of its own.
 */
export function encodeEvents(commandKey: string, events: readonly LedgerEvent[], ctx: CommandContext): EventToAppend[] {
  return events.map((e) => ({
    eventId: randomUUID(),
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
