import { createHash, Hash } from 'node:crypto';
import { EventStore, EventToAppend, MAX_EVENTS_PER_APPEND, RecordedEvent } from '../event-store.port';

/** Events read from either store per page. */
export const COPY_READ_PAGE_SIZE = 5_000;
/** Appends per atomic batch at most (targets that can commit several streams in one transaction). */
export const COPY_MAX_APPENDS_PER_BATCH = 1_000;
/** Events per append at most when consecutive events of one stream are copied together. */
export const COPY_MAX_EVENTS_PER_APPEND = Math.min(500, MAX_EVENTS_PER_APPEND);

export interface CopyProgress {
  readonly phase: 'checking' | 'copying' | 'verifying';
  /** Events of the source handled in this phase so far. */
  readonly events: number;
}

export interface CopyOptions {
  readonly onProgress?: (update: CopyProgress) => void;
  /** Checked between pages: stop early (the target stays a prefix of the source; run again to resume). */
  readonly shouldStop?: () => boolean;
}

/** A target that can commit appends to several streams in one transaction (the PostgreSQL adapter). */
export interface AtomicAppender {
  appendAtomically(appends: readonly { streamId: string; expectedRevision: number; events: readonly EventToAppend[] }[]): Promise<unknown>;
}

function isAtomicAppender(store: EventStore): store is EventStore & AtomicAppender {
  return typeof (store as Partial<AtomicAppender>).appendAtomically === 'function';
}

export interface CopyReport {
  /** Events the target already held (an earlier, interrupted copy). */
  readonly alreadyCopied: number;
  readonly copied: number;
  readonly sourceEvents: number;
  readonly targetEvents: number;
  /** SHA-256 over every event in order (stream, revision, id, type, data, metadata). */
  readonly sourceChecksum: string;
  readonly targetChecksum: string;
  /** Events whose hash-chain links were compared between source and target (both keep a global chain). */
  readonly chainsCompared: number;
  readonly stopped: boolean;
}

export class CopyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRefusedError';
  }
}

export class CopyVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyVerificationError';
  }
}

/**
 * Copies the whole global log of `source` into `target`, preserving event ids, order and stream
 * revisions (each event is appended at its own revision, in global order). Resumable: the target
 * must hold a prefix of the source (what an interrupted copy leaves), which is checked event by
 * event before copying goes on. Ends by reading both logs again and comparing counts and checksums.
 */
export async function copyLog(source: EventStore, target: EventStore, options: CopyOptions): Promise<CopyReport> {
  const progress = options.onProgress ?? (() => undefined);
  const shouldStop = options.shouldStop ?? (() => false);
  const prefix = await checkTargetPrefix(source, target, progress);
  const { copied, stopped } = await copyRest(source, target, prefix, progress, shouldStop);
  return verifyCopy(source, target, { alreadyCopied: prefix.alreadyCopied, copied, stopped }, progress);
}

/** Where the target's copy of the source ends, and the source events read past it. */
interface TargetPrefix {
  readonly alreadyCopied: number;
  /** Position in the source of the last event the target already holds. */
  readonly sourceAfter: number;
  /** Source events already read that the target does not hold yet. */
  readonly pendingSource: RecordedEvent[];
}

/** 1. How much of the source does the target hold already? It must be an exact prefix. */
async function checkTargetPrefix(source: EventStore, target: EventStore, progress: (update: CopyProgress) => void): Promise<TargetPrefix> {
  let sourceAfter = 0;
  let targetAfter = 0;
  let alreadyCopied = 0;
  let pendingSource: RecordedEvent[] = [];
  for (;;) {
    const targetPage = await target.readAll({ after: targetAfter, limit: COPY_READ_PAGE_SIZE });
    if (targetPage.length === 0) break;
    targetAfter = targetPage[targetPage.length - 1].position;
    for (const targetEvent of targetPage) {
      if (pendingSource.length === 0) {
        pendingSource = await source.readAll({ after: sourceAfter, limit: COPY_READ_PAGE_SIZE });
        if (pendingSource.length === 0) {
          throw new CopyRefusedError(`the target holds more events than the source (${alreadyCopied}+): it is not a copy of this source`);
        }
      }
      const sourceEvent = pendingSource.shift() as RecordedEvent;
      sourceAfter = sourceEvent.position;
      const difference = differenceOf(sourceEvent, targetEvent);
      if (difference) {
        throw new CopyRefusedError(
          `the target already holds events that are not a copy of the source: event ${alreadyCopied + 1} differs (${difference}); copy into an empty store`,
        );
      }
      alreadyCopied++;
    }
    progress({ phase: 'checking', events: alreadyCopied });
  }
  return { alreadyCopied, sourceAfter, pendingSource };
}

