import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CURRENT_SCHEMA_VERSION, fold, LEDGER_EVENT_TYPES, LedgerEvent, OpenAccountState } from '../../../domain/src';
import { consume, grant, open, refund, reset, run } from '../../../domain/src/testing/fixtures';
import { RecordedEvent } from '../../../event-store/src';
import { decodeEvent, encodeEvents, UnknownEventTypeError, UnsupportedSchemaVersionError } from './event-codec';
import { accountIdOfStream, accountStream } from './stream-names';

const GOLDEN_DIR = join(__dirname, '../../../../test/fixtures/events/v1');
const CTX = { actor: 'superuser', correlationId: 'corr-1', recordedAt: '2026-11-10T12:00:00.000Z' };

/** One deterministic scenario that produces every event type. */
function scenario(): LedgerEvent[] {
  return run([
    open(),
    grant('g1', 10, { expiresAt: '2026-11-12T00:00:00.000Z' }),
    consume('c1', 3, { description: 'Jane Doe', dataRequested: 'email', dataKey: 'contact_1' }),
    refund('r1', 'c1', 1),
    consume('c2', 1, {}, '2026-11-13T00:00:00.000Z'),
    reset('2026-12', '2026-12-01T00:00:00.000Z'),
  ]).events;
}

function recorded(events: LedgerEvent[]): RecordedEvent[] {
  const stream = accountStream('acme');
  return events.flatMap((e, i) =>
    encodeEvents(`cmd:${i}`, [e], CTX).map((x) => ({ ...x, eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, streamId: stream, revision: i, position: i + 1 })),
  );
}

describe('event codec and golden fixtures (schemaVersion 1)', () => {
  const events = scenario();

  it('covers every event type', () => {
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(LEDGER_EVENT_TYPES));
  });

  it('encodes each type exactly as its golden v1 fixture (a payload change needs a new version and an upcaster)', () => {
    const byType = new Map<string, RecordedEvent>();
    for (const r of recorded(events)) if (!byType.has(r.type)) byType.set(r.type, r);
    for (const [type, r] of byType) {
      const file = join(GOLDEN_DIR, `${type}.json`);
      if (!existsSync(file) && process.env.WRITE_GOLDEN === '1') writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
      expect(CURRENT_SCHEMA_VERSION[type as LedgerEvent['type']]).toBe(1);
      expect(JSON.parse(JSON.stringify(r))).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    }
  });

  it('decodes the stored fixtures and folds them into the same state as the scenario', () => {
    const stored = recorded(events).map((r) => JSON.parse(JSON.stringify(r)) as RecordedEvent);
    const state = fold(stored.map(decodeEvent)) as OpenAccountState;
    const expected = fold(events) as OpenAccountState;
    expect(state.creditTypes).toEqual(expected.creditTypes);
  });

  it('refuses an unknown type and a schemaVersion from the future, naming the position', () => {
    const [r] = recorded(events);
    expect(() => decodeEvent({ ...r, type: 'CreditTeleported' })).toThrow(UnknownEventTypeError);
    expect(() => decodeEvent({ ...r, metadata: { ...r.metadata, schemaVersion: 2 } })).toThrow(UnsupportedSchemaVersionError);
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
