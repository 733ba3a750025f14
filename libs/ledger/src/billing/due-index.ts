import { EventStore, MAX_READ_PAGE_SIZE } from '@credit-ledger/event-store';
import { accountIdOfStream } from '../infrastructure/stream-names';

export const DUE_INDEX_COMPONENT = 'billing';
export const DUE_INDEX_CHECKPOINT = 'due-index';

/**
 * Which accounts have a cycle that ends (or a reservation that expires) when: a small table next to the other shared state, kept
 * up to date from the global log (AccountOpened and CycleReset carry the open cycle's end) from a
 * checkpoint, so that a billing run reads only what was appended since the last one instead of
 * folding every account. It is a hint: the job decides on each account's real state, so a stale
 * row costs one read (the account is skipped), never a wrong reset; rows can only be earlier than
 * the truth. Also holds the scheduler's lease. `SqliteDueIndex` (LEDGER_DATA_DIR) or
 * `PostgresDueIndex` (the shared-state database: one lease and one index for every instance).
 * An abstract class so that it is also the injection token.
 */
export abstract class DueIndex {
  abstract checkpoint(): Promise<number>;
  /** Accounts whose open cycle ends at or before `upTo`, soonest first. */
  abstract due(upTo: string): Promise<string[]>;
  abstract updateMany(rows: readonly (readonly [string, string])[]): Promise<void>;
  /**
   * Writes a page of catch-up results and the checkpoint after it, atomically: `ends` replace an
   * account's due time, `earliest` (a reservation's expiry) only bring it forward.
   */
  protected abstract applyPage(ends: ReadonlyMap<string, string>, position: number, earliest: ReadonlyMap<string, string>): Promise<void>;
  /**
   * A lease so that, of several API instances, one runs the scheduled job at a time: taken when
   * free or expired (or already ours), renewed by the holder while it runs. `now` (epoch ms)
   * defaults to the database's clock where there is one (hosts' clocks may differ).
   */
  abstract tryLease(name: string, owner: string, ttlMs: number, now?: number): Promise<boolean>;
  abstract releaseLease(name: string, owner: string): Promise<void>;
  abstract close(): Promise<void>;

  update(accountId: string, cycleEndsAt: string): Promise<void> {
    return this.updateMany([[accountId, cycleEndsAt]]);
  }

  /** Reads the global log from the checkpoint; returns the number of events read. */
  async catchUp(store: EventStore): Promise<number> {
    let after = await this.checkpoint();
    let read = 0;
    for (;;) {
      const page = await store.readAll({ after, limit: MAX_READ_PAGE_SIZE });
      if (page.length === 0) return read;
      const ends = new Map<string, string>();
      const earliest = new Map<string, string>();
      for (const event of page) {
        if (event.type === 'CreditsReserved') {
          // A reservation is due at its expiry (the sweeper writes ReservationExpired then).
          const accountId = accountIdOfStream(event.streamId);
          const expiresAt = (event.data as { expiresAt: string }).expiresAt;
          const known = accountId === undefined ? undefined : earliest.get(accountId);
          if (accountId !== undefined && (known === undefined || expiresAt < known)) earliest.set(accountId, expiresAt);
          continue;
        }
        const endsAt =
          event.type === 'AccountOpened'
            ? (event.data as { cycleEndsAt: string }).cycleEndsAt
            : event.type === 'CycleReset'
              ? (event.data as { endsAt: string }).endsAt
              : undefined;
        const accountId = endsAt === undefined ? undefined : accountIdOfStream(event.streamId);
        if (accountId !== undefined) {
          ends.set(accountId, endsAt!);
          earliest.delete(accountId); // a reset leaves no reservation open
        }
      }
      after = page[page.length - 1].position;
      read += page.length;
      await this.applyPage(ends, after, earliest);
      if (page.length < MAX_READ_PAGE_SIZE) return read;
    }
  }
}
