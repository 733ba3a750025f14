export * from './event-store.port';
export * from './errors';
export * from './tokens';
export * from './catch-up-subscription';
export * from './retry';
export * from './sqlite/sqlite-event-store';
export * from './postgres';
export * from './copy';
