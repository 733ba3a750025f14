import { ProjectedEvent, Projector } from './projector';

export type ProjectionStatus = 'building' | 'rebuilding' | 'live' | 'failed';

export interface ProjectionState {
  readonly name: string;
  readonly version: number;
  readonly checkpoint: number;
  readonly status: ProjectionStatus;
  readonly error: string | null;
}

/** A batch of the global log as the store applies it. */
export interface ProjectionBatch {
  /** Position of the batch's last event: every projector's checkpoint after the batch. */
  readonly last: number;
  /** The batch's events of account streams, decoded, in log order. */
  readonly events: readonly ProjectedEvent[];
}

/**
 * Where the read models live: the SQLite file next to the embedded event store, or the PostgreSQL
 * database of the PostgreSQL event store. Asynchronous because PostgreSQL is; the SQLite store
 * answers synchronously underneath (better-sqlite3), so its batches stay one synchronous
 * transaction that no other request can interleave with.
 *
 * Both keep the same promises: tables `<base>_v<version>`, a registry row per projector version
 * (checkpoint, status, error); a batch and every projector's checkpoint commit in ONE transaction;
 * a projector only applies the events after its checkpoint as read inside that transaction, so a
 * replayed batch, a crash or a second process projecting at once never double-applies or skips.
 */
export interface ReadModelStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates the tables of these projector versions when missing, and registers them (`building`, checkpoint 0). */
  register(projectors: readonly Projector[]): Promise<void>;
  /** Each projector's checkpoint, in the order given. */
  checkpoints(projectors: readonly Projector[]): Promise<number[]>;
  /** Applies a batch to every projector past whose checkpoint it reaches, and moves their checkpoints to `batch.last`, in one transaction. */
  applyBatch(projectors: readonly Projector[], batch: ProjectionBatch): Promise<void>;
  /** Marks these projector versions failed with `message` (where and why they stopped). */
  markFailed(projectors: readonly Projector[], message: string): Promise<void>;
  /** Marks versions that reached `head` live (building deferred indexes first) and retires older versions. */
  promoteCaughtUp(projectors: readonly Projector[], head: number): Promise<void>;
  /** Drops and recreates these versions' tables at checkpoint 0, `rebuilding`; indexes wait for the promotion. */
  reset(projectors: readonly Projector[]): Promise<void>;
  states(): Promise<ProjectionState[]>;
  /** The position every read model still projecting has reached (what `?minPosition=` waits for). */
  position(): Promise<number>;
  /** The table queries should use: the live version's, else the newest being built. */
  activeTable(projector: string, base: string): Promise<string>;
  /** A read query written with `?` placeholders; integer columns come back as exact JS numbers. */
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Like `all`, with each row an array in the SELECT's column order: for bulk reads (CSV), no per-row objects. */
  allArrays<T extends readonly unknown[]>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** The rows of a read query, fetched a bounded page at a time (for scans of whole tables). */
  iterate<T>(sql: string, params?: readonly unknown[]): AsyncIterable<T>;
  /** A failure of the connection or the server, not of the batch: applying the same batch again may work. */
  isTransient(error: unknown): boolean;
  close(): Promise<void>;
}

/** The statuses of read models still projecting: `position()` is the lowest checkpoint among them. */
export const PROJECTING_STATUSES: readonly ProjectionStatus[] = ['live', 'building', 'rebuilding'];

/** PROJECTING_STATUSES as an SQL list, for the stores' `position()` queries. */
export const PROJECTING_STATUSES_SQL = PROJECTING_STATUSES.map((status) => `'${status}'`).join(', ');

/** What `position()` answers, from the states already read (0 when no read model is projecting). */
export function positionOf(states: readonly ProjectionState[]): number {
  let position: number | undefined;
  for (const state of states)
    if (PROJECTING_STATUSES.includes(state.status) && (position === undefined || state.checkpoint < position)) position = state.checkpoint;
  return position ?? 0;
}

/** The events of a batch after a projector's checkpoint. */
export function eventsAfter(batch: ProjectionBatch, checkpoint: number): ProjectedEvent[] {
  return batch.events.filter((e) => e.position > checkpoint);
}

/** Rows fetched per page by `iterate`. */
export const ITERATE_PAGE_ROWS = 2_000;
