export * from './eventstoredb-event-store';
export * from './eventstoredb-errors';
export * from './eventstoredb-positions';
export * from './eventstoredb-subscription';
