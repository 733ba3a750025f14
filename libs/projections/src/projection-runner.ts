import {
  backoffMs,
  CorruptEventError,
  EventStore,
  LogReader,
  readAhead,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  SUBSCRIPTION_READ_RETRY_INITIAL_DELAY_MS,
  SUBSCRIPTION_READ_RETRY_MAX_DELAY_MS,
  SubscriptionFailedError,
  sleep,
} from '@credit-ledger/event-store';
import { accountIdOfStream, decodeEvent } from '@credit-ledger/ledger';
import { accountsProjector } from './accounts/accounts.projector';
import { balancesProjector } from './balances/balances.projector';
import { filterCatalogProjector } from './filters/filter-catalog.projector';
import { dataKeysProjector } from './history/data-keys.projector';
import { historyProjector } from './history/history.projector';
import { ProjectedEvent, Projector } from './projector';
import { ReadModelStore } from './read-model-store';
import { usageByFeatureProjector, usageByUserProjector, usageHourlyProjector } from './usage/usage.projectors';

/** Events per transaction when catching up or rebuilding. */
export const REBUILD_BATCH_SIZE = 5_000;
/** Events per transaction when following live appends (bounds how long a batch holds the event loop). */
export const LIVE_BATCH_SIZE = 1_000;
/**
 * Under a steady stream of commands (a live batch, one shorter than LIVE_BATCH_SIZE, handed over
 * less than twice this long after the runner finished the one before it), the next read waits
 * this long, so that appends arriving meanwhile are applied in one transaction instead of one
 * each. A write after a quiet spell, and the next one, are applied at once; under a steady stream
 * the read models trail by at most this much more, and apply far fewer transactions (each of which
 * writes every read model's pages and checkpoints on the event loop).
 */
export const LIVE_APPLY_INTERVAL_MS = 20;

export const ALL_PROJECTORS: readonly Projector[] = [
  historyProjector,
  usageByUserProjector,
  usageByFeatureProjector,
  usageHourlyProjector,
  balancesProjector,
  filterCatalogProjector,
  accountsProjector,
  dataKeysProjector,
];

export type { ProjectionState, ProjectionStatus } from './read-model-store';

/** Decodes a stored event for the projectors; events of other streams are skipped. */
export function toProjected(r: RecordedEvent): ProjectedEvent | undefined {
  const accountId = accountIdOfStream(r.streamId);
  if (accountId === undefined) return undefined;
  try {
    return { position: r.position, accountId, eventId: r.eventId, recordedAt: r.metadata.recordedAt, event: decodeEvent(r) };
  } catch (e) {
    throw new PoisonEventError(r.position, `${r.type} ${r.eventId} in ${r.streamId}@${r.revision}`, e);
  }
}

