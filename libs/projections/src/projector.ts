import Database from 'better-sqlite3';
import type { ClientBase } from 'pg';
import { LedgerEvent } from '@credit-ledger/domain';

/** One event as projectors see it: decoded (upcast to the current schema) with its log coordinates. */
export interface ProjectedEvent {
  readonly position: number;
  readonly accountId: string;
  readonly eventId: string;
  readonly recordedAt: string;
  readonly event: LedgerEvent;
}

/**
 * A read model. Tables carry the version in their name (`history_v1`): changing a projector's logic
 * means bumping `version`, which builds new tables next to the live ones and switches queries over
 * when they have caught up. Applying runs inside the store's transaction, together with the
 * checkpoint update, and only ever sees events after this projector's checkpoint.
 *
 * What an event does to the rows is pure (e.g. `historyRows`, `usageDelta`) and shared; each store
 * only writes the result: SQLite row by row through prepared statements (cheap in-process),
 * PostgreSQL set-based, one statement per table and batch (a round trip per row would dominate).
 */
export interface Projector {
  readonly name: string;
  readonly version: number;
  /** CREATE TABLE statements for `table(name)` names of this version, in SQLite's dialect (see `postgresDdl`). */
  schema(table: (base: string) => string): string;
  /** CREATE INDEX statements: built after a replay rather than row by row during it. */
  indexes?(table: (base: string) => string): string;
  /** Tables of this version, to drop on rebuild or retirement. */
  tables(table: (base: string) => string): string[];
  /** SQLite: prepares statements against this version's tables; the result applies batches. */
  prepare(db: Database.Database, table: (base: string) => string): (batch: readonly ProjectedEvent[]) => void;
  /** PostgreSQL: applies a batch with a few set-based statements on `client` (inside the store's transaction). */
  applyPostgres(client: ClientBase, table: (base: string) => string, batch: readonly ProjectedEvent[]): Promise<void>;
}

export function tableName(base: string, version: number): string {
  return `${base}_v${version}`;
}

export const dayOf = (iso: string): string => iso.slice(0, 10);
export const hourOf = (iso: string): number => Math.floor(Date.parse(iso) / 3_600_000);

/**
 * The values of a batch's rows keyed by their primary key (fields joined by a separator that sorts
 * first), in key order: written in that order, consecutive rows land on the same B-tree pages
 * instead of all over the table (a replay's upserts touch each page once per batch, not per row).
 */
export function inKeyOrder<V>(byKey: ReadonlyMap<string, V>): V[] {
  return [...byKey.keys()].sort().map((key) => byKey.get(key)!);
}
