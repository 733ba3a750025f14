export const LEDGER_CONFIG = Symbol('LEDGER_CONFIG');
export { EVENT_STORE } from '@credit-ledger/event-store';
