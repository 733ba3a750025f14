import { EventStore, RecordedEvent } from '../event-store.port';
import { GENESIS_HASH, eventHash } from './event-hash';

/** Events read per page while verifying; a reordered event is looked for within the page. */
export const CHAIN_VERIFY_PAGE_SIZE = 5_000;

/** What is wrong at the first broken position. */
export type ChainProblem = 'changed' | 'missing' | 'reordered' | 'inserted' | 'unhashed';

export interface ChainBreak {
  /** The first position of the global log (or, per account, of the account's events) that is wrong. */
  readonly position: number;
  readonly streamId?: string;
  readonly revision?: number;
  readonly problem: ChainProblem;
  readonly detail: string;
}

export interface ChainReport {
  readonly scope: 'global' | 'account';
  readonly eventsChecked: number;
  /** The last event verified: its position, revision (per account) and hash. */
  readonly lastPosition: number;
  readonly lastRevision?: number;
  readonly lastHash: string;
  readonly firstBreak?: ChainBreak;
}

/** The head record a store keeps next to its log (the last position and its hash). */
export interface ChainHeadRecord {
  readonly position: number;
  readonly hash: string | null;
}

/** A store that keeps the hash chains and a head record (SQLite, PostgreSQL). */
export interface HashChainedStore {
  chainHead(): Promise<ChainHeadRecord>;
}

export function isHashChainedStore(store: EventStore): store is EventStore & HashChainedStore {
  return typeof (store as Partial<HashChainedStore>).chainHead === 'function';
}

export interface VerifyChainOptions {
  readonly onProgress?: (eventsChecked: number) => void;
  readonly pageSize?: number;
}

interface AccountLink {
  readonly revision: number;
  readonly hash: string;
}

/** The walk's state after the events so far, and the state before the last one (to test "inserted"). */
interface GlobalWalk {
  expectedPosition: number;
  lastHash: string;
  previous?: { event: RecordedEvent; globalHashBefore: string; accountBefore: AccountLink | undefined };
  readonly accounts: Map<string, AccountLink>;
  checked: number;
}

/** The hash `event` would have at `position`/`revision` behind the given links. */
export function hashAt(event: RecordedEvent, position: number, revision: number, previousAccountHash: string, previousGlobalHash: string): string {
  return eventHash({
    streamId: event.streamId,
    revision,
    position,
    eventId: event.eventId,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    previousAccountHash,
    previousGlobalHash,
  });
}

/**
 * Recomputes both chains over the whole global log, in position order: each event's hash from its
 * content, its position, the hash before it in its stream and the hash before it in the log. Stops
 * at the first broken position and says what is wrong there; a log cut short at its end is caught
 * against the store's head record.
 */
export async function verifyGlobalChain(store: EventStore & HashChainedStore, options: VerifyChainOptions = {}): Promise<ChainReport> {
  const walk: GlobalWalk = { expectedPosition: 1, lastHash: GENESIS_HASH, accounts: new Map(), checked: 0 };
  const pageSize = options.pageSize ?? CHAIN_VERIFY_PAGE_SIZE;
  for (let after = 0; ;) {
    const page = await store.readAll({ after, limit: pageSize });
    if (page.length === 0) break;
    for (let index = 0; index < page.length; index++) {
      const broken = stepGlobal(walk, page, index);
      if (broken) return globalReport(walk, broken);
    }
    after = page[page.length - 1].position;
    options.onProgress?.(walk.checked);
  }
  const head = await store.chainHead();
  const lastPosition = walk.expectedPosition - 1;
  if (head.position > lastPosition) {
    return globalReport(walk, {
      position: lastPosition + 1,
      problem: 'missing',
      detail: `the log ends at position ${lastPosition} but its head record is at position ${head.position}: events ${lastPosition + 1}..${head.position} are missing`,
    });
  }
  if (head.position === lastPosition && head.hash !== null && lastPosition > 0 && head.hash !== walk.lastHash) {
    return globalReport(walk, { position: lastPosition, problem: 'changed', detail: `the head record's hash ${head.hash} is not the last event's hash` });
  }
  return globalReport(walk, undefined);
}

