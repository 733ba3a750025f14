import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { checksumOf, NO_STREAM, PostgresEventStore, SqliteEventStore } from '../../libs/event-store/src';
import { createTestDatabase, dropTestDatabase } from '../../libs/event-store/src/postgres/test-databases';
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
      const second = cli(['migrate'], env);
      expect(second.status).toBe(0);
      expect(second.stdout).toMatch(/already at version 3; nothing to do/);
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
    expect(report.sourceEvents).toBeGreaterThan(SEED_EVENTS * 0.9);

    // Independently of the report: same events, same order, same revisions, same payloads.
    const source = SqliteEventStore.open(sourceDir);
    const target = await PostgresEventStore.connect(url);
    expect(await checksumOf(target)).toEqual(await checksumOf(source));
    const [a, b] = [await source.readAll({ limit: 500 }), await target.readAll({ limit: 500 })];
    expect(b.map((e) => [e.eventId, e.streamId, e.revision, e.type])).toEqual(a.map((e) => [e.eventId, e.streamId, e.revision, e.type]));
    expect(b.map((e) => e.data)).toEqual(a.map((e) => e.data));
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
    const child: ChildProcess = spawn(process.execPath, [CLI_ENTRY, 'store', 'copy', '--from', `sqlite:${sourceDir}`, '--to', `postgres:${url}`], { stdio: 'ignore' });
    const target = await PostgresEventStore.connect(url);
    let killedAt = 0;
    for (const start = Date.now(); Date.now() - start < 60_000 && child.exitCode === null; ) {
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
    process.stdout.write(`store copy: kill aimed after ${killAfter} of ${sourceEvents} events, ${killedAt} in the target when killed, resumed with ${report.alreadyCopied} already there, copied ${report.copied}\n`);
  }, 120_000);

  it('refuses a target that holds anything but a prefix of the source, and a missing source', async () => {
    const url = await newDatabase();
    const foreign = await PostgresEventStore.connect(url);
    await foreign.append('account-stranger', NO_STREAM, [
      { eventId: randomUUID(), type: 'AccountOpened', data: {}, metadata: { schemaVersion: 2, occurredAt: 'x', recordedAt: 'x', actor: 'a', correlationId: 'c', causationId: 'c' } },
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

  it('a server on the copied PostgreSQL log answers the same balances as on the SQLite original', async () => {
    const url = await newDatabase();
    expect(cli(['store', 'copy', '--from', `sqlite:${sourceDir}`, '--to', `postgres:${url}`], {}).status).toBe(0);
    const headers = { Authorization: `Bearer ${ADMIN_KEY}` };
    const balancesOf = async (env: NodeJS.ProcessEnv) => {
      const port = await freePort();
      const server = await startServer({ ...process.env, LEDGER_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', ...env }, port);
      try {
        const out: unknown[] = [];
        for (const a of ['seed_00000', 'seed_00007', 'seed_00039']) out.push((await get(`http://127.0.0.1:${port}`, headers, `/v1/accounts/${a}/balances`)).body);
        return out;
      } finally {
        server.kill('SIGKILL');
        await exited(server);
      }
    };
    const readModelsDir = tempDataDir();
    const onSqlite = await balancesOf({ LEDGER_STORE: 'sqlite', LEDGER_DATA_DIR: sourceDir });
    const onPostgres = await balancesOf({ LEDGER_STORE: 'postgres', DATABASE_URL: url, LEDGER_DATA_DIR: readModelsDir });
    expect(onPostgres).toEqual(onSqlite);
    expect(JSON.stringify(onSqlite)).toContain('allocated');
    rmSync(readModelsDir, { recursive: true, force: true });
  }, 120_000);
});
