/** The Nest injection token of the process's EventStore. */
export const EVENT_STORE = Symbol('EVENT_STORE');
