/**
 * The active version of a read model (SQLite): the live one, else the newest. A history thread
 * reads it itself, in the same read transaction as the page it names: the event loop runs no query
 * for it, and a rebuild that swaps versions between the two reads cannot drop the table under the page.
 */
export const ACTIVE_VERSION_SQL = `SELECT version FROM projection_registry WHERE name = ? ORDER BY (status = 'live') DESC, version DESC LIMIT 1`;

const PLACEHOLDER = /\{active:([a-z_]+):([a-z_]+)\}/g;

/** Names, in SQL a history thread runs, the table `base` of `projector`'s active version (resolved by `resolveActiveTables`). */
export function activeTablePlaceholder(projector: string, base: string): string {
  return `{active:${projector}:${base}}`;
}

/** `sql` with each placeholder replaced by the table of the active version `versionOf` gives (undefined: not registered, an error). */
export function resolveActiveTables(sql: string, versionOf: (projector: string) => number | undefined): string {
  return sql.replace(PLACEHOLDER, (_, projector: string, base: string) => {
    const version = versionOf(projector);
    if (version === undefined) throw new Error(`projection ${projector} is not registered`);
    return `${base}_v${version}`;
  });
}

/** The same, with the names looked up asynchronously (a page read on the event loop when no thread can). */
export async function resolveActiveTablesVia(sql: string, activeTable: (projector: string, base: string) => Promise<string>): Promise<string> {
  const names = new Map<string, string>();
  for (const [placeholder, projector, base] of sql.matchAll(PLACEHOLDER)) {
    if (!names.has(placeholder)) names.set(placeholder, await activeTable(projector, base));
  }
  return sql.replace(PLACEHOLDER, (placeholder) => names.get(placeholder)!);
}
