import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEventStoreContract } from '../testing/event-store-contract';
import { NO_STREAM } from '../event-store.port';
import { SQLITE_FILE_NAME, SqliteEventStore } from './sqlite-event-store';
import { commitAfter, FileChangeSignal } from './file-change-signal';
import { anEvent } from '../testing/fixtures';
import { verifyGlobalChain } from '../chain/verify-chain';
import { eventHash } from '../chain/event-hash';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-sqlite-'));
  dirs.push(dir);
  return dir;
}

describeEventStoreContract('sqlite', async () => SqliteEventStore.open(tempDir()));

const ev = anEvent;

describe('sqlite adapter specifics', () => {
  it('writes in WAL mode with synchronous=FULL (fsync before ack)', async () => {
    const store = SqliteEventStore.open(tempDir());
    expect(await store.durability()).toEqual({ journalMode: 'wal', synchronous: 2 }); // 2 = FULL
    await store.close();
  });

  it('group-commits concurrent appends: many appends, few transactions', async () => {
    const store = SqliteEventStore.open(tempDir());
    await Promise.all(Array.from({ length: 500 }, (_, index) => store.append(`s_${index}`, NO_STREAM, [ev(index)])));
    const stats = store.stats();
    expect(stats.appends).toBe(500);
    expect(stats.commits).toBeLessThan(10);
    await store.close();
  });

  it('keeps every acknowledged append across a reopen of the file', async () => {
    const dir = tempDir();
    const store = SqliteEventStore.open(dir);
    await Promise.all(Array.from({ length: 50 }, (_, index) => store.append(`s_${index}`, NO_STREAM, [ev(index), ev(index)])));
    await store.close();
    const reopened = SqliteEventStore.open(dir);
    expect(await reopened.headPosition()).toBe(100);
    expect((await reopened.readAll({ limit: 1000 })).length).toBe(100);
    await reopened.close();
  });

  it('sees appends made by another process on the same file (subscription poll fallback)', async () => {
    const dir = tempDir();
    const store = SqliteEventStore.open(dir);
    const seen: number[] = [];
    const sub = store.subscribeToAll({ after: 0 }, (batch) => {
      seen.push(...batch.map((event) => event.position));
    });
    // A second store on the same file (its own connections and writer) stands in for another process.
    const other = SqliteEventStore.open(dir);
    await other.append('s_x', NO_STREAM, [ev(1)]);
    const start = Date.now();
    while (seen.length < 1 && Date.now() - start < 5000) await new Promise((resolve) => setTimeout(resolve, 10));
    await sub.stop();
    expect(seen).toEqual([1]);
    await other.close();
    await store.close();
  });

  it('hears another process commit: its WAL changes, and the commit is found once visible (the wake-up before the poll)', async () => {
    const dir = tempDir();
    const store = SqliteEventStore.open(dir);
    await store.append('s_first', NO_STREAM, [ev(1)]); // the WAL exists
    const signal = new FileChangeSignal(join(dir, SQLITE_FILE_NAME));
    let changes = 0;
    const stop = signal.listen(() => changes++);
    const other = SqliteEventStore.open(dir);
    await other.append('s_other', NO_STREAM, [ev(2)]);
    const start = Date.now();
    while (changes === 0 && Date.now() - start < 5000) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(changes).toBeGreaterThan(0);
    const head = () => store.headPosition();
    expect(await commitAfter(1, head, () => false)).toBe(true);
    expect(await commitAfter(2, head, () => false)).toBe(false); // nothing past the head: it gives up
    stop();
    signal.close();
    await other.close();
    await store.close();
  });
});

describe('the writer remembers the hash of each stream it appended to', () => {
  /** The stream's events, each with the hash it links back to in its account. */
  const linksOf = async (store: SqliteEventStore, streamId: string) =>
    (await store.readStream(streamId)).map((event) => ({ revision: event.revision, hash: event.chain?.hash, previous: event.chain?.previousAccountHash }));

  it('links to the stored event when another process appended to the stream since', async () => {
    const dir = tempDir();
    const store = SqliteEventStore.open(dir);
    await store.append('s_shared', NO_STREAM, [ev(1)]);
    const other = SqliteEventStore.open(dir);
    await other.append('s_shared', 0, [ev(2)]);
    await other.close();
    await store.append('s_shared', 1, [ev(3)]);
    const links = await linksOf(store, 's_shared');
    expect(links[2].previous).toBe(links[1].hash);
    expect(links[1].previous).toBe(links[0].hash);
    expect((await verifyGlobalChain(store)).firstBreak).toBeUndefined();
    await store.close();
  });

  it('forgets what a failed commit appended: the next append links to what another process stored at that revision', async () => {
    const dir = tempDir();
    const store = SqliteEventStore.open(dir, { faultInjection: true });
    await store.append('s_failed', NO_STREAM, [ev(1)]);
    store.injectCommitFailures(1);
    await expect(store.append('s_failed', 0, [ev(2)])).rejects.toMatchObject({ code: 'SQLITE_IOERR' });
    // The same revision, other content: a different hash from the one of the rolled-back append.
    const other = SqliteEventStore.open(dir);
    await other.append('s_failed', 0, [ev(20)]);
    await other.close();
    await store.append('s_failed', 1, [ev(3)]);
    const links = await linksOf(store, 's_failed');
    expect(links.map((link) => link.revision)).toEqual([0, 1, 2]);
    expect(links[2].previous).toBe(links[1].hash);
    expect((await verifyGlobalChain(store)).firstBreak).toBeUndefined();
    await store.close();
  });
});

describe('the writer quotes stream ids, event ids and types as canonical JSON does', () => {
  it('hashes ids and types that need escaping (quotes, backslashes, control characters) and non-ASCII ones exactly as the verifier recomputes them', async () => {
    const store = SqliteEventStore.open(tempDir());
    const odd = ['plain', 'with "quotes"', 'back\\slash', 'line\nbreak\ttab', 'control\u0001char', 'accents é ü', 'emoji 😀'];
    for (const [index, text] of odd.entries()) {
      await store.append(`s-${text}`, NO_STREAM, [ev(index, { eventId: `id-${text}`, type: `Type ${text}` })]);
    }
    const log = await store.readAll();
    expect(log.map((event) => event.streamId)).toEqual(odd.map((text) => `s-${text}`));
    for (const event of log) {
      const { chain, ...fields } = event;
      expect(chain?.hash).toBe(eventHash({ ...fields, previousAccountHash: chain!.previousAccountHash, previousGlobalHash: chain!.previousGlobalHash! }));
    }
    expect((await verifyGlobalChain(store)).firstBreak).toBeUndefined();
    await store.close();
  });
});
