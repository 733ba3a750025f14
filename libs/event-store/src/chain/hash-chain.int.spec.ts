import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStore, EventToAppend, NO_STREAM } from '../event-store.port';
import { PostgresEventStore } from '../postgres/postgres-event-store';
import { SqliteEventStore } from '../sqlite/sqlite-event-store';
import { ChainTamperer, TAMPER_SEED_STREAMS, forgeEvent, postgresTamperer, seedTamperLog, sqliteTamperer } from '../testing/chain-tampering';
import { createTestDatabase, dropTestDatabase } from '../testing/test-databases';
import { GENESIS_HASH, canonicalEventBytes, eventHash } from './event-hash';
import { ChainProblem, HashChainedStore, verifyAccountChain, verifyGlobalChain } from './verify-chain';

interface GoldenVector {
  readonly event: EventToAppend & { streamId: string; revision: number; position: number };
  readonly previousAccountHash: string;
  readonly previousGlobalHash: string;
  readonly canonical: string;
  readonly hash: string;
}
const GOLDEN_FILE = join(__dirname, '../../../../test/fixtures/audit/golden-vectors.json');
const golden = JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) as { vectors: GoldenVector[] };

type ChainedStore = EventStore & HashChainedStore;
interface Harness {
  open(): Promise<ChainedStore>;
  tamperer(): Promise<ChainTamperer>;
  cleanup(): Promise<void>;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const stores: Record<string, () => Promise<Harness>> = {
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-chain-'));
    dirs.push(dir);
    return { open: async () => SqliteEventStore.open(dir), tamperer: async () => sqliteTamperer(dir), cleanup: async () => undefined };
  },
  postgres: async () => {
    const url = await createTestDatabase(undefined, 'chain');
    return { open: () => PostgresEventStore.connect(url), tamperer: () => postgresTamperer(url), cleanup: () => dropTestDatabase(url) };
  },
};

describe('golden vectors (test/fixtures/audit)', () => {
  it.each(golden.vectors.map((vector, index) => [index, vector] as const))('vector %i: canonical bytes and hash', (_index, vector) => {
    const fields = { ...vector.event, previousAccountHash: vector.previousAccountHash, previousGlobalHash: vector.previousGlobalHash };
    expect(canonicalEventBytes(fields).toString('utf8')).toBe(vector.canonical);
    expect(eventHash(fields)).toBe(vector.hash);
  });
});

/** A fresh store of `kind` for each test of the block. */
function useStore(kind: string): { harness: Harness; store: ChainedStore } {
  const current = {} as { harness: Harness; store: ChainedStore };
  beforeEach(async () => {
    current.harness = await stores[kind]();
    current.store = await current.harness.open();
  });
  afterEach(async () => {
    await current.store.close();
    await current.harness.cleanup();
  });
  return current;
}

describe.each(Object.keys(stores))('hash chains on %s', (kind) => {
  const current = useStore(kind);

  it('hashes every event where positions are assigned, exactly as the golden vectors say', async () => {
    for (const vector of golden.vectors) {
      const { streamId, revision, position: _position, ...event } = vector.event;
      await current.store.append(streamId, revision - 1, [event]);
    }
    const log = await current.store.readAll();
    expect(log.map((event) => event.chain)).toEqual(
      golden.vectors.map((vector) => ({ hash: vector.hash, previousAccountHash: vector.previousAccountHash, previousGlobalHash: vector.previousGlobalHash })),
    );
    expect((await verifyGlobalChain(current.store)).firstBreak).toBeUndefined();
  });

  it('chains concurrent appends of many streams (group commits) and verifies clean', async () => {
    await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        current.store.append(`s-${index % 50}-${index}`, NO_STREAM, [
          { eventId: `e${index}`, type: 'T', data: { index }, metadata: { schemaVersion: 1 } as never },
        ]),
      ),
    );
    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        current.store.append(`s-${index}-${index}`, 0, [{ eventId: `f${index}`, type: 'T', data: { index }, metadata: { schemaVersion: 1 } as never }]),
      ),
    );
    const report = await verifyGlobalChain(current.store);
    expect(report).toMatchObject({ eventsChecked: 250, lastPosition: 250 });
    expect(report.firstBreak).toBeUndefined();
    expect(await current.store.chainHead()).toEqual({ position: 250, hash: report.lastHash });
    expect((await verifyAccountChain(current.store, 's-3-3')).eventsChecked).toBe(2);
  });
});

describe.each(Object.keys(stores))('hash chains on %s: tampering', (kind) => {
  const current = useStore(kind);
  const scenarios: [string, (tamper: ChainTamperer, log: Awaited<ReturnType<typeof seedTamperLog>>) => Promise<void>, number, ChainProblem][] = [
    ["one event's credits changed", (tamper) => tamper.setCredits(5, 999), 5, 'changed'],
    ['an event deleted', (tamper) => tamper.deleteAt(5), 5, 'missing'],
    ['two events swapped', (tamper) => tamper.swapPositions(5, 7), 5, 'reordered'],
    ['a forged event inserted with its own hash recomputed', (tamper, log) => tamper.insertForged(forgeEvent(log, 'account-b', 5, 1)), 5, 'inserted'],
    ['the tail truncated', (tamper) => tamper.truncateFrom(8), 8, 'missing'],
  ];
  it.each(scenarios)('tampering through the database: %s → verify names the first bad position', async (_name, tamper, position, problem) => {
    const log = await seedTamperLog(current.store);
    expect(log).toHaveLength(TAMPER_SEED_STREAMS.length);
    expect((await verifyGlobalChain(current.store)).firstBreak).toBeUndefined();
    const tamperer = await current.harness.tamperer();
    await tamper(tamperer, log);
    await tamperer.close();
    const report = await verifyGlobalChain(current.store);
    expect(report.firstBreak).toMatchObject({ position, problem });
    expect(report.lastPosition).toBe(position - 1);
  });

  it('an untampered account verifies clean; a changed event breaks its account chain', async () => {
    await seedTamperLog(current.store);
    expect(await verifyAccountChain(current.store, 'account-b')).toMatchObject({ eventsChecked: 3, lastRevision: 2 });
    const tamperer = await current.harness.tamperer();
    await tamperer.setCredits(5, 999);
    await tamperer.close();
    expect((await verifyAccountChain(current.store, 'account-b')).firstBreak).toMatchObject({ position: 5, revision: 1, problem: 'changed' });
    expect((await verifyAccountChain(current.store, 'account-a')).firstBreak).toBeUndefined();
  });

  it('starts the chains at the genesis hash', async () => {
    await current.store.append('solo', NO_STREAM, [{ eventId: 'only', type: 'T', data: {}, metadata: { schemaVersion: 1 } as never }]);
    const [event] = await current.store.readAll();
    expect(event.chain).toMatchObject({ previousAccountHash: GENESIS_HASH, previousGlobalHash: GENESIS_HASH });
  });
});
