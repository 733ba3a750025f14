import { activeTablePlaceholder, resolveActiveTables, resolveActiveTablesVia } from './active-tables';

describe('active-table placeholders (resolved where the page is read)', () => {
  const sql = `SELECT * FROM ${activeTablePlaceholder('history', 'history')} h LEFT JOIN ${activeTablePlaceholder('history_data_keys', 'history_data_keys')} k ON k.row_id = h.row_id WHERE h.row_id IN (SELECT row_id FROM ${activeTablePlaceholder('history_data_keys', 'history_data_keys')})`;
  const versions: Record<string, number> = { history: 3, history_data_keys: 1 };

  it('names each table by its active version, every occurrence', () => {
    expect(resolveActiveTables(sql, (projector) => versions[projector])).toBe(
      'SELECT * FROM history_v3 h LEFT JOIN history_data_keys_v1 k ON k.row_id = h.row_id WHERE h.row_id IN (SELECT row_id FROM history_data_keys_v1)',
    );
  });

  it('refuses a read model that is not registered', () => {
    expect(() => resolveActiveTables(sql, (projector) => (projector === 'history' ? 3 : undefined))).toThrow('projection history_data_keys is not registered');
  });

  it('leaves SQL without placeholders as it is', () => {
    expect(resolveActiveTables('SELECT 1 FROM history_v3', () => undefined)).toBe('SELECT 1 FROM history_v3');
  });

  it('resolves the same names through an asynchronous lookup (a page read on the event loop), once per table', async () => {
    const asked: string[] = [];
    const resolved = await resolveActiveTablesVia(sql, async (projector, base) => (asked.push(projector), `${base}_v${versions[projector]}`));
    expect(resolved).toBe(resolveActiveTables(sql, (projector) => versions[projector]));
    expect(asked.sort()).toEqual(['history', 'history_data_keys']);
  });
});
