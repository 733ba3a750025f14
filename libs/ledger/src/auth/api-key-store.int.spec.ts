import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStateDatabase } from '../state/state-database';
import { API_KEY_CACHE_TTL_MS, CachedAuthenticator } from './cached-authenticator';
import { SqliteApiKeyStore } from './sqlite-api-key-store';

describe('API keys: accepted keys cached with a bounded TTL', () => {
  let dataDir: string;
  let now: number;
  let serverState: SqliteStateDatabase;
  let cliState: SqliteStateDatabase;
  let serverKeys: SqliteApiKeyStore;
  let server: CachedAuthenticator;
  let cli: SqliteApiKeyStore;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'api-keys-'));
    now = 1_000_000;
    // Two connections to one file: the server's store and, as another process would be, the CLI's.
    serverState = SqliteStateDatabase.open(dataDir);
    cliState = SqliteStateDatabase.open(dataDir);
    serverKeys = await SqliteApiKeyStore.open(serverState);
    server = new CachedAuthenticator(serverKeys, undefined, API_KEY_CACHE_TTL_MS, () => now);
    cli = await SqliteApiKeyStore.open(cliState);
  });
  afterEach(async () => {
    await serverState.close();
    await cliState.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a key revoked by another process is refused once the TTL has passed, not before', async () => {
    const { key, record } = await cli.create({ accountId: 'acme', role: 'service' });
    expect(await server.authenticate(key)).toMatchObject({ kind: 'key', keyId: record.keyId });
    expect(await cli.revoke(record.keyId)).toBe(true);
    now += API_KEY_CACHE_TTL_MS - 1;
    expect(await server.authenticate(key)).toMatchObject({ keyId: record.keyId }); // within the documented bound
    now += 1;
    expect(await server.authenticate(key)).toBeUndefined();
  });

  it('a key revoked through the same store is refused at once', async () => {
    const { key, record } = await serverKeys.create({ accountId: 'acme', role: 'service' });
    expect(await server.authenticate(key)).toMatchObject({ keyId: record.keyId });
    await serverKeys.revoke(record.keyId);
    expect(await server.authenticate(key)).toBeUndefined();
  });

  it('an unknown key is refused (and not remembered), a known one accepted', async () => {
    const { key } = await cli.create({ accountId: 'acme', role: 'service' });
    const other = `${key.slice(0, -4)}AAAA`;
    expect(await server.authenticate(other)).toBeUndefined();
    expect(await server.authenticate(key)).toMatchObject({ kind: 'key' });
  });
});
