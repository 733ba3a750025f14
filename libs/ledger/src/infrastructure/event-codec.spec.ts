import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CURRENT_SCHEMA_VERSION, fold, LEDGER_EVENT_TYPES, LedgerEvent, OpenAccountState } from '@credit-ledger/domain';
import { capture, consume, grant, open, refund, release, reserve, reset, run, sweep } from '@credit-ledger/domain/testing';
import { RecordedEvent } from '@credit-ledger/event-store';
import { decodeEvent, encodeEvents, UnknownEventTypeError, UnsupportedSchemaVersionError } from './event-codec';
import { accountIdOfStream, accountStream } from './stream-names';

const FIXTURES = join(__dirname, '../../../../test/fixtures/events');
const CTX = { actor: 'superuser', correlationId: 'corr-1', recordedAt: '2026-11-10T12:00:00.000Z' };

/** The scenario the v1 fixtures were written from (foundation, schemaVersion 1). */
const V1_COMMANDS = [
  open(),
  grant('g1', 10, { expiresAt: '2026-11-12T00:00:00.000Z' }),
  consume('c1', 3, { description: 'Jane Doe', dataRequested: 'email', dataKey: 'contact_1' }),
  refund('r1', 'c1', 1),
  consume('c2', 1, {}, '2026-11-13T00:00:00.000Z'),
  reset('2026-12', '2026-12-01T00:00:00.000Z'),
];
const V1_TYPES = ['AccountOpened', 'CreditsGranted', 'CreditConsumed', 'CreditRefunded', 'CreditsExpired', 'CycleReset'] as const;

/** One deterministic scenario that produces every event type at its current version. */
function scenario(): LedgerEvent[] {
  return run([
    ...V1_COMMANDS,
    {
      type: 'SetThresholds',
      at: '2026-12-02T00:00:00.000Z',
      data: {
        creditTypes: {
          email: [
            { kind: 'percent_used', value: 50 },
            { kind: 'remaining', value: 10 },
          ],
        },
      },
    },
    { type: 'ChangeSchedule', at: '2026-12-02T00:00:00.000Z', data: { schedule: { period: 'month', anchorDay: 'last', timezone: 'Europe/Paris' } } },
    {
      type: 'ChangePlan',
      at: '2026-12-11T00:00:00.000Z',
      data: {
        planId: 'pro',
        effective: 'now',
        creditTypes: {
          email: { allocation: 400, overdraft: { policy: 'deny' }, rollover: { maxPercent: 25, expiresAfterCycles: 2 } },
          mobile: { allocation: 10, overdraft: { policy: 'allow', limit: 5 } },
          export: { allocation: 50, overdraft: { policy: 'allow' } },
        },
      },
    },
    consume('c3', 200, {}, '2026-12-12T00:00:00.000Z'),
    { type: 'SetMemberLimits', at: '2026-12-12T00:00:00.000Z', data: { userId: 'ana', creditTypes: { email: 300, mobile: null } } },
    reserve('h1', 10, { creditType: 'mobile', description: 'waterfall for contact_9', expiresInSeconds: 600 }, '2026-12-12T01:00:00.000Z'),
    capture('h1', 'c5', 4, '2026-12-12T01:01:00.000Z', { dataRequested: 'mobile' }),
    reserve('h2', 3, { creditType: 'mobile' }, '2026-12-12T01:02:00.000Z'),
    release('h2', 'provider down', '2026-12-12T01:03:00.000Z'),
    reserve('h3', 2, { creditType: 'mobile', expiresInSeconds: 60 }, '2026-12-12T01:04:00.000Z'),
    sweep('2026-12-12T01:06:00.000Z'),
    {
      type: 'ChangePlan',
      at: '2026-12-13T00:00:00.000Z',
      data: {
        planId: 'pro-priced',
        effective: 'now',
        creditTypes: {
          email: { allocation: 400, overdraft: { policy: 'deny' } },
          mobile: { allocation: 10, overdraft: { policy: 'allow', limit: 5 } },
          export: { allocation: 50, overdraft: { policy: 'allow' } },
        },
        rates: [{ feature: 'email', action: 'reveal', creditType: 'email', credits: 2 }],
        clientPrices: false,
      },
    },
    { type: 'ConsumeCredits', at: '2026-12-14T00:00:00.000Z', data: { consumptionId: 'c4', userId: 'ana', feature: 'email', action: 'reveal', units: 3 } },
    {
      type: 'ReserveCredits',
      at: '2026-12-20T00:00:00.000Z',
      data: { reservationId: 'h4', userId: 'ana', feature: 'email', action: 'reveal', units: 1 },
    },
    reset('2027-01', '2026-12-20T00:01:00.000Z'),
  ]).events;
}

function recorded(events: LedgerEvent[]): RecordedEvent[] {
  const stream = accountStream('acme');
  return events.flatMap((e, i) =>
    encodeEvents(`cmd:${i}`, [e], CTX).map((x) => ({
      ...x,
      eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      streamId: stream,
      revision: i,
      position: i + 1,
    })),
  );
}

function fixture(version: number, type: string): string {
  return join(FIXTURES, `v${version}`, `${type}.json`);
}

