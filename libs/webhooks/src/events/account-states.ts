import { AccountState, evolve, initialState, LedgerEvent } from '@credit-ledger/domain';
import { MAX_READ_PAGE_SIZE, RecordedEvent } from '@credit-ledger/event-store';
import { accountStream, decodeEvent } from '@credit-ledger/ledger';

/** Accounts whose folded state the dispatcher keeps (least recently used dropped first). */
export const MAX_DISPATCHER_CACHED_ACCOUNTS = 10_000;

/** Where account states are folded from: a page of one stream, from a revision on (a store, or a reader of its file). */
export interface StreamSource {
  readStream(streamId: string, options: { readonly fromRevision: number; readonly limit: number }): Promise<RecordedEvent[]>;
}

interface Cached {
  readonly revision: number;
  readonly state: AccountState;
}

/**
 * The state of an account just before and just after each event, in log order: the cached fold
 * moves one event at a time; an account not in the cache (or not at the previous revision) is
 * folded from its stream up to that event.
 */
export class AccountStates {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly store: StreamSource) {}

  async around(accountId: string, recorded: RecordedEvent, event: LedgerEvent): Promise<{ before: AccountState; after: AccountState }> {
    let cached = this.cache.get(accountId);
    if (!cached || cached.revision !== recorded.revision - 1) cached = await this.fold(accountId, recorded.revision - 1);
    const after = evolve(cached.state, event);
    this.remember(accountId, { revision: recorded.revision, state: after });
    return { before: cached.state, after };
  }

  /**
   * The state after `revision` (-1: before the first event), folded from the cached state when it
   * is not past `revision` (states are persistent: folding on from one leaves it as it was), else
   * from the start: a timer asking for an account's latest state folds only what came after.
   */
  async fold(accountId: string, revision: number): Promise<Cached> {
    const cached = this.cache.get(accountId);
    const base = cached !== undefined && cached.revision <= revision ? cached : undefined;
    let state = base?.state ?? initialState();
    for (let from = (base?.revision ?? -1) + 1; from <= revision;) {
      const page = await this.store.readStream(accountStream(accountId), { fromRevision: from, limit: Math.min(MAX_READ_PAGE_SIZE, revision - from + 1) });
      if (page.length === 0) break;
      for (const recorded of page) state = evolve(state, decodeEvent(recorded));
      from = page[page.length - 1].revision + 1;
    }
    return { revision, state };
  }

  /** The latest state (for timers): folded from the stream. */
  async current(accountId: string): Promise<AccountState> {
    return (await this.fold(accountId, Number.MAX_SAFE_INTEGER - 1)).state;
  }

  private remember(accountId: string, cached: Cached): void {
    this.cache.delete(accountId);
    this.cache.set(accountId, cached);
    if (this.cache.size > MAX_DISPATCHER_CACHED_ACCOUNTS) this.cache.delete(this.cache.keys().next().value as string);
  }

  forget(): void {
    this.cache.clear();
  }
}
