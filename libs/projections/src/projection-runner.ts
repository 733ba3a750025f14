import Database from 'better-sqlite3';
import { CorruptEventError, EventStore, RecordedEvent, SubscribeOptions, Subscription, SubscriptionFailedError } from '../../event-store/src';
import { decodeEvent } from '../../ledger/src/infrastructure/event-codec';
import { accountIdOfStream } from '../../ledger/src/infrastructure/stream-names';
import { balancesProjector } from './balances/balances.projector';
import { filterCatalogProjector } from './filters/filter-catalog.projector';
import { historyProjector } from './history/history.projector';
import { ProjectedEvent, Projector, tableName } from './projector';
import { cachedStatement } from './read-model-db';
import { usageByFeatureProjector, usageByUserProjector, usageHourlyProjector } from './usage/usage.projectors';

/** Events per transaction when catching up or rebuilding. */
export const REBUILD_BATCH_SIZE = 5_000;
/** Events per transaction when following live appends (bounds how long a batch holds the event loop). */
export const LIVE_BATCH_SIZE = 1_000;

export const ALL_PROJECTORS: readonly Projector[] = [
  historyProjector,
  usageByUserProjector,
  usageByFeatureProjector,
  usageHourlyProjector,
  balancesProjector,
  filterCatalogProjector,
];

export type ProjectionStatus = 'building' | 'rebuilding' | 'live' | 'failed';

export interface ProjectionState {
  readonly name: string;
  readonly version: number;
  readonly checkpoint: number;
  readonly status: ProjectionStatus;
  readonly error: string | null;
}

/** The read-model table of the version queries should use: the live one, else the newest being built. */
export function activeTable(db: Database.Database, projector: string, base: string): string {
  const row = cachedStatement(db, `SELECT version FROM projection_registry WHERE name = ? ORDER BY (status = 'live') DESC, version DESC LIMIT 1`).get(projector) as
    | { version: number }
    | undefined;
  if (!row) throw new Error(`projection ${projector} is not registered`);
  return tableName(base, row.version);
}

export function projectionStates(db: Database.Database): ProjectionState[] {
  return cachedStatement(db, 'SELECT name, version, checkpoint, status, error FROM projection_registry ORDER BY name, version').all() as ProjectionState[];
}

/** The position every live read model has reached (what `?minPosition=` waits for). */
export function readModelsPosition(db: Database.Database): number {
  const row = cachedStatement(db, `SELECT MIN(checkpoint) AS p FROM projection_registry WHERE status IN ('live', 'building', 'rebuilding')`).get() as { p: number | null };
  return row.p ?? 0;
}

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
 * Applies the global log to the read models. Each batch commits in one transaction with every
 * projector's checkpoint, and a projector only sees events after its checkpoint (read inside that
 * transaction): a crash never double-applies or skips, and replaying a batch changes nothing.
 */
export class ProjectionRunner {
  private readonly appliers: { projector: Projector; apply: (batch: readonly ProjectedEvent[]) => void }[];
  private readonly readCheckpoint: Database.Statement;
  private readonly writeCheckpoint: Database.Statement;
  private readonly applyInTransaction: Database.Transaction<(records: readonly RecordedEvent[]) => void>;

  constructor(
    readonly db: Database.Database,
    readonly projectors: readonly Projector[] = ALL_PROJECTORS,
  ) {
    const now = new Date().toISOString();
    for (const p of projectors) {
      const t = (base: string) => tableName(base, p.version);
      db.exec(p.schema(t));
      const registered = db.prepare('SELECT status FROM projection_registry WHERE name = ? AND version = ?').get(p.name, p.version) as { status: string } | undefined;
      if (registered?.status !== 'rebuilding' && p.indexes) db.exec(p.indexes(t));
      db.prepare(`INSERT OR IGNORE INTO projection_registry (name, version, checkpoint, status, updated_at) VALUES (?, ?, 0, 'building', ?)`).run(p.name, p.version, now);
    }
    this.appliers = projectors.map((p) => ({ projector: p, apply: p.prepare(db, (base) => tableName(base, p.version)) }));
    this.readCheckpoint = db.prepare('SELECT checkpoint FROM projection_registry WHERE name = ? AND version = ?').pluck();
    this.writeCheckpoint = db.prepare('UPDATE projection_registry SET checkpoint = ?, updated_at = ? WHERE name = ? AND version = ? AND checkpoint < ?');
    this.applyInTransaction = db.transaction((records: readonly RecordedEvent[]) => {
      const decoded = records.map(toProjected);
      const last = records[records.length - 1].position;
      const stamp = new Date().toISOString();
      for (const { projector, apply } of this.appliers) {
        const checkpoint = this.readCheckpoint.get(projector.name, projector.version) as number;
        if (checkpoint >= last) continue;
        const fresh: ProjectedEvent[] = [];
        for (let i = 0; i < records.length; i++) {
          const d = decoded[i];
          if (d && records[i].position > checkpoint) fresh.push(d);
        }
        if (fresh.length > 0) apply(fresh);
        this.writeCheckpoint.run(last, stamp, projector.name, projector.version, last);
      }
    });
  }

  /** The lowest checkpoint: where the next batch starts. */
  checkpoint(): number {
    let min = Number.MAX_SAFE_INTEGER;
    for (const p of this.projectors) min = Math.min(min, this.readCheckpoint.get(p.name, p.version) as number);
    return min === Number.MAX_SAFE_INTEGER ? 0 : min;
  }

