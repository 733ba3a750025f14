// Tools for tests and the benchmark (never imported by production code). The adapters' contract
// suite (./event-store-contract) needs jest's globals and is imported by the adapters' specs directly.
export * from '../postgres/test-databases';
