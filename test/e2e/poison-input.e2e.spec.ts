import Database from 'better-sqlite3';
import { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { Client } from 'pg';
import { EventStore, PostgresEventStore, SQLITE_FILE_NAME, SqliteEventStore } from '@credit-ledger/event-store';
import { createTestDatabase, dropTestDatabase } from '@credit-ledger/event-store/testing';
import { planOf } from '@credit-ledger/domain/testing';
import { accountStream } from '@credit-ledger/ledger';
import { ADMIN_KEY, consumption, tempDataDir } from '../support/ledger-harness';
import { exited, freePort, get, post, startServer } from '../support/server-process';

/**
 * Stored data the server cannot read — a corrupted row, an event type it does not know, a schema
 * version from the future — stops the read models exactly there (named in /health), is never
 * skipped, and never takes the API down: other accounts keep taking commands and queries.
 */
type Store = 'sqlite' | 'postgres';
type Poison = 'unknown type' | 'future schemaVersion' | 'corrupted row';
const headers = { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' };
const PLAN = planOf({ email: 100 });

async function inject(store: Store, dataDir: string, databaseUrl: string | undefined, poison: Poison): Promise<number> {
  const es: EventStore = store === 'sqlite' ? SqliteEventStore.open(dataDir) : await PostgresEventStore.connect(databaseUrl as string);
  try {
    const stream = accountStream('victim');
    const existing = await es.readStream(stream);
    const revision = existing[existing.length - 1].revision;
    const metadata = { ...existing[existing.length - 1].metadata, causationId: 'poison' };
    if (poison === 'unknown type') {
      return (await es.append(stream, revision, [{ eventId: randomUUID(), type: 'CreditTeleported', data: { credits: 5 }, metadata }])).positions[0];
    }
    if (poison === 'future schemaVersion') {
      const last = existing[existing.length - 1];
      return (await es.append(stream, revision, [{ eventId: randomUUID(), type: last.type, data: last.data, metadata: { ...metadata, schemaVersion: 99 } }]))
        .positions[0];
    }
    // Corrupted row: a valid event whose stored bytes are then damaged behind the adapter's back.
    const position = (await es.append(stream, revision, [{ eventId: randomUUID(), type: 'CreditConsumed', data: existing[1].data, metadata }])).positions[0];
    if (store === 'sqlite') {
      const db = new Database(join(dataDir, SQLITE_FILE_NAME));
      db.prepare('UPDATE events SET data = ? WHERE position = ?').run('{"consumptionId": "trunc', position);
      db.close();
    } else {
      const c = new Client({ connectionString: databaseUrl });
      await c.connect();
      await c.query('ALTER TABLE ledger_events DISABLE TRIGGER ledger_events_no_update_delete');
      await c.query('ALTER TABLE ledger_events ALTER COLUMN data TYPE text');
      await c.query(`UPDATE ledger_events SET data = '{"consumptionId": "trunc' WHERE position = $1`, [position]);
      await c.end();
    }
    return position;
  } finally {
    await es.close();
  }
}

describe.each(['sqlite', 'postgres'] as const)('poison input: %s', (store) => {
  it.each(['unknown type', 'future schemaVersion', 'corrupted row'] as const)(
    '%s: the read models stop at its position, the API keeps serving',
    async (poison) => {
      const dataDir = tempDataDir();
      const databaseUrl = store === 'postgres' ? await createTestDatabase(undefined, 'poison') : undefined;
      const env = {
        ...process.env,
        LEDGER_DATA_DIR: dataDir,
        LEDGER_ADMIN_KEY: ADMIN_KEY,
        LOG_LEVEL: 'silent',
        LEDGER_STORE: store,
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      };
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      let server: ChildProcess | undefined;
      try {
        // The poison arrives while the server runs (live path) or is in the log when it starts
        // (catch-up path). A row is damaged while the server is down: it reads what it appends.
        const atStart = poison !== 'unknown type';
        server = await startServer(env, port);
        for (const a of ['victim', 'bystander']) expect((await post(base, headers, '/v1/accounts', { accountId: a, name: a, plan: PLAN })).status).toBe(201);
        expect((await post(base, headers, '/v1/accounts/victim/consumptions', consumption('v1'))).status).toBe(201);
        if (atStart) {
          server.kill('SIGTERM');
          await exited(server);
        }
        const position = await inject(store, dataDir, databaseUrl, poison);
        if (atStart) server = await startServer(env, port, { healthy: false });

        // The read models stop exactly at the poison, and say so.
        let health: { status: number; body: unknown } = { status: 0, body: null };
        for (const start = Date.now(); Date.now() - start < 15_000;) {
          health = await get(base, headers, '/health');
          if (health.status === 503) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(health.status).toBe(503);
        expect(JSON.stringify(health.body)).toContain(`position ${position}`);

        // The API is up: the other account takes commands and queries; what was projected is served.
        expect((await post(base, headers, '/v1/accounts/bystander/consumptions', consumption('b1'))).status).toBe(201);
        expect((await get(base, headers, '/v1/accounts/bystander/balances')).body.balances[0]).toMatchObject({ used: 1 });
        const history = await get(base, headers, '/v1/accounts/victim/history');
        expect(history.status).toBe(200);
        expect(history.body.items.map((i: { consumptionId?: string }) => i.consumptionId)).toContain('v1');
        // The poisoned account cannot be folded: a clear error naming the position, not a crash.
        const refused = await post(base, headers, '/v1/accounts/victim/consumptions', consumption('v2'));
        expect(refused.status).toBe(500);
        expect(refused.body).toMatchObject({ error: 'EVENT_UNREADABLE' });
        expect(refused.body.message).toContain(`position ${position}`);
        expect(server.exitCode).toBeNull();
      } finally {
        server?.kill('SIGKILL');
        if (server) await exited(server);
        rmSync(dataDir, { recursive: true, force: true });
        if (databaseUrl) await dropTestDatabase(databaseUrl);
      }
    },
    60_000,
  );
});
