import type { ClientBase } from 'pg';

/** A column as the set-based inserts send it: one PostgreSQL array parameter per column. */
export interface PgColumn {
  readonly name: string;
  readonly type: 'text' | 'bigint';
}

export const text = (name: string): PgColumn => ({ name, type: 'text' });
export const bigint = (name: string): PgColumn => ({ name, type: 'bigint' });

/**
 * Inserts a whole batch in ONE statement: `INSERT … SELECT FROM unnest($1::text[], $2::bigint[], …)`,
 * one array per column, whatever the number of rows. The target is aliased `cur`, so that
 * `onConflict` can name the stored row (`cur.consumed + excluded.consumed`) without ambiguity.
 */
export async function insertRows(
  client: ClientBase,
  table: string,
  columns: readonly PgColumn[],
  rows: readonly (readonly unknown[])[],
  onConflict: string,
): Promise<void> {
  if (rows.length === 0) return;
  const arrays = columns.map((_, i) => rows.map((r) => r[i]));
  const names = columns.map((c) => c.name).join(', ');
  const unnest = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  await client.query(`INSERT INTO ${table} AS cur (${names}) SELECT * FROM unnest(${unnest}) ${onConflict}`, arrays);
}

/**
 * The projectors' DDL is written once, in SQLite's dialect; PostgreSQL gets it with 64-bit
 * integers (credits and positions never overflow into floats), binary ("C") collation on text (so
 * ORDER BY and range filters compare like SQLite does, byte by byte, whatever the server's locale)
 * and without SQLite's `WITHOUT ROWID` storage hint.
 */
export function postgresDdl(sqliteDdl: string): string {
  return sqliteDdl
    .replace(/\bINTEGER\b/g, 'BIGINT')
    .replace(/\bTEXT\b/g, 'TEXT COLLATE "C"')
    .replace(/\)\s*WITHOUT ROWID/g, ')');
}

/** `?` placeholders (SQLite's, in which the queries are written) as PostgreSQL's `$1, $2, …`. */
export function positional(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * node-postgres hands bigint and numeric (SUM of bigints) over as strings. Read models hold whole
 * numbers only: they become JS numbers when exact, and anything else is an error, never a float.
 */
export function exactInteger(value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) throw new RangeError(`read model value ${value} is not an integer JavaScript can hold exactly`);
  return n;
}