describe('event codec and golden fixtures', () => {
  const events = scenario();

  it('covers every event type', () => {
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(LEDGER_EVENT_TYPES));
  });

  it('encodes each type exactly as its golden fixture at its current version (a payload change needs a new version and an upcaster)', () => {
    const byType = new Map<string, RecordedEvent>();
    for (const r of recorded(events)) if (!byType.has(r.type)) byType.set(r.type, r);
    for (const [type, r] of byType) {
      const version = CURRENT_SCHEMA_VERSION[type as LedgerEvent['type']];
      const file = fixture(version, type);
      if (!existsSync(file) && process.env.WRITE_GOLDEN === '1') {
        mkdirSync(join(FIXTURES, `v${version}`), { recursive: true });
        writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
      }
      expect(r.metadata.schemaVersion).toBe(version);
      expect(JSON.parse(JSON.stringify(r))).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    }
  });

  it('upcasts every stored v1 fixture to exactly what the current decider records for the same command', () => {
    const current = run(V1_COMMANDS).events;
    for (const type of V1_TYPES) {
      const stored = JSON.parse(readFileSync(fixture(1, type), 'utf8')) as RecordedEvent;
      expect(stored.metadata.schemaVersion).toBe(1);
      expect(decodeEvent(stored)).toEqual(current.find((e) => e.type === type));
    }
  });

  it('upcasts every stored v2 fixture of a type that moved on to exactly what the current decider records', () => {
    const current = run(V1_COMMANDS).events;
    for (const type of ['AccountOpened', 'CreditConsumed', 'CycleReset'] as const) {
      expect(CURRENT_SCHEMA_VERSION[type]).toBeGreaterThan(2);
      const stored = JSON.parse(readFileSync(fixture(2, type), 'utf8')) as RecordedEvent;
      expect(stored.metadata.schemaVersion).toBe(2);
      expect(decodeEvent(stored)).toEqual(current.find((e) => e.type === type));
    }
  });

  it('upcasts every stored v3 fixture of a type that moved on (reservations) to exactly what the current decider records', () => {
    const current = run(V1_COMMANDS).events;
    for (const type of ['CreditConsumed', 'CycleReset'] as const) {
      expect(CURRENT_SCHEMA_VERSION[type]).toBe(4);
      const stored = JSON.parse(readFileSync(fixture(3, type), 'utf8')) as RecordedEvent;
      expect(stored.metadata.schemaVersion).toBe(3);
      expect(decodeEvent(stored)).toEqual(current.find((e) => e.type === type));
    }
  });

  it('records a capture as its consumption, linked to the reservation, then the hold ended, in one decision', () => {
    const captured = events.findIndex((e) => e.type === 'ReservationCaptured');
    const consumed = events[captured - 1];
    expect(consumed).toMatchObject({ type: 'CreditConsumed', data: { consumptionId: 'c5', reservationId: 'h1', creditsCharged: 4 } });
    expect(events[captured].data).toMatchObject({ reservationId: 'h1', consumptionId: 'c5', held: 10, captured: 4, released: 6 });
    const reset = events.filter((e) => e.type === 'CycleReset').pop()!;
    expect(reset.data.closing.find((c) => c.creditType === 'email')?.reservedAtReset).toBe(2);
  });

  it('upcasts the v1 plan change (no rate card) to what the current decider records for it', () => {
    const stored = JSON.parse(readFileSync(fixture(1, 'PlanChanged'), 'utf8')) as RecordedEvent;
    expect(decodeEvent(stored)).toEqual(events.find((e) => e.type === 'PlanChanged'));
  });

  it('records a rate-card consumption with its units, rate and pricing', () => {
    const consumed = events.filter((e) => e.type === 'CreditConsumed').pop()!;
    expect(consumed.data).toMatchObject({ creditsRequested: null, units: 3, pricedBy: 'rate_card', rate: { credits: 2, action: 'reveal' }, creditsCharged: 6 });
  });

  it('decodes the stored events and folds them into the same state as the scenario', () => {
    const stored = recorded(events).map((r) => JSON.parse(JSON.stringify(r)) as RecordedEvent);
    const state = fold(stored.map(decodeEvent)) as OpenAccountState;
    const expected = fold(events) as OpenAccountState;
    expect(state.creditTypes).toEqual(expected.creditTypes);
    expect(state.plan).toEqual(expected.plan);
    expect([...state.index.members.values()]).toEqual([...expected.index.members.values()]);
    expect([...state.index.reservations.values()]).toEqual([...expected.index.reservations.values()]);
    expect(state.holds).toEqual(expected.holds);
  });

  it('refuses an unknown type and a schemaVersion from the future, naming the position', () => {
    const [r] = recorded(events);
    expect(() => decodeEvent({ ...r, type: 'CreditTeleported' })).toThrow(UnknownEventTypeError);
    expect(() => decodeEvent({ ...r, metadata: { ...r.metadata, schemaVersion: 9 } })).toThrow(UnsupportedSchemaVersionError);
    expect(() => decodeEvent({ ...r, metadata: { ...r.metadata, schemaVersion: 0 } })).toThrow(/position 1/);
  });

  it('gives every event a fresh UUID', () => {
    const ids = encodeEvents('cmd', events, CTX).map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('keeps dashes out of ids in stream names, reversibly', () => {
    const id = '3f0c2a8e-5d1b-4c3e-9f7a-2b6d8e1c4a90';
    expect(accountStream(id)).toBe('account-3f0c2a8e~5d1b~4c3e~9f7a~2b6d8e1c4a90');
    expect(accountStream(id).indexOf('-')).toBe('account'.length);
    expect(accountIdOfStream(accountStream(id))).toBe(id);
  });
});
