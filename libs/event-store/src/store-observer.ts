import { WrongExpectedRevisionError } from './event-store.port';

/** One append call, answered: how long it took until durable (or refused), and how it ended. */
export interface AppendObservation {
  readonly events: number;
  readonly durationMs: number;
  readonly outcome: 'stored' | 'conflict' | 'failed';
}

/** One group commit: how many appends (and events) shared one transaction and one flush. */
export interface GroupCommitObservation {
  readonly appends: number;
  readonly events: number;
}

/**
 * What an adapter reports about its own work, for metrics. Framework-free: the application maps
 * observations to whatever it measures with (prom-client in the ledger). Every method is
 * optional and must not throw or block.
 */
export interface EventStoreObserver {
  appended?(observation: AppendObservation): void;
  groupCommitted?(observation: GroupCommitObservation): void;
}

/** Runs an append and tells the observer how it ended and how long it took. */
export function observedAppend<T>(observer: EventStoreObserver | undefined, events: number, append: () => Promise<T>): Promise<T> {
  if (!observer?.appended) return append();
  const started = performance.now();
  const report = (outcome: AppendObservation['outcome']) => observer.appended?.({ events, durationMs: performance.now() - started, outcome });
  return append().then(
    (result) => {
      report('stored');
      return result;
    },
    (error: unknown) => {
      report(error instanceof WrongExpectedRevisionError ? 'conflict' : 'failed');
      throw error;
    },
  );
}
