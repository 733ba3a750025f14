import { ConfigError, loadConfig } from './ledger-config';

describe('loadConfig', () => {
  it('applies the defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      dataDir: expect.stringMatching(/\/data$/),
      store: 'sqlite',
      adminKey: undefined,
      logLevel: 'info',
      projections: 'inline',
      projectionsThread: true,
      migrateOnStart: true,
      shutdownGraceSeconds: 5,
      // Without LEDGER_AUDIT_SIGNING_KEY the chains are kept but no head is signed.
      audit: { keyId: undefined, signingKey: undefined, keys: [] },
    });
  });

  it('reads every variable', () => {
    expect(loadConfig({ PORT: '8080', LEDGER_DATA_DIR: '/tmp/x', LEDGER_STORE: 'sqlite', LEDGER_ADMIN_KEY: 'k'.repeat(32), LOG_LEVEL: 'warn' })).toEqual({
      port: 8080,
      dataDir: '/tmp/x',
      store: 'sqlite',
      adminKey: 'k'.repeat(32),
      logLevel: 'warn',
      projections: 'inline',
      projectionsThread: true,
      migrateOnStart: true,
      shutdownGraceSeconds: 5,
      // Without LEDGER_AUDIT_SIGNING_KEY the chains are kept but no head is signed.
      audit: { keyId: undefined, signingKey: undefined, keys: [] },
    });
  });

  it('reports every bad value at once, naming the variable', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'http', LEDGER_STORE: 'mysql', LEDGER_ADMIN_KEY: 'short', LOG_LEVEL: 'loud', LEDGER_DATA_DIR: ' ', LEDGER_PROJECTIONS: 'sometimes' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'LEDGER_STORE', 'LEDGER_ADMIN_KEY', 'LOG_LEVEL', 'LEDGER_DATA_DIR', 'LEDGER_PROJECTIONS']) expect(problems).toContain(name);
  });

  it('needs the connection settings of the production stores, and checks their shape', () => {
    expect(() => loadConfig({ LEDGER_STORE: 'postgres' })).toThrow(/LEDGER_STORE=postgres needs DATABASE_URL/);
    expect(() => loadConfig({ LEDGER_STORE: 'postgres', DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL must be a postgres/);
    expect(loadConfig({ LEDGER_STORE: 'postgres', DATABASE_URL: 'postgresql://u@h:5432/db' })).toMatchObject({
      store: 'postgres',
      databaseUrl: 'postgresql://u@h:5432/db',
      migrateOnStart: true,
    });
    expect(() => loadConfig({ LEDGER_STORE: 'eventstoredb' })).toThrow(/LEDGER_STORE=eventstoredb needs EVENTSTORE_CONNECTION_STRING/);
    expect(() => loadConfig({ LEDGER_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: 'http://x' })).toThrow(/esdb:\/\//);
    // EventStoreDB holds no tables: the read models and the shared state need a PostgreSQL database.
    expect(() => loadConfig({ LEDGER_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false' })).toThrow(
      /LEDGER_STORE=eventstoredb needs DATABASE_URL/,
    );
    expect(
      loadConfig({ LEDGER_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false', DATABASE_URL: 'postgresql://u@h:5432/db' }),
    ).toMatchObject({ store: 'eventstoredb', databaseUrl: 'postgresql://u@h:5432/db' });
    expect(loadConfig({}).shutdownGraceSeconds).toBe(5);
    expect(loadConfig({ LEDGER_SHUTDOWN_GRACE_SECONDS: '0' }).shutdownGraceSeconds).toBe(0);
    expect(() => loadConfig({ LEDGER_SHUTDOWN_GRACE_SECONDS: '-1' })).toThrow(/LEDGER_SHUTDOWN_GRACE_SECONDS/);
    expect(() => loadConfig({ LEDGER_SHUTDOWN_GRACE_SECONDS: '301' })).toThrow(/LEDGER_SHUTDOWN_GRACE_SECONDS/);
    expect(loadConfig({ LEDGER_MIGRATE_ON_START: 'false' }).migrateOnStart).toBe(false);
    expect(() => loadConfig({ LEDGER_MIGRATE_ON_START: 'maybe' })).toThrow(/LEDGER_MIGRATE_ON_START/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
  });

  it('LEDGER_PROJECTIONS_THREAD: true by default, false only when said, anything else refused', () => {
    expect(loadConfig({ LEDGER_PROJECTIONS_THREAD: 'true' }).projectionsThread).toBe(true);
    expect(loadConfig({ LEDGER_PROJECTIONS_THREAD: 'false' }).projectionsThread).toBe(false);
    expect(() => loadConfig({ LEDGER_PROJECTIONS_THREAD: 'no' })).toThrow(/LEDGER_PROJECTIONS_THREAD must be true or false/);
  });

  it('LEDGER_RATE_LIMIT_PER_KEY_PER_MINUTE: off by default and at 0, a positive integer otherwise', () => {
    expect(loadConfig({}).rateLimitPerKeyPerMinute).toBeUndefined();
    expect(loadConfig({ LEDGER_RATE_LIMIT_PER_KEY_PER_MINUTE: '0' }).rateLimitPerKeyPerMinute).toBeUndefined();
    expect(loadConfig({ LEDGER_RATE_LIMIT_PER_KEY_PER_MINUTE: '600' }).rateLimitPerKeyPerMinute).toBe(600);
    expect(() => loadConfig({ LEDGER_RATE_LIMIT_PER_KEY_PER_MINUTE: '-1' })).toThrow(/LEDGER_RATE_LIMIT_PER_KEY_PER_MINUTE/);
    expect(() => loadConfig({ LEDGER_RATE_LIMIT_PER_KEY_PER_MINUTE: '1.5' })).toThrow(/LEDGER_RATE_LIMIT_PER_KEY_PER_MINUTE/);
  });
});
