import { inKeyOrder, ProjectedEvent, Projector } from '../projector';
import { insertRows, text } from '../postgres/pg-sql';

/** Catalog entries a SQLite applier remembers as written at most (then it forgets them all and starts over). */
export const MAX_REMEMBERED_CATALOG_ENTRIES = 100_000;

/** The features, actions, users and credit types that have usage in an account: the filter options. */
export const filterCatalogProjector: Projector = {
  name: 'filter_catalog',
  version: 1,
  schema: (t) => `
    CREATE TABLE IF NOT EXISTS ${t('filter_catalog')} (
      account_id TEXT NOT NULL,
      kind       TEXT NOT NULL CHECK (kind IN ('feature', 'action', 'user', 'creditType')),
      value      TEXT NOT NULL,
      parent     TEXT NOT NULL DEFAULT '',
      PRIMARY KEY (account_id, kind, value, parent)
    ) WITHOUT ROWID;`,
  tables: (t) => [t('filter_catalog')],
  prepare(db, t) {
    const add = db.prepare(`INSERT OR IGNORE INTO ${t('filter_catalog')} VALUES (?, ?, ?, ?)`);
    // Entries this applier wrote already: nearly every consumption repeats them, and an INSERT OR
    // IGNORE of a present row still costs a search of the table. The store prepares its appliers
    // again after a batch that failed (its rows rolled back), after a reset, and when another
    // writer moved the checkpoint, so the set never names a row the table lacks.
    const written = new Set<string>();
    return (batch) => {
      if (written.size > MAX_REMEMBERED_CATALOG_ENTRIES) written.clear();
      const unwritten = new Map([...catalogEntriesByKey(batch)].filter(([key]) => !written.has(key)));
      for (const entry of inKeyOrder(unwritten)) add.run(...entry);
      for (const key of unwritten.keys()) written.add(key);
    };
  },
  applyPostgres: (client, t, batch) =>
    insertRows(
      client,
      t('filter_catalog'),
      ['account_id', 'kind', 'value', 'parent'].map(text),
      inKeyOrder(catalogEntriesByKey(batch)),
      'ON CONFLICT DO NOTHING',
    ),
};

/** The catalog entries (account, kind, value, parent) a batch of events uses, each once, by their key. */
function catalogEntriesByKey(batch: readonly ProjectedEvent[]): Map<string, [string, string, string, string]> {
  const entries = new Map<string, [string, string, string, string]>();
  const once = (accountId: string, kind: string, value: string, parent = '') => {
    const key = `${accountId}\u0000${kind}\u0000${value}\u0000${parent}`;
    if (!entries.has(key)) entries.set(key, [accountId, kind, value, parent]);
  };
  const combinations = new Set<string>(); // most consumptions of a batch repeat one seen before: one key, not four
  for (const p of batch) {
    if (p.event.type !== 'CreditConsumed') continue;
    const d = p.event.data;
    const combination = `${p.accountId}\u0000${d.feature}\u0000${d.action}\u0000${d.userId}\u0000${d.creditType}`;
    if (combinations.has(combination)) continue;
    combinations.add(combination);
    once(p.accountId, 'feature', d.feature);
    once(p.accountId, 'action', d.action, d.feature);
    once(p.accountId, 'user', d.userId);
    once(p.accountId, 'creditType', d.creditType);
  }
  return entries;
}