  applyBatch(records: readonly RecordedEvent[]): void {
    if (records.length === 0) return;
    try {
      this.applyInTransaction.immediate(records);
    } catch (e) {
      this.markFailed(e instanceof PoisonEventError ? e.position : records[0].position, e);
      throw e;
    }
  }

  /** Records why and where the read models stopped (also for failures outside a batch: an unreadable row). */
  markFailed(position: number, e: unknown): void {
    // A poison event stops the read models where they are (queries keep serving what was projected)
    // and says where and why; it is never skipped.
    const message = `stopped at position ${position}: ${e instanceof Error ? e.message : String(e)}`;
    const mark = this.db.prepare(`UPDATE projection_registry SET status = 'failed', error = ?, updated_at = ? WHERE name = ? AND version = ?`);
    for (const p of this.projectors) mark.run(message, new Date().toISOString(), p.name, p.version);
  }

  /** Marks versions that reached `head` as live and retires the older versions of the same read model. */
  promoteCaughtUp(head: number): void {
    const promote = this.db.transaction(() => {
      for (const p of this.projectors) {
        const checkpoint = this.readCheckpoint.get(p.name, p.version) as number;
        if (checkpoint < head) continue;
        if (p.indexes) this.db.exec(p.indexes((base) => tableName(base, p.version))); // deferred by a replay
        this.db.prepare(`UPDATE projection_registry SET status = 'live', error = NULL, updated_at = ? WHERE name = ? AND version = ? AND status != 'live'`).run(new Date().toISOString(), p.name, p.version);
        const older = this.db.prepare('SELECT version FROM projection_registry WHERE name = ? AND version < ?').all(p.name, p.version) as { version: number }[];
        for (const { version } of older) {
          for (const table of p.tables((base) => tableName(base, version))) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
          this.db.prepare('DELETE FROM projection_registry WHERE name = ? AND version = ?').run(p.name, version);
        }
      }
    });
    promote.immediate();
  }

  /**
   * Drops and recreates the tables of `names` (all by default) at checkpoint 0, marked `rebuilding`.
   * Secondary indexes are built once the replay caught up: one sort instead of millions of B-tree
   * inserts. Queries keep answering meanwhile, from partial tables (bump the projector's version
   * instead for a rebuild that queries never see).
   */
  reset(names?: readonly string[]): void {
    const chosen = this.projectors.filter((p) => !names || names.includes(p.name));
    this.db
      .transaction(() => {
        for (const p of chosen) {
          const t = (base: string) => tableName(base, p.version);
          for (const table of p.tables(t)) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
          this.db.exec(p.schema(t));
          this.db.prepare(`UPDATE projection_registry SET checkpoint = 0, status = 'rebuilding', error = NULL, updated_at = ? WHERE name = ? AND version = ?`).run(new Date().toISOString(), p.name, p.version);
        }
      })
      .immediate();
  }

  /**
   * Reads the log from the lowest checkpoint and applies it until `head` (or `shouldStop`).
   * Returns the number of events applied.
   */
  async catchUp(
    store: Pick<EventStore, 'readAll' | 'headPosition'>,
    options: { batchSize?: number; shouldStop?: () => boolean; onBatch?: (position: number, head: number, events: number) => void } = {},
  ): Promise<number> {
    const head = await store.headPosition();
    let applied = 0;
    let after = this.checkpoint();
    while (after < head && !options.shouldStop?.()) {
      let batch: RecordedEvent[];
      try {
        batch = await store.readAll({ after, limit: options.batchSize ?? REBUILD_BATCH_SIZE });
      } catch (e) {
        if (!(e instanceof CorruptEventError)) throw e;
        // Apply what precedes the unreadable row, then stop exactly at it.
        if (e.decodedBefore.length > 0) this.applyBatch(e.decodedBefore);
        this.markFailed(e.position, e);
        throw e;
      }
      if (batch.length === 0) break;
      this.applyBatch(batch);
      applied += batch.length;
      after = batch[batch.length - 1].position;
      options.onBatch?.(after, head, batch.length);
    }
    if (after >= head) this.promoteCaughtUp(head);
    return applied;
  }

  /** Catches up, then follows live appends; the subscription stops (and the state says why) on an event it cannot apply. */
  follow(store: EventStore, onReadRetry?: SubscribeOptions['onReadRetry']): Subscription {
    let promoted = false;
    let handlerFailed = false;
    const subscription = store.subscribeToAll({ after: this.checkpoint(), batchSize: LIVE_BATCH_SIZE, onReadRetry }, async (batch) => {
      try {
        this.applyBatch(batch); // marks the read models failed itself, at the exact position
      } catch (e) {
        handlerFailed = true;
        throw e;
      }
      if (!promoted) {
        const head = await store.headPosition();
        if (batch[batch.length - 1].position >= head) {
          this.promoteCaughtUp(head);
          promoted = true;
        }
      }
    });
    // A row the store could not read, or a read that failed for good, never reached the handler:
    // record it here, so the state and /health say where the read models stopped and why.
    subscription.done.catch((e: unknown) => {
      if (handlerFailed || !(e instanceof SubscriptionFailedError)) return;
      this.markFailed(e.position, e.cause instanceof CorruptEventError ? e.cause : e);
    });
    return subscription;
  }
}
