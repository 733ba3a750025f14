import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReaderPool, SqliteReadError } from './sqlite-reader-pool';

/** The built module (npm test builds first): a plain Node process runs it. */
const BUILT_POOL = join(__dirname, '../../../../dist/libs/event-store/src/sqlite/sqlite-reader-pool.js');

describe('SQLite reader threads', () => {
  let dir: string;
  let file: string;
  let writer: Database.Database;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'reader-pool-'));
    file = join(dir, 'test.sqlite');
    writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    writer.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, digest BLOB)');
    const insert = writer.prepare('INSERT INTO items (name, digest) VALUES (?, ?)');
    writer.transaction(() => {
      for (let index = 1; index <= 500; index++) insert.run(`item ${index}`, index % 2 === 0 ? Buffer.from([index % 256, 0xab]) : null);
    })();
  });
  afterAll(() => {
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers what the writing connection reads, BLOBs as lowercase hex, and sees each later commit whole', async () => {
    const pool = new SqliteReaderPool(file, 1_000, 2);
    try {
      const rows = await pool.all<{ id: number; name: string; digest: string | null }>('SELECT * FROM items WHERE id > ? ORDER BY id LIMIT ?', [2, 3]);
      expect(rows).toEqual([
        { id: 3, name: 'item 3', digest: null },
        { id: 4, name: 'item 4', digest: '04ab' },
        { id: 5, name: 'item 5', digest: null },
      ]);
      const counts = await Promise.all(Array.from({ length: 8 }, () => pool.all<{ total: number }>('SELECT COUNT(*) AS total FROM items')));
      expect(counts.map(([row]) => row.total)).toEqual(Array(8).fill(500));
      writer.transaction(() => {
        writer.prepare('INSERT INTO items (name) VALUES (?)').run('late 1');
        writer.prepare('INSERT INTO items (name) VALUES (?)').run('late 2');
      })();
      expect(await pool.all('SELECT name FROM items WHERE id > 500 ORDER BY id')).toEqual([{ name: 'late 1' }, { name: 'late 2' }]);
    } finally {
      await pool.close();
    }
  });

  it('fails a bad query with the SQLite code, and is read-only', async () => {
    const pool = new SqliteReaderPool(file, 1_000, 1);
    try {
      await expect(pool.all('SELECT * FROM missing')).rejects.toThrow(/no such table: missing/);
      const refused = await pool.all("INSERT INTO items (name) VALUES ('x') RETURNING id").catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(SqliteReadError);
      expect((refused as SqliteReadError).code).toBe('SQLITE_READONLY');
      expect(await pool.all('SELECT 1 AS one')).toEqual([{ one: 1 }]); // a failed query leaves the thread serving
    } finally {
      await pool.close();
    }
  });

  it('an idle pool does not keep a process alive, and closing it does not let the process end early', () => {
    const script = `
      const { SqliteReaderPool } = require(${JSON.stringify(BUILT_POOL)});
      (async () => {
        const pool = new SqliteReaderPool(${JSON.stringify(file)}, 1000, 2);
        await pool.all('SELECT 1');
        await pool.close();
        console.log('closed');
      })();`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('closed');
  });
});

describe('SQLite reader threads: rows as arrays', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reader-pool-arrays-'));
  const arraysFile = join(dir, 'arrays.sqlite');
  beforeAll(() => {
    const db = new Database(arraysFile);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, digest BLOB)');
    const insert = db.prepare('INSERT INTO items (name, digest) VALUES (?, ?)');
    for (let index = 1; index <= 10; index++) insert.run(`item ${index}`, index % 2 === 0 ? Buffer.from([index % 256, 0xab]) : null);
    db.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers rows as arrays in column order for bulk reads, BLOBs as hex too', async () => {
    const pool = new SqliteReaderPool(arraysFile, 1_000, 1);
    try {
      expect(await pool.allArrays('SELECT * FROM items WHERE id > ? ORDER BY id LIMIT ?', [2, 3])).toEqual([
        [3, 'item 3', null],
        [4, 'item 4', '04ab'],
        [5, 'item 5', null],
      ]);
      // One SQL text read both ways keeps each form (raw mode belongs to a cached statement).
      expect(await pool.all('SELECT id FROM items WHERE id = ?', [7])).toEqual([{ id: 7 }]);
      expect(await pool.allArrays('SELECT id FROM items WHERE id = ?', [7])).toEqual([[7]]);
      expect(await pool.all('SELECT id FROM items WHERE id = ?', [7])).toEqual([{ id: 7 }]);
    } finally {
      await pool.close();
    }
  });
});
