export * from './event-hash';
export * from './verify-chain';