/**
 * 2. Copies the rest in global order. Whatever stops the copy (Ctrl-C, a crash, a lost
 * connection), the target holds a prefix of the source: batches commit all or nothing, one after
 * the other.
 */
async function copyRest(
  source: EventStore,
  target: EventStore,
  prefix: TargetPrefix,
  progress: (update: CopyProgress) => void,
  shouldStop: () => boolean,
): Promise<{ copied: number; stopped: boolean }> {
  let copied = 0;
  let sourceAfter = prefix.sourceAfter;
  const atomic = isAtomicAppender(target) ? target : undefined;
  let page = prefix.pendingSource.length > 0 ? prefix.pendingSource : await source.readAll({ after: sourceAfter, limit: COPY_READ_PAGE_SIZE });
  while (page.length > 0) {
    const runs = streamRuns(page);
    copied += atomic ? await appendRunsAtomically(atomic, runs) : await appendRuns(target, runs);
    sourceAfter = page[page.length - 1].position;
    progress({ phase: 'copying', events: prefix.alreadyCopied + copied });
    if (shouldStop()) return { copied, stopped: true };
    page = await source.readAll({ after: sourceAfter, limit: COPY_READ_PAGE_SIZE });
  }
  return { copied, stopped: false };
}

/** Appends runs in batches of distinct streams, each batch in one transaction; returns the events written. */
async function appendRunsAtomically(atomic: AtomicAppender, runs: ReturnType<typeof streamRuns>): Promise<number> {
  let copied = 0;
  for (let next = 0; next < runs.length;) {
    const seen = new Set<string>();
    const batch: typeof runs = [];
    while (next < runs.length && batch.length < COPY_MAX_APPENDS_PER_BATCH && !seen.has(runs[next].streamId)) {
      seen.add(runs[next].streamId);
      batch.push(runs[next++]);
    }
    await atomic.appendAtomically(batch);
    copied += batch.reduce((sum, run) => sum + run.events.length, 0);
  }
  return copied;
}

async function appendRuns(target: EventStore, runs: ReturnType<typeof streamRuns>): Promise<number> {
  let copied = 0;
  for (const run of runs) {
    await target.append(run.streamId, run.expectedRevision, run.events);
    copied += run.events.length;
  }
  return copied;
}

/** 3. Reads both logs again and compares counts and checksums (unless the copy was stopped). */
async function verifyCopy(
  source: EventStore,
  target: EventStore,
  outcome: { alreadyCopied: number; copied: number; stopped: boolean },
  progress: (update: CopyProgress) => void,
): Promise<CopyReport> {
  const sourceSum = await checksumOf(source, (events) => progress({ phase: 'verifying', events }));
  const targetSum = await checksumOf(target, () => undefined);
  const chainsCompared = outcome.stopped ? 0 : await compareChains(source, target);
  const report: CopyReport = {
    alreadyCopied: outcome.alreadyCopied,
    copied: outcome.copied,
    sourceEvents: sourceSum.count,
    targetEvents: targetSum.count,
    sourceChecksum: sourceSum.digest,
    targetChecksum: targetSum.digest,
    chainsCompared,
    stopped: outcome.stopped,
  };
  if (!outcome.stopped && (report.sourceEvents !== report.targetEvents || report.sourceChecksum !== report.targetChecksum)) {
    throw new CopyVerificationError(
      `verification failed: source ${report.sourceEvents} events (sha256 ${report.sourceChecksum}), target ${report.targetEvents} events (sha256 ${report.targetChecksum})`,
    );
  }
  return report;
}

