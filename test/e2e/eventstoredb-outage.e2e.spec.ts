import { INestApplication } from '@nestjs/common';
import { EventStoreDBClient } from '@eventstore/db-client';
import { rmSync } from 'node:fs';
import request from 'supertest';
import { createLedgerApp } from '../../apps/ledger-api/src/app';
import { EventStoreDbEventStore } from '@credit-ledger/event-store/eventstoredb';
import { createTestDatabase, dropTestDatabase, FakeEventStoreDbClient } from '@credit-ledger/event-store/testing';
import { LedgerConfig } from '@credit-ledger/ledger';
import { ADMIN_KEY, consumption, tempDataDir, testConfig } from '../support/ledger-harness';

/**
 * An EventStoreDB outage under a real Nest HTTP app (LEDGER_STORE=eventstoredb, read models and
 * keys in the PostgreSQL database of DATABASE_URL). No server runs here: the store is the real adapter over the fake client, which fails
 * every call with the client's own UnavailableError while "down". Commands then answer 503
 * STORE_UNAVAILABLE with Retry-After (never a 500, never an acknowledgement), /health says down,
 * and once the server is back the same request succeeds, charged once.
 */
describe('EventStoreDB outage over HTTP', () => {
  const dataDir = tempDataDir();
  const fake = new FakeEventStoreDbClient();
  let app: INestApplication;
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase(undefined, 'esdb_outage');
    const config: LedgerConfig = {
      ...testConfig(dataDir),
      store: 'eventstoredb',
      eventStoreConnectionString: 'esdb://fake.invalid:2113?tls=false',
      databaseUrl,
    };
    const eventStore = EventStoreDbEventStore.fromClient(fake as unknown as EventStoreDBClient);
    app = await createLedgerApp(config, { eventStore });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    fake.setUnavailable(false);
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
    await dropTestDatabase(databaseUrl);
  });

  const post = (path: string, body: object) => request(app.getHttpServer()).post(path).set('Authorization', `Bearer ${ADMIN_KEY}`).send(body);

  it('answers 503 STORE_UNAVAILABLE while the server is unreachable, and the same request succeeds once it is back', async () => {
    const opened = await post('/v1/accounts', { accountId: 'esdb-outage', name: 'Outage', plan: { creditTypes: { email: { allocation: 100 } } } });
    expect(opened.status).toBe(201);
    expect((await post('/v1/accounts/esdb-outage/consumptions', consumption('before'))).status).toBe(201);

    fake.setUnavailable(true);
    const refused = await post('/v1/accounts/esdb-outage/consumptions', consumption('during'));
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: 'STORE_UNAVAILABLE' });
    expect(refused.headers['retry-after']).toBe('1');
    const refusedOpen = await post('/v1/accounts', { accountId: 'esdb-new', name: 'New', plan: { creditTypes: { email: { allocation: 1 } } } });
    expect(refusedOpen).toMatchObject({ status: 503, body: { error: 'STORE_UNAVAILABLE' } });
    const health = await request(app.getHttpServer()).get('/health');
    expect(health.status).toBe(503);
    expect(JSON.stringify(health.body)).toMatch(/eventStore/);

    fake.setUnavailable(false);
    // The same request again (same id), as a client told to retry would send it.
    const retried = await post('/v1/accounts/esdb-outage/consumptions', consumption('during'));
    expect(retried.status).toBe(201);
    const replayed = await post('/v1/accounts/esdb-outage/consumptions', consumption('during'));
    expect(replayed.status).toBe(200); // an idempotent replay: charged once
    const balances = await request(app.getHttpServer()).get('/v1/accounts/esdb-outage/balances').set('Authorization', `Bearer ${ADMIN_KEY}`);
    expect(balances.status).toBe(200);
  });
});