function globalReport(walk: GlobalWalk, firstBreak: ChainBreak | undefined): ChainReport {
  return { scope: 'global', eventsChecked: walk.checked, lastPosition: walk.expectedPosition - 1, lastHash: walk.lastHash, firstBreak };
}

/** Checks the event at `index`; advances the walk, or names what is wrong. */
function stepGlobal(walk: GlobalWalk, page: readonly RecordedEvent[], index: number): ChainBreak | undefined {
  const event = page[index];
  const where = { streamId: event.streamId, revision: event.revision };
  if (event.position > walk.expectedPosition) {
    const range =
      event.position - 1 > walk.expectedPosition ? `positions ${walk.expectedPosition}..${event.position - 1} are` : `position ${walk.expectedPosition} is`;
    return { position: walk.expectedPosition, problem: 'missing', detail: `${range} absent from the log` };
  }
  if (!event.chain) return { position: event.position, ...where, problem: 'unhashed', detail: 'the event has no hash (run `credit-ledger migrate`)' };
  const account = walk.accounts.get(event.streamId);
  const accountHash = account?.hash ?? GENESIS_HASH;
  const expectedRevision = (account?.revision ?? -1) + 1;
  if (event.revision === expectedRevision && hashAt(event, event.position, event.revision, accountHash, walk.lastHash) === event.chain.hash) {
    walk.previous = { event, globalHashBefore: walk.lastHash, accountBefore: account };
    walk.accounts.set(event.streamId, { revision: event.revision, hash: event.chain.hash });
    walk.lastHash = event.chain.hash;
    walk.expectedPosition = event.position + 1;
    walk.checked++;
    return undefined;
  }
  return classifyGlobalBreak(walk, page, index, account);
}

function classifyGlobalBreak(walk: GlobalWalk, page: readonly RecordedEvent[], index: number, account: AccountLink | undefined): ChainBreak {
  const event = page[index];
  const where = { streamId: event.streamId, revision: event.revision };
  const expectedRevision = (account?.revision ?? -1) + 1;
  const previous = walk.previous;
  if (previous && event.chain) {
    // Was the event before this one slipped in? Then this one verifies where that one stands.
    const sameStream = previous.event.streamId === event.streamId;
    const revision = sameStream ? event.revision - 1 : event.revision;
    const accountHash = sameStream ? (previous.accountBefore?.hash ?? GENESIS_HASH) : (account?.hash ?? GENESIS_HASH);
    if (hashAt(event, previous.event.position, revision, accountHash, previous.globalHashBefore) === event.chain.hash) {
      // The walk's last trusted event is the one before the inserted one.
      walk.expectedPosition = previous.event.position;
      walk.lastHash = previous.globalHashBefore;
      walk.checked--;
      return {
        position: previous.event.position,
        streamId: previous.event.streamId,
        revision: previous.event.revision,
        problem: 'inserted',
        detail: `the event ${previous.event.eventId} was inserted: the events after it are recorded one position earlier`,
      };
    }
  }
  if (event.revision < expectedRevision) {
    return {
      position: event.position,
      ...where,
      problem: 'reordered',
      detail: `revision ${event.revision} comes after revision ${expectedRevision - 1} of its stream`,
    };
  }
  const belongsHere = findEventThatBelongsAt(walk, page, index);
  if (belongsHere) {
    return { position: event.position, ...where, problem: 'reordered', detail: `the event recorded at position ${belongsHere.position} belongs here` };
  }
  if (event.revision > expectedRevision) {
    return { position: event.position, ...where, problem: 'missing', detail: `revision ${expectedRevision} of ${event.streamId} is absent` };
  }
  return { position: event.position, ...where, problem: 'changed', detail: "the event's content does not match its hash" };
}

