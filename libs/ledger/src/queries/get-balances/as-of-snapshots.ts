import { AccountState, evolve, initialState } from '@credit-ledger/domain';
import { RecordedEvent } from '@credit-ledger/event-store';
import { decodeEvent } from '../../infrastructure/event-codec';

/** An `asOf` fold keeps the state after every this many events of an account (revisions 999, 1999, ...). */
export const AS_OF_SNAPSHOT_INTERVAL_EVENTS = 1_000;
/** Accounts whose `asOf` snapshots stay in memory at most (least recently asked dropped first). */
export const MAX_AS_OF_SNAPSHOT_ACCOUNTS = 1_000;
/** Events an `asOf` fold reads and folds between two yields to the event loop. */
export const AS_OF_FOLD_CHUNK_EVENTS = 1_000;

/** The fold of an account's stream prefix (revisions 0..revision): stored events never change, so it never goes stale. */
export interface FoldSnapshot {
  readonly revision: number;
  readonly position: number;
  readonly state: AccountState;
  /** The latest `recordedAt` of the prefix: the snapshot answers any `asOf` at or after it. */
  readonly maxRecordedAt: string;
}

/**
 * Checkpointed folds for `GET …/balances?asOf=`: the first request for an account folds its stream
 * once (in chunks, yielding between them) and keeps a snapshot every
 * AS_OF_SNAPSHOT_INTERVAL_EVENTS; later requests fold only the events after the nearest usable one.
 */
export class AsOfSnapshots {
  private readonly byAccount = new Map<string, FoldSnapshot[]>();

  constructor(private readonly maxAccounts = MAX_AS_OF_SNAPSHOT_ACCOUNTS) {}

  /** The latest snapshot whose whole prefix was recorded at or before `asOf`. */
  usable(accountId: string, asOf: string): FoldSnapshot | undefined {
    const snapshots = this.byAccount.get(accountId);
    if (!snapshots) return undefined;
    this.byAccount.delete(accountId); // LRU: move to the newest end
    this.byAccount.set(accountId, snapshots);
    for (let index = snapshots.length - 1; index >= 0; index--) if (snapshots[index].maxRecordedAt <= asOf) return snapshots[index];
    return undefined;
  }

  /** Keeps `snapshot` if it extends the account's snapshots (they are kept in revision order). */
  record(accountId: string, snapshot: FoldSnapshot): void {
    let snapshots = this.byAccount.get(accountId);
    if (!snapshots) {
      this.byAccount.set(accountId, (snapshots = []));
      if (this.byAccount.size > this.maxAccounts) this.byAccount.delete(this.byAccount.keys().next().value as string);
    }
    const last = snapshots[snapshots.length - 1];
    if (!last || snapshot.revision > last.revision) snapshots.push(snapshot);
  }
}

/** Reads up to `limit` events of the account's stream from `fromRevision` on. */
export type StreamPageReader = (fromRevision: number, limit: number) => Promise<readonly RecordedEvent[]> | readonly RecordedEvent[];

/**
 * The fold of the account's events recorded at or before `asOf`, from the nearest usable snapshot
 * in `snapshots`, a chunk of AS_OF_FOLD_CHUNK_EVENTS at a time with `between()` awaited between two
 * chunks (a yield to the event loop on the main thread; nothing in a fold thread). The same code
 * on both paths: the answers cannot differ.
 */
export async function foldAsOf(
  snapshots: AsOfSnapshots,
  accountId: string,
  asOf: string,
  readPage: StreamPageReader,
  between: () => Promise<void> | void = () => undefined,
): Promise<FoldSnapshot> {
  let fold: FoldSnapshot = snapshots.usable(accountId, asOf) ?? { state: initialState(), revision: -1, position: 0, maxRecordedAt: '' };
  for (;;) {
    const page = await readPage(fold.revision + 1, AS_OF_FOLD_CHUNK_EVENTS);
    let { state, maxRecordedAt } = fold;
    for (const event of page) {
      if (event.metadata.recordedAt > asOf) return fold;
      state = evolve(state, decodeEvent(event));
      if (event.metadata.recordedAt > maxRecordedAt) maxRecordedAt = event.metadata.recordedAt;
      fold = { state, revision: event.revision, position: event.position, maxRecordedAt };
      if ((event.revision + 1) % AS_OF_SNAPSHOT_INTERVAL_EVENTS === 0) snapshots.record(accountId, fold);
    }
    if (page.length < AS_OF_FOLD_CHUNK_EVENTS) return fold;
    await between();
  }
}
