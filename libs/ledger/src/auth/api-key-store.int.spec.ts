import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { API_KEY_CACHE_TTL_MS, ApiKeyStore } from './api-key-store';

describe('ApiKeyStore: accepted keys cached with a bounded TTL', () => {
  let dataDir: string;
  let now: number;
  let server: ApiKeyStore;
  let cli: ApiKeyStore;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'api-keys-'));
    now = 1_000_000;
    // Two connections to one file: the server's store and, as another process would be, the CLI's.
    server = new ApiKeyStore(new Database(join(dataDir, 'keys.sqlite')), () => now);
    cli = new ApiKeyStore(new Database(join(dataDir, 'keys.sqlite')));
  });
  afterEach(() => {
    server.close();
    cli.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a key revoked by another process is refused once the TTL has passed, not before', () => {
    const { key, record } = cli.create({ accountId: 'acme', role: 'service' });
    expect(server.authenticate(key, undefined)).toMatchObject({ kind: 'key', keyId: record.keyId });
    expect(cli.revoke(record.keyId)).toBe(true);
    now += API_KEY_CACHE_TTL_MS - 1;
    expect(server.authenticate(key, undefined)).toMatchObject({ keyId: record.keyId }); // within the documented bound
    now += 1;
    expect(server.authenticate(key, undefined)).toBeUndefined();
  });

  it('a key revoked through the same store is refused at once', () => {
    const { key, record } = server.create({ accountId: 'acme', role: 'service' });
    expect(server.authenticate(key, undefined)).toMatchObject({ keyId: record.keyId });
    server.revoke(record.keyId);
    expect(server.authenticate(key, undefined)).toBeUndefined();
  });

  it('an unknown key is refused, a known one accepted', () => {
    const { key } = cli.create({ accountId: 'acme', role: 'service' });
    const other = `${key.slice(0, -4)}AAAA`;
    expect(server.authenticate(other, undefined)).toBeUndefined();
    expect(server.authenticate(key, undefined)).toMatchObject({ kind: 'key' });
  });
});
