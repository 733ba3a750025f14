import { ProjectedEvent, Projector } from '../projector';
import { bigint, insertRows, text } from '../postgres/pg-sql';

/** One row per opened account: what the superuser's account list and search read. */
export interface AccountRow {
  readonly accountId: string;
  readonly name: string;
  readonly openedAt: string;
  readonly position: number;
}

/** The account rows a batch opens (pure: also used by `verify`). */
export function accountRows(batch: readonly ProjectedEvent[]): AccountRow[] {
  const rows: AccountRow[] = [];
  for (const p of batch) {
    if (p.event.type !== 'AccountOpened') continue;
    rows.push({ accountId: p.accountId, name: p.event.data.name, openedAt: p.event.occurredAt, position: p.position });
  }
  return rows;
}

/** Accounts by id, with their name: listed and searched by the superuser (`GET /v1/accounts`). */
export const accountsProjector: Projector = {
  name: 'accounts',
  version: 1,
  schema: (t) => `
    CREATE TABLE IF NOT EXISTS ${t('accounts')} (
      account_id TEXT    NOT NULL PRIMARY KEY,
      name       TEXT    NOT NULL,
      name_key   TEXT    NOT NULL,
      opened_at  TEXT    NOT NULL,
      position   INTEGER NOT NULL
    ) WITHOUT ROWID;`,
  tables: (t) => [t('accounts')],
  prepare(db, t) {
    const insert = db.prepare(`INSERT OR IGNORE INTO ${t('accounts')} VALUES (?, ?, ?, ?, ?)`);
    return (batch) => {
      for (const r of accountRows(batch)) insert.run(r.accountId, r.name, searchKey(r.name), r.openedAt, r.position);
    };
  },
  applyPostgres: (client, t, batch) =>
    insertRows(
      client,
      t('accounts'),
      [text('account_id'), text('name'), text('name_key'), text('opened_at'), bigint('position')],
      accountRows(batch).map((r) => [r.accountId, r.name, searchKey(r.name), r.openedAt, r.position]),
      'ON CONFLICT (account_id) DO NOTHING',
    ),
};

/** What a name is searched by: NFC, lower case (the same on both stores, whatever their collation). */
export function searchKey(value: string): string {
  return value.normalize('NFC').toLowerCase();
}
