import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { checksumOf, NO_STREAM, PostgresEventStore, SqliteEventStore, verifyGlobalChain } from '@credit-ledger/event-store';
import { createTestDatabase, dropTestDatabase, sqliteTamperer } from '@credit-ledger/event-store/testing';
import { historyProjector, READ_MODEL_FILE_NAME } from '@credit-ledger/projections';
import { ADMIN_KEY, tempDataDir } from '../support/ledger-harness';
import { CLI_ENTRY, SERVER_ENTRY, exited, freePort, get, startServer } from '../support/server-process';

/**
 * `credit-ledger store copy --from sqlite:<dir> --to postgres:<url>`: how a user graduates from
 * the embedded store. Ids, order and revisions preserved; resumable after a kill; verified by
 * counts and a checksum; a target holding anything else is refused.
 */
const SEED_EVENTS = 20_000;

function cli(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [CLI_ENTRY, ...args], { env: { ...process.env, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 120_000 });
}

describe('credit-ledger migrate', () => {
  it('creates the PostgreSQL schema once, says so, and a server with LEDGER_MIGRATE_ON_START=false refuses an unmigrated database', async () => {
    const url = await createTestDatabase(undefined, 'migrate');
    const dataDir = tempDataDir();
    try {
      const env = { LEDGER_STORE: 'postgres', DATABASE_URL: url, LEDGER_DATA_DIR: dataDir, LEDGER_ADMIN_KEY: ADMIN_KEY };
      const refused = spawnSync(process.execPath, [SERVER_ENTRY], {
        env: { ...process.env, ...env, LEDGER_MIGRATE_ON_START: 'false', PORT: '0', LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(refused.status).not.toBe(0);
      expect(refused.stderr + refused.stdout).toMatch(/run `credit-ledger migrate`/);
      const first = cli(['migrate'], env);
      expect(first.status).toBe(0);
      expect(first.stdout).toMatch(/applied event_store migration\(s\) 1, 2, 3; schema at version 3/);
      expect(first.stdout).toMatch(/applied read_models migration\(s\) 1; schema at version 1/);
      const second = cli(['migrate'], env);
      expect(second.status).toBe(0);
      expect(second.stdout).toMatch(/event_store schema already at version 3; nothing to do/);
      expect(second.stdout).toMatch(/read_models schema already at version 1; nothing to do/);
      // Migrated by the command: a server that does not migrate starts, read models included.
      const port = await freePort();
      const server = await startServer({ ...process.env, ...env, LEDGER_MIGRATE_ON_START: 'false', LOG_LEVEL: 'silent' }, port);
      server.kill('SIGKILL');
      await exited(server);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await dropTestDatabase(url);
    }
  }, 60_000);
});

describe('store copy sqlite → postgres', () => {
  let sourceDir: string;
  const databases: string[] = [];
  const newDatabase = async () => {
    const url = await createTestDatabase(undefined, 'copy');
    databases.push(url);
    return url;
  };

  beforeAll(() => {
    sourceDir = tempDataDir();
    const seeded = cli(['seed', '--accounts', '40', '--events', String(SEED_EVENTS), '--months', '3'], { LEDGER_DATA_DIR: sourceDir });
    expect(seeded.status).toBe(0);
  }, 120_000);
  afterAll(async () => {
    rmSync(sourceDir, { recursive: true, force: true });
    for (const url of databases) await dropTestDatabase(url);
  });

  it('copies the whole log with ids, order and revisions, verifies it, and a rerun copies nothing', async () => {
    const url = await newDatabase();
    const copy = cli(['store', 'copy', '--from', `sqlite:${sourceDir}`, '--to', `postgres:${url}`, '--json'], {});
    expect(copy.stderr).not.toMatch(/credit-ledger:/);
    expect(copy.status).toBe(0);
    const report = JSON.parse(copy.stdout);
    expect(report).toMatchObject({ alreadyCopied: 0, stopped: false });
    expect(report.copied).toBe(report.sourceEvents);
    expect(report.targetEvents).toBe(report.sourceEvents);
    expect(report.targetChecksum).toBe(report.sourceChecksum);
    expect(report.chainsCompared).toBe(report.sourceEvents);
    expect(report.sourceEvents).toBeGreaterThan(SEED_EVENTS * 0.9);

    // Independently of the report: same events, same order, same revisions, same payloads.
    const source = SqliteEventStore.open(sourceDir);
    const target = await PostgresEventStore.connect(url);
    expect(await checksumOf(target)).toEqual(await checksumOf(source));
    const [a, b] = [await source.readAll({ limit: 500 }), await target.readAll({ limit: 500 })];
    expect(b.map((e) => [e.eventId, e.streamId, e.revision, e.type])).toEqual(a.map((e) => [e.eventId, e.streamId, e.revision, e.type]));
    expect(b.map((e) => e.data)).toEqual(a.map((e) => e.data));
    // The hash chains carried over: the target hashed each event afresh and came to the same hashes.
    expect(b.map((e) => e.chain)).toEqual(a.map((e) => e.chain));
    expect((await verifyGlobalChain(target)).firstBreak).toBeUndefined();
    await source.close();
    await target.close();

    const again = cli(['store', 'copy', '--from', `sqlite:${sourceDir}`, '--to', `postgres:${url}`, '--json'], {});
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ copied: 0, alreadyCopied: report.sourceEvents, targetChecksum: report.sourceChecksum });
  }, 120_000);

  it('resumes after the copy is killed with SIGKILL at a random point, and ends identical', async () => {
    const url = await newDatabase();
    const source = SqliteEventStore.open(sourceDir);
    const sourceEvents = await source.headPosition();
    await source.close();
    // Somewhere in the first 60% of the log (logged, so a failure can be replayed by hand).
    const killAfter = 1 + Math.floor(Math.random() * sourceEvents * 0.6);
    const child: ChildProcess = spawn(process.execPath, [CLI_ENTRY, 'store', 'copy', '--from', `sqlite:${sourceDir}`, '--to', `postgres:${url}`], {
      stdio: 'ignore',
    });
    const target = await PostgresEventStore.connect(url);
    let killedAt: number;
    for (const start = Date.now(); Date.now() - start < 60_000 && child.exitCode === null;) {
      killedAt = await target.headPosition().catch(() => 0);
      if (killedAt >= killAfter) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    child.kill('SIGKILL');
    await exited(child);
    killedAt = await target.headPosition();
    await target.close();
    // It really was cut mid-copy: a strict prefix was there, and the rest is left to the resume.
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(sourceEvents);
    const resumed = cli(['store', 'copy', '--from', `sqlite:${sourceDir}`, '--to', `postgres:${url}`, '--json'], {});
    expect(resumed.status).toBe(0);
    const report = JSON.parse(resumed.stdout);
    expect(report.alreadyCopied).toBe(killedAt);
    expect(report.copied).toBe(sourceEvents - killedAt);
    expect(report.alreadyCopied + report.copied).toBe(report.sourceEvents);
    expect(report.targetChecksum).toBe(report.sourceChecksum);
    process.stdout.write(
      `store copy: kill aimed after ${killAfter} of ${sourceEvents} events, ${killedAt} in the target when killed, resumed with ${report.alreadyCopied} already there, copied ${report.copied}\n`,
    );
  }, 120_000);

  it('checks the hash chain as it copies: a source altered in its database is refused, naming the position', async () => {
    const tamperedDir = tempDataDir();
    cpSync(sourceDir, tamperedDir, { recursive: true });
    const tamperer = sqliteTamperer(tamperedDir);
    await tamperer.setCredits(200, 7);
    await tamperer.close();
    const url = await newDatabase();
    const refused = cli(['store', 'copy', '--from', `sqlite:${tamperedDir}`, '--to', `postgres:${url}`], {});
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/hash chain check failed at position 200 /);
    rmSync(tamperedDir, { recursive: true, force: true });
  }, 120_000);

  it('refuses a target that holds anything but a prefix of the source, and a missing source', async () => {
    const url = await newDatabase();
    const foreign = await PostgresEventStore.connect(url);
    await foreign.append('account-stranger', NO_STREAM, [
      {
        eventId: randomUUID(),
        type: 'AccountOpened',
        data: {},
        metadata: { schemaVersion: 2, occurredAt: 'x', recordedAt: 'x', actor: 'a', correlationId: 'c', causationId: 'c' },
      },
    ]);
    await foreign.close();
    const refused = cli(['store', 'copy', '--from', `sqlite:${sourceDir}`, '--to', `postgres:${url}`], {});
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/not a copy of the source/);
    const missing = cli(['store', 'copy', '--from', `sqlite:${sourceDir}/nope`, '--to', `postgres:${url}`], {});
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no SQLite event store/);
    const bad = cli(['store', 'copy', '--from', 'mysql:x', '--to', `postgres:${url}`], {});
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/expected sqlite:<dir>, postgres:/);
  }, 60_000);

  it('a server on the copied PostgreSQL log answers the same balances and history as on the SQLite original, from read models in PostgreSQL', async () => {
    const url = await newDatabase();
    expect(cli(['store', 'copy', '--from', `sqlite:${sourceDir}`, '--to', `postgres:${url}`], {}).status).toBe(0);
    const source = SqliteEventStore.open(sourceDir);
    const head = await source.headPosition();
    await source.close();
    const headers = { Authorization: `Bearer ${ADMIN_KEY}` };
    const quarter = 'from=2025-12-01T00:00:00Z&to=2026-03-01T00:00:00Z';
    const answersOf = async (env: NodeJS.ProcessEnv) => {
      const port = await freePort();
      const server = await startServer({ ...process.env, LEDGER_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', ...env }, port);
      const base = `http://127.0.0.1:${port}`;
      try {
        const out: unknown[] = [];
        for (const a of ['seed_00000', 'seed_00007', 'seed_00039']) {
          const read = async (path: string) => (await get(base, headers, `/v1/accounts/${a}/${path}${path.includes('?') ? '&' : '?'}minPosition=${head}`)).body;
          out.push((await get(base, headers, `/v1/accounts/${a}/balances`)).body); // folded from the log, no read model
          // History (the copy keeps event ids, so whole items compare), a second keyset page, usage, series, filters.
          const first = await read('history?limit=100');
          out.push(first, first.nextCursor ? await read(`history?limit=100&cursor=${first.nextCursor}`) : null);
          out.push(await read('history?limit=50&feature=people_search&action=email_reveal&includeRefunds=false'));
          out.push(await read(`usage/by-user?${quarter}`), await read(`usage/by-feature?${quarter}`), await read('filters'));
          out.push(await read(`usage/series?${quarter}&bucket=week&groupBy=creditType&timezone=America/New_York`));
          out.push(await (await fetch(`${base}/v1/accounts/${a}/history.csv?minPosition=${head}`, { headers })).text());
        }
        return out;
      } finally {
        server.kill('SIGKILL');
        await exited(server);
      }
    };
    const readModelsDir = tempDataDir();
    const onSqlite = await answersOf({ LEDGER_STORE: 'sqlite', LEDGER_DATA_DIR: sourceDir });
    const onPostgres = await answersOf({ LEDGER_STORE: 'postgres', DATABASE_URL: url, LEDGER_DATA_DIR: readModelsDir });
    expect(onPostgres).toEqual(onSqlite);
    expect(JSON.stringify(onSqlite)).toContain('allocated');
    expect(JSON.stringify(onSqlite)).toContain('consumptionId');
    // The PostgreSQL server kept its read models in PostgreSQL: no SQLite file, live tables in the database.
    expect(existsSync(join(readModelsDir, READ_MODEL_FILE_NAME))).toBe(false);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const tables = (await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).rows.map(
        (r) => r.table_name,
      );
      expect(tables).toEqual(
        expect.arrayContaining([
          'projection_registry',
          `history_v${historyProjector.version}`,
          'usage_by_user_v1',
          'usage_by_feature_v1',
          'usage_feature_users_v1',
          'usage_hourly_v1',
          'balances_v1',
          'filter_catalog_v1',
          'accounts_v1',
          'history_data_keys_v1',
        ]),
      );
      const registry = (await client.query<{ name: string; status: string; checkpoint: string }>('SELECT name, status, checkpoint FROM projection_registry'))
        .rows;
      expect(registry).toHaveLength(8);
      expect(registry.every((r) => r.status === 'live' && Number(r.checkpoint) === head)).toBe(true);
    } finally {
      await client.end();
    }
    rmSync(readModelsDir, { recursive: true, force: true });
  }, 120_000);
});