/**
 * The target hashed every copied event afresh where its position was assigned. Where both stores
 * keep the global chain (SQLite, PostgreSQL), the copy's positions are the source's, so every
 * hash must come out the same: a difference means the source's chain does not hold (an event
 * altered in the source, or hashed wrongly), and the copy is refused naming the position.
 */
async function compareChains(source: EventStore, target: EventStore): Promise<number> {
  let compared = 0;
  for (let after = 0; ;) {
    const [sourcePage, targetPage] = await Promise.all([
      source.readAll({ after, limit: COPY_READ_PAGE_SIZE }),
      target.readAll({ after, limit: COPY_READ_PAGE_SIZE }),
    ]);
    if (sourcePage.length === 0) return compared;
    for (const [index, sourceEvent] of sourcePage.entries()) {
      const targetEvent = targetPage[index];
      if (!sourceEvent.chain?.previousGlobalHash || !targetEvent?.chain?.previousGlobalHash) return compared;
      if (sourceEvent.position !== targetEvent.position) return compared; // a source with gaps (EventStoreDB): positions differ
      if (sourceEvent.chain.hash !== targetEvent.chain.hash) {
        throw new CopyVerificationError(
          `hash chain check failed at position ${sourceEvent.position} (${sourceEvent.streamId}@${sourceEvent.revision}): the source records ${sourceEvent.chain.hash}, ` +
            `the copy hashes to ${targetEvent.chain.hash}; run \`credit-ledger verify --chain\` on the source`,
        );
      }
      compared++;
    }
    after = sourcePage[sourcePage.length - 1].position;
  }
}

/** Count and SHA-256 of a whole log in order, over what a copy must preserve (not positions). */
export async function checksumOf(store: EventStore, onPage: (events: number) => void = () => undefined): Promise<{ count: number; digest: string }> {
  const hash = createHash('sha256');
  let count = 0;
  for (let after = 0; ;) {
    const page = await store.readAll({ after, limit: COPY_READ_PAGE_SIZE });
    if (page.length === 0) break;
    for (const event of page) hashEvent(hash, event);
    count += page.length;
    after = page[page.length - 1].position;
    onPage(count);
  }
  return { count, digest: hash.digest('hex') };
}

function hashEvent(hash: Hash, event: RecordedEvent): void {
  hash.update(JSON.stringify([event.streamId, event.revision, event.eventId, event.type, event.data, event.metadata]));
  hash.update('\n');
}

function differenceOf(recorded: RecordedEvent, item: RecordedEvent): string | undefined {
  if (recorded.eventId !== item.eventId) return `event id ${item.eventId} where the source has ${recorded.eventId}`;
  if (recorded.streamId !== item.streamId || recorded.revision !== item.revision)
    return `${item.streamId}@${item.revision} where the source has ${recorded.streamId}@${recorded.revision}`;
  if (
    recorded.type !== item.type ||
    JSON.stringify(recorded.data) !== JSON.stringify(item.data) ||
    JSON.stringify(recorded.metadata) !== JSON.stringify(item.metadata)
  ) {
    return `payload of ${recorded.eventId}`;
  }
  return undefined;
}

/** Consecutive events of one stream with consecutive revisions travel in one append. */
function streamRuns(page: readonly RecordedEvent[]): { streamId: string; expectedRevision: number; events: EventToAppend[] }[] {
  const runs: { streamId: string; expectedRevision: number; events: EventToAppend[] }[] = [];
  for (const event of page) {
    const last = runs[runs.length - 1];
    if (
      last &&
      last.streamId === event.streamId &&
      last.expectedRevision + last.events.length + 1 === event.revision &&
      last.events.length < COPY_MAX_EVENTS_PER_APPEND
    ) {
      last.events.push(toAppend(event));
    } else {
      runs.push({ streamId: event.streamId, expectedRevision: event.revision - 1, events: [toAppend(event)] });
    }
  }
  return runs;
}

function toAppend(event: RecordedEvent): EventToAppend {
  return { eventId: event.eventId, type: event.type, data: event.data, metadata: event.metadata };
}
