import { exactInteger, positional, postgresDdl } from './pg-sql';

describe('PostgreSQL read-model SQL helpers', () => {
  it('bigint and numeric text become exact JS integers, and anything a float would round is refused', () => {
    expect(exactInteger('0')).toBe(0);
    expect(exactInteger('-42')).toBe(-42);
    expect(exactInteger(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => exactInteger('9007199254740993')).toThrow(RangeError); // 2^53 + 1: no float holds it
    expect(() => exactInteger('1.5')).toThrow(RangeError);
    expect(() => exactInteger('12.0')).toThrow(RangeError);
    expect(() => exactInteger('NaN')).toThrow(RangeError);
  });

  it('numbers ? placeholders in order', () => {
    expect(positional('SELECT * FROM t WHERE a = ? AND (b, c) < (?, ?) LIMIT ?')).toBe('SELECT * FROM t WHERE a = $1 AND (b, c) < ($2, $3) LIMIT $4');
  });

  it("translates the projectors' SQLite DDL: 64-bit integers, byte-order text, no WITHOUT ROWID", () => {
    const ddl = postgresDdl(`CREATE TABLE IF NOT EXISTS x_v1 (
      id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('a', 'b')), parent TEXT NOT NULL DEFAULT ''
    ) WITHOUT ROWID;`);
    expect(ddl).toContain('id BIGINT PRIMARY KEY');
    expect(ddl).toContain('name TEXT COLLATE "C" NOT NULL');
    expect(ddl).toContain(`CHECK (kind IN ('a', 'b'))`);
    expect(ddl).not.toMatch(/WITHOUT ROWID|INTEGER/);
  });
});
