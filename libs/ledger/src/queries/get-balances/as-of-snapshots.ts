import { AccountState } from '@credit-ledger/domain';

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
