import { ProjectedEvent, Projector } from '../projector';
import { bigint, insertRows, text } from '../postgres/pg-sql';
import { historyRowId } from './history.projector';

/** A history row of a consumption that names a dataKey (the datum bought: a contact id, for example). */
export interface DataKeyRow {
  readonly accountId: string;
  readonly dataKey: string;
  readonly rowId: number;
}

/** The data-key rows of a batch (pure: also used by `verify`). */
export function dataKeyRows(batch: readonly ProjectedEvent[]): DataKeyRow[] {
  const rows: DataKeyRow[] = [];
  for (const p of batch) {
    if (p.event.type !== 'CreditConsumed' || p.event.data.dataKey === null) continue;
    // A consumption's one history row is its first (historyRows): its id, without building the row.
    rows.push({ accountId: p.accountId, dataKey: p.event.data.dataKey, rowId: historyRowId(p.position, 0) });
  }
  return rows;
}

/** The table's key order (see `inKeyOrder`: consecutive inserts on the same pages). */
function byPrimaryKey(a: DataKeyRow, b: DataKeyRow): number {
  if (a.accountId !== b.accountId) return a.accountId < b.accountId ? -1 : 1;
  if (a.dataKey !== b.dataKey) return a.dataKey < b.dataKey ? -1 : 1;
  return a.rowId - b.rowId;
}

/**
 * Which history rows bought or accessed a dataKey: the history's `?dataKey=` filter ("other
 * accesses to the same datum"). A table of its own, so the history table keeps its version.
 */
export const dataKeysProjector: Projector = {
  name: 'history_data_keys',
  version: 1,
  schema: (t) => `
    CREATE TABLE IF NOT EXISTS ${t('history_data_keys')} (
      account_id TEXT    NOT NULL,
      data_key   TEXT    NOT NULL,
      row_id     INTEGER NOT NULL,
      PRIMARY KEY (account_id, data_key, row_id)
    ) WITHOUT ROWID;`,
  indexes: (t) => `CREATE INDEX IF NOT EXISTS ${t('history_data_keys')}_row ON ${t('history_data_keys')} (account_id, row_id);`,
  tables: (t) => [t('history_data_keys')],
  prepare(db, t) {
    const insert = db.prepare(`INSERT OR IGNORE INTO ${t('history_data_keys')} VALUES (?, ?, ?)`);
    return (batch) => {
      for (const r of dataKeyRows(batch).sort(byPrimaryKey)) insert.run(r.accountId, r.dataKey, r.rowId);
    };
  },
  applyPostgres: (client, t, batch) =>
    insertRows(
      client,
      t('history_data_keys'),
      [text('account_id'), text('data_key'), bigint('row_id')],
      dataKeyRows(batch).map((r) => [r.accountId, r.dataKey, r.rowId]),
      'ON CONFLICT DO NOTHING',
    ),
};