/** An event the read models cannot take (unknown type, newer schema, bad payload): named, never skipped. */
export class PoisonEventError extends Error {
  constructor(
    readonly position: number,
    readonly what: string,
    override readonly cause: unknown,
  ) {
    super(`the event at position ${position} (${what}) cannot be decoded: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'PoisonEventError';
  }
}

/**
 * Applies the global log to the read models of a store. Each batch commits in one transaction with
 * every projector's checkpoint, and a projector only sees events after its checkpoint (read inside
 * that transaction): a crash never double-applies or skips, and replaying a batch changes nothing.
 */
export class ProjectionRunner {
  private constructor(
    readonly store: ReadModelStore,
    readonly projectors: readonly Projector[],
  ) {}

  /** Creates the projectors' tables when missing and registers them. */
  static async create(store: ReadModelStore, projectors: readonly Projector[] = ALL_PROJECTORS): Promise<ProjectionRunner> {
    await store.register(projectors);
    return new ProjectionRunner(store, projectors);
  }

  /** The lowest checkpoint: where the next batch starts. */
  async checkpoint(): Promise<number> {
    const checkpoints = await this.store.checkpoints(this.projectors);
    return checkpoints.length === 0 ? 0 : Math.min(...checkpoints);
  }

  /**
   * Applies a batch of the log. An event that cannot be decoded stops the read models exactly at
   * it: the events before it in the batch are applied (and checkpointed), it is never skipped.
   */
  async applyBatch(records: readonly RecordedEvent[]): Promise<void> {
    if (records.length === 0) return;
    const events: ProjectedEvent[] = [];
    let poison: PoisonEventError | undefined;
    let applicable = records;
    for (let i = 0; i < records.length; i++) {
      try {
        const p = toProjected(records[i]);
        if (p) events.push(p);
      } catch (e) {
        if (!(e instanceof PoisonEventError)) throw e;
        poison = e;
        applicable = records.slice(0, i);
        break;
      }
    }
    try {
      if (applicable.length > 0) await this.store.applyBatch(this.projectors, { last: applicable[applicable.length - 1].position, events });
    } catch (e) {
      // A lost connection says nothing about the events: the batch is tried again, not marked failed.
      if (!this.store.isTransient(e)) await this.markFailed(records[0].position, e);
      throw e;
    }
    if (poison) {
      await this.markFailed(poison.position, poison);
      throw poison;
    }
  }

  /** Records why and where the read models stopped (also for failures outside a batch: an unreadable row). */
  async markFailed(position: number, e: unknown): Promise<void> {
    // A poison event stops the read models where they are (queries keep serving what was projected)
    // and says where and why; it is never skipped.
    await this.store.markFailed(this.projectors, `stopped at position ${position}: ${e instanceof Error ? e.message : String(e)}`);
  }

  /** Marks versions that reached `head` as live and retires the older versions of the same read model. */
  promoteCaughtUp(head: number): Promise<void> {
    return this.store.promoteCaughtUp(this.projectors, head);
  }

  /**
   * Drops and recreates the tables of `names` (all by default) at checkpoint 0, marked `rebuilding`.
   * Secondary indexes are built once the replay caught up: one sort instead of millions of B-tree
   * inserts. Queries keep answering meanwhile, from partial tables (bump the projector's version
   * instead for a rebuild that queries never see).
   */
  reset(names?: readonly string[]): Promise<void> {
    return this.store.reset(this.projectors.filter((p) => !names || names.includes(p.name)));
  }

  /**
   * Reads the log from the lowest checkpoint and applies it until `head` (or `shouldStop`).
   * Returns the number of events applied. The next page is read while this one is applied (the
   * SQLite store reads in a reader thread: the read and the apply use both cores).
   */
  async catchUp(
    store: Pick<EventStore, 'readAll' | 'headPosition'>,
    options: { batchSize?: number; shouldStop?: () => boolean; onBatch?: (position: number, head: number, events: number) => void } = {},
  ): Promise<number> {
    const head = await store.headPosition();
    const limit = options.batchSize ?? REBUILD_BATCH_SIZE;
    let applied = 0;
    let after = await this.checkpoint();
    const pages = readAhead(
      after < head ? after : undefined,
      (from: number) => store.readAll({ after: from, limit, withoutChain: true }),
      (batch) => (batch.length > 0 && batch[batch.length - 1].position < head ? batch[batch.length - 1].position : undefined),
    );
    try {
      for await (const batch of pages) {
        if (batch.length === 0 || options.shouldStop?.()) break;
        after = batch[batch.length - 1].position;
        await this.applyBatch(batch);
        applied += batch.length;
        options.onBatch?.(after, head, batch.length);
      }
    } catch (e) {
      if (!(e instanceof CorruptEventError)) throw e;
      // Apply what precedes the unreadable row, then stop exactly at it.
      if (e.decodedBefore.length > 0) await this.applyBatch(e.decodedBefore);
      await this.markFailed(e.position, e);
      throw e;
    }
    if (after >= head) await this.promoteCaughtUp(head);
    return applied;
  }

  /**
   * Catches up, then follows live appends; the subscription stops (and the state says why) on an
   * event it cannot apply. A batch that failed on the read-model database's connection or server
   * (PostgreSQL restarting) is applied again after a pause, like a failed read of the log.
   */
  async follow(store: LogReader, onRetry?: SubscribeOptions['onReadRetry'], liveApplyIntervalMs = LIVE_APPLY_INTERVAL_MS): Promise<Subscription> {
    let promoted = false;
    let handlerFailed = false;
    let stopping = false;
    const wakers = new Set<() => void>(); // a stop ends a pause at once
    /** When the runner last finished a batch (and so looked for the next one). */
    let readyAt = Number.NEGATIVE_INFINITY;
    /** Runs `work` again after a pause while it fails for a reason that may pass (a database away). */
    const retryingTransient = async (work: () => Promise<void>, isTransient: (e: unknown) => boolean): Promise<void> => {
      for (let failures = 1; ; failures++) {
        try {
          return await work();
        } catch (e) {
          if (stopping || !isTransient(e)) throw e;
          const delayMs = backoffMs(failures, SUBSCRIPTION_READ_RETRY_INITIAL_DELAY_MS, SUBSCRIPTION_READ_RETRY_MAX_DELAY_MS);
          onRetry?.(e, failures, delayMs);
          await sleep(delayMs, wakers);
        }
      }
    };
    // applyBatch marks the read models failed itself, at the exact position, on a poison event.
    const applyRetrying = (batch: readonly RecordedEvent[]) =>
      retryingTransient(
        () => this.applyBatch(batch),
        (e) => this.store.isTransient(e),
      );
    // The batch is applied; the log's head (the event store) or the registry may be away: ask again.
    const promoteRetrying = (last: number) =>
      retryingTransient(
        async () => {
          const head = await store.headPosition();
          if (last >= head) {
            await this.promoteCaughtUp(head);
            promoted = true;
          }
        },
        (e) => this.store.isTransient(e) || store.isTransientError(e),
      );
    const subscription = store.subscribeToAll({ after: await this.checkpoint(), batchSize: LIVE_BATCH_SIZE, onReadRetry: onRetry }, async (batch) => {
      const handedAt = Date.now();
      try {
        await applyRetrying(batch);
        if (!promoted) await promoteRetrying(batch[batch.length - 1].position);
        // Only under a steady stream (this batch was waiting as soon as the runner looked again):
        // a write after a quiet spell, and the one after it, are applied at once.
        if (batch.length < LIVE_BATCH_SIZE && liveApplyIntervalMs > 0 && !stopping && handedAt - readyAt < 2 * liveApplyIntervalMs) {
          await sleep(liveApplyIntervalMs, wakers);
        }
        readyAt = Date.now();
      } catch (e) {
        handlerFailed = true;
        throw e;
      }
    });
    // A row the store could not read, or a read that failed for good, never reached the handler:
    // record it here, so the state and /health say where the read models stopped and why.
    subscription.done.catch((e: unknown) => {
      if (handlerFailed || !(e instanceof SubscriptionFailedError)) return;
      void this.markFailed(e.position, e.cause instanceof CorruptEventError ? e.cause : e).catch(() => undefined);
    });
    return {
      done: subscription.done,
      stop: async () => {
        stopping = true;
        for (const wake of wakers) wake();
        await subscription.stop();
      },
    };
  }
}