/** A later event of the page whose hash verifies at this event's position: the two swapped places. */
function findEventThatBelongsAt(walk: GlobalWalk, page: readonly RecordedEvent[], index: number): RecordedEvent | undefined {
  const position = page[index].position;
  for (let later = index + 1; later < page.length; later++) {
    const candidate = page[later];
    const link = walk.accounts.get(candidate.streamId);
    if (!candidate.chain || candidate.revision !== (link?.revision ?? -1) + 1) continue;
    if (hashAt(candidate, position, candidate.revision, link?.hash ?? GENESIS_HASH, walk.lastHash) === candidate.chain.hash) return candidate;
  }
  return undefined;
}

/**
 * Recomputes one account's chain from its first event: revisions without gaps, each hash from the
 * event, its position, the hash before it in the stream and the global link it records.
 */
export async function verifyAccountChain(store: EventStore, streamId: string, options: VerifyChainOptions = {}): Promise<ChainReport> {
  let previous: { event: RecordedEvent; hashBefore: string } | undefined;
  let lastHash = GENESIS_HASH;
  let checked = 0;
  const report = (firstBreak?: ChainBreak): ChainReport => ({
    scope: 'account',
    eventsChecked: checked,
    lastPosition: previous?.event.position ?? 0,
    lastRevision: previous?.event.revision,
    lastHash,
    firstBreak,
  });
  for (let fromRevision = 0; ;) {
    const page = await store.readStream(streamId, { fromRevision, limit: options.pageSize ?? CHAIN_VERIFY_PAGE_SIZE });
    if (page.length === 0) return report();
    for (const event of page) {
      const broken = checkAccountEvent(event, previous, lastHash);
      if (broken) return report(broken);
      previous = { event, hashBefore: lastHash };
      lastHash = event.chain!.hash;
      checked++;
    }
    fromRevision = page[page.length - 1].revision + 1;
    options.onProgress?.(checked);
  }
}

/** One event of an account's chain against the one before it. */
export function checkAccountEvent(
  event: RecordedEvent,
  previous: { event: RecordedEvent; hashBefore: string } | undefined,
  lastHash: string,
): ChainBreak | undefined {
  const where = { position: event.position, streamId: event.streamId, revision: event.revision };
  const expectedRevision = previous ? previous.event.revision + 1 : 0;
  if (!event.chain) return { ...where, problem: 'unhashed', detail: 'the event has no hash (run `credit-ledger migrate`)' };
  const globalLink = event.chain.previousGlobalHash ?? null;
  const recompute = (position: number, revision: number, accountHash: string) =>
    globalLink === null ? accountOnlyHash(event, revision, accountHash) : hashAt(event, position, revision, accountHash, globalLink);
  if (event.revision === expectedRevision && recompute(event.position, event.revision, lastHash) === event.chain.hash) return undefined;
  if (event.revision > expectedRevision) return { ...where, problem: 'missing', detail: `revision ${expectedRevision} is absent` };
  if (event.revision < expectedRevision)
    return { ...where, problem: 'reordered', detail: `revision ${event.revision} comes after revision ${expectedRevision - 1}` };
  if (previous && recompute(previous.event.position, event.revision - 1, previous.hashBefore) === event.chain.hash) {
    const inserted = previous.event;
    return {
      position: inserted.position,
      streamId: inserted.streamId,
      revision: inserted.revision,
      problem: 'inserted',
      detail: `the event ${inserted.eventId} was inserted`,
    };
  }
  return { ...where, problem: 'changed', detail: "the event's content does not match its hash" };
}

/** EventStoreDB keeps the account chain only: no position and no global link are hashed (null). */
function accountOnlyHash(event: RecordedEvent, revision: number, previousAccountHash: string): string {
  return eventHash({
    streamId: event.streamId,
    revision,
    position: null,
    eventId: event.eventId,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    previousAccountHash,
    previousGlobalHash: null,
  });
}
