import { ReadModelStore } from '../read-model-store';
import { searchKey } from './accounts.projector';

export const DEFAULT_ACCOUNTS_PAGE = 50;
export const MAX_ACCOUNTS_PAGE = 200;
export const MAX_ACCOUNT_SEARCH_LENGTH = 128;

export interface AccountListItem {
  readonly accountId: string;
  readonly name: string;
  readonly openedAt: string;
}

interface AccountDbRow {
  account_id: string;
  name: string;
  opened_at: string;
}

/** `%`, `_` and the escape character itself taken literally in a LIKE pattern. */
function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function encodeAccountsCursor(accountId: string, search: string | undefined): string {
  return Buffer.from(JSON.stringify([accountId, search ?? null])).toString('base64url');
}

/** The account id a cursor stands after, or undefined when it is not one issued for this search. */
export function decodeAccountsCursor(text: string, search: string | undefined): string | undefined {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(decoded) || typeof decoded[0] !== 'string' || decoded[1] !== (search ?? null)) return undefined;
    return decoded[0];
  } catch {
    return undefined;
  }
}

/**
 * The accounts read model: listed by id in keyset pages (never OFFSET), searched by a substring of
 * the id or of the name, case-insensitively (the same on SQLite and PostgreSQL).
 */
export class AccountQueries {
  constructor(private readonly store: ReadModelStore) {}

  async page(search: string | undefined, limit: number, after?: string): Promise<{ items: AccountListItem[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (search !== undefined && search !== '') {
      const pattern = `%${likeLiteral(searchKey(search))}%`;
      where.push("(lower(account_id) LIKE ? ESCAPE '\\' OR name_key LIKE ? ESCAPE '\\')");
      params.push(pattern, pattern);
    }
    if (after !== undefined) {
      where.push('account_id > ?');
      params.push(after);
    }
    const table = await this.store.activeTable('accounts', 'accounts');
    const sql = `SELECT account_id, name, opened_at FROM ${table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY account_id LIMIT ?`;
    const rows = await this.store.all<AccountDbRow>(sql, [...params, limit + 1]);
    const items = rows.slice(0, limit).map((r) => ({ accountId: r.account_id, name: r.name, openedAt: r.opened_at }));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeAccountsCursor(last.accountId, search) : null };
  }
}
