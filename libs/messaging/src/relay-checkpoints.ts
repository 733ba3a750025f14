import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, SQLITE_BUSY_TIMEOUT_MS, SQLITE_FILE_NAME } from '@credit-ledger/event-store';

/** Where a relay resumes: the store position of the last event the broker acknowledged. */
export interface RelayCheckpoints {
  load(name: string): number;
  /** Durable when it returns. Never moves a checkpoint backwards. */
  save(name: string, position: number): void;
  close(): void;
}

const MIGRATIONS = [
  `CREATE TABLE relay_checkpoints (
     name       TEXT    PRIMARY KEY,
     position   INTEGER NOT NULL,
     updated_at TEXT    NOT NULL
   );`,
];

/**
 * Relay checkpoints in the ledger's own SQLite file (same data dir, same backups), written with
 * synchronous=FULL: a saved checkpoint survives a crash, so the relay never skips an event.
 */
export class SqliteRelayCheckpoints implements RelayCheckpoints {
  private readonly select: Database.Statement;
  private readonly upsert: Database.Statement;

  static open(dataDir: string): SqliteRelayCheckpoints {
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(join(dataDir, SQLITE_FILE_NAME));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    return new SqliteRelayCheckpoints(db);
  }

  private constructor(private readonly db: Database.Database) {
    migrate(db, 'relay_checkpoints', MIGRATIONS);
    this.select = db.prepare('SELECT position FROM relay_checkpoints WHERE name = ?').pluck();
    this.upsert = db.prepare(
      `INSERT INTO relay_checkpoints (name, position, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
       WHERE excluded.position > relay_checkpoints.position`,
    );
  }

  load(name: string): number {
    return (this.select.get(name) as number | undefined) ?? 0;
  }

  save(name: string, position: number): void {
    if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`a checkpoint is a store position, got ${position}`);
    this.upsert.run(name, position, new Date().toISOString());
  }

  close(): void {
    this.db.close();
  }
}
