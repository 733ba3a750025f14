import { ApiError } from '@credit-ledger/http';
import { DomainErrorCode, Principal, refuse } from '@credit-ledger/domain';
import { EventStore } from '@credit-ledger/event-store';
import { accountStream } from '@credit-ledger/ledger';
import { ProjectionService } from './projection.service';

/**
 * Members read only their own usage: their userId is imposed, and asking for another user's is 403.
 * Everyone else gets the userId they asked for (or all users).
 */
export function scopedUserId(principal: Principal, requested: string | undefined): string | undefined {
  if (principal.kind === 'key' && principal.role === 'member') {
    if (requested !== undefined && requested !== principal.userId) throw new ApiError(403, 'FORBIDDEN', 'a member key reads only its own usage');
    return principal.userId ?? undefined;
  }
  return requested;
}

/** Read-your-writes: waits until the read models reached `minPosition`, else 503 READ_MODELS_BEHIND. */
export async function awaitPosition(projections: ProjectionService, minPosition: number | undefined): Promise<void> {
  if (minPosition === undefined) return;
  if (!(await projections.waitFor(minPosition))) {
    const position = await projections.position();
    throw new ApiError(503, 'READ_MODELS_BEHIND', `the read models are at position ${position}, not yet at ${minPosition}; retry shortly`, {
      position,
      minPosition,
    });
  }
}

/** How many opened accounts a process remembers per store before it starts over (a read of one event each). */
export const MAX_KNOWN_OPEN_ACCOUNTS = 100_000;

/** Accounts seen opened, per store: a stream that holds an event always will (events are never deleted). */
const knownOpen = new WeakMap<EventStore, Set<string>>();

/**
 * 404 ACCOUNT_NOT_FOUND for an account never opened: a read model's empty answer would say "no
 * usage", which is not true. One event read (the stream's first), never a fold: an account whose
 * stream holds an event this version cannot read still serves its read models. An account found
 * open is remembered, so a read of it costs no store read after the first.
 */
export async function requireOpenAccount(store: EventStore, accountId: string): Promise<void> {
  let known = knownOpen.get(store);
  if (known?.has(accountId)) return;
  const first = await store.readStream(accountStream(accountId), { limit: 1 });
  if (first.length === 0) refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
  if (known === undefined) knownOpen.set(store, (known = new Set()));
  if (known.size >= MAX_KNOWN_OPEN_ACCOUNTS) known.clear();
  known.add(accountId);
}
