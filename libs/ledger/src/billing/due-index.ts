import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EventStore, MAX_READ_PAGE_SIZE, migrate, SQLITE_BUSY_TIMEOUT_MS, SQLITE_FILE_NAME } from '@credit-ledger/event-store';
import { accountIdOfStream } from '../infrastructure/stream-names';

const MIGRATIONS = [
  `CREATE TABLE billing_due (
     account_id    TEXT PRIMARY KEY,
     cycle_ends_at TEXT NOT NULL
   );
   CREATE INDEX billing_due_ends ON billing_due (cycle_ends_at);
   CREATE TABLE billing_checkpoint (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
   CREATE TABLE billing_lease (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);`,
];

const CHECKPOINT = 'due-index';

/**
 * Which accounts have a cycle that ends when: a small table next to the events, kept up to date
 * from the global log (AccountOpened and CycleReset carry the open cycle's end) from a checkpoint,
 * so that a billing run reads only what was appended since the last one instead of folding every
 * account. It is a hint: the job decides on each account's real state, so a stale row costs one
 * read (the account is skipped), never a wrong reset; rows can only be earlier than the truth.
 */
export class DueIndex {
  private constructor(private readonly db: Database.Database) {}

  static open(dataDir: string): DueIndex {
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(join(dataDir, SQLITE_FILE_NAME));
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    migrate(db, 'billing', MIGRATIONS);
    return new DueIndex(db);
  }

  get checkpoint(): number {
    return (this.db.prepare('SELECT position FROM billing_checkpoint WHERE name = ?').pluck().get(CHECKPOINT) as number | undefined) ?? 0;
  }

  /** Reads the global log from the checkpoint; returns the number of events read. */
  async catchUp(store: EventStore): Promise<number> {
    const upsert = this.db.prepare(
      'INSERT INTO billing_due (account_id, cycle_ends_at) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET cycle_ends_at = excluded.cycle_ends_at',
    );
    const save = this.db.prepare(
      'INSERT INTO billing_checkpoint (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = MAX(position, excluded.position)',
    );
    let after = this.checkpoint;
    let read = 0;
    for (;;) {
      const page = await store.readAll({ after, limit: MAX_READ_PAGE_SIZE });
      if (page.length === 0) return read;
      const ends = new Map<string, string>();
      for (const e of page) {
        if (e.type === 'AccountOpened') ends.set(e.streamId, (e.data as { cycleEndsAt: string }).cycleEndsAt);
        else if (e.type === 'CycleReset') ends.set(e.streamId, (e.data as { endsAt: string }).endsAt);
      }
      after = page[page.length - 1].position;
      read += page.length;
      this.db.transaction(() => {
        for (const [stream, endsAt] of ends) {
          const accountId = accountIdOfStream(stream);
          if (accountId !== undefined) upsert.run(accountId, endsAt);
        }
        save.run(CHECKPOINT, after);
      })();
      if (page.length < MAX_READ_PAGE_SIZE) return read;
    }
  }

  /** Accounts whose open cycle ends at or before `upTo`, soonest first. */
  due(upTo: string): string[] {
    return this.db.prepare('SELECT account_id FROM billing_due WHERE cycle_ends_at <= ? ORDER BY cycle_ends_at, account_id').pluck().all(upTo) as string[];
  }

  update(accountId: string, cycleEndsAt: string): void {
    this.db
      .prepare(
        'INSERT INTO billing_due (account_id, cycle_ends_at) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET cycle_ends_at = excluded.cycle_ends_at',
      )
      .run(accountId, cycleEndsAt);
  }

  updateMany(rows: readonly (readonly [string, string])[]): void {
    const stmt = this.db.prepare(
      'INSERT INTO billing_due (account_id, cycle_ends_at) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET cycle_ends_at = excluded.cycle_ends_at',
    );
    this.db.transaction(() => {
      for (const [a, e] of rows) stmt.run(a, e);
    })();
  }

  /**
   * A lease so that, of several API instances on one data dir, one runs the scheduled job at a
   * time: taken when free or expired (or already ours), renewed by the holder while it runs.
   */
  tryLease(name: string, owner: string, ttlMs: number, now = Date.now()): boolean {
    const result = this.db
      .prepare(
        `INSERT INTO billing_lease (name, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE billing_lease.expires_at < ? OR billing_lease.owner = excluded.owner`,
      )
      .run(name, owner, now + ttlMs, now);
    return result.changes === 1;
  }

  releaseLease(name: string, owner: string): void {
    this.db.prepare('DELETE FROM billing_lease WHERE name = ? AND owner = ?').run(name, owner);
  }

  close(): void {
    this.db.close();
  }
}
