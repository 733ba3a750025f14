/**
 * Test-only helpers: a throwaway PostgreSQL cluster and fresh test databases on it. Tests,
 * benchmarks and test/support import this entry; production code never does. (The contract suite
 * and the fake EventStoreDB client need jest or stand in for a server: specs import them directly.)
 */
export * from './throwaway-postgres-cluster';
export * from './free-port';
export * from './test-databases';
export * from '../eventstoredb/testing/fake-eventstoredb-client';
export * from './fixtures';
export * from './chain-tampering';
