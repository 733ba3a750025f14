export * from './event-store.port';
export * from './catch-up-subscription';
export * from './retry';
export * from './sqlite/sqlite-event-store';
export * from './postgres';
export * from './copy';
