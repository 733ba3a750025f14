import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AppendObservation, EventStoreObserver, GroupCommitObservation } from '@credit-ledger/event-store';
import { CommandObserver, CommandOutcome } from '../infrastructure/command-observer';

/** The process's Prometheus registry (served at /metrics by the API, at LEDGER_WORKER_METRICS_PORT by the worker). */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** Append latency buckets (seconds): a group commit's fsync is ~1-10 ms on a disk, more when busy. */
export const APPEND_DURATION_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Group-commit size buckets (appends per transaction). */
export const GROUP_COMMIT_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** A registry with the process metrics (CPU, memory, event loop lag, GC, handles) of prom-client. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * The command path and the store, measured: commands by type and outcome, expected-revision
 * conflicts and retries, append latency and group-commit size per store, billing runs and
 * resets. Fed by the command executor (CommandObserver), the event store adapter
 * (EventStoreObserver, the port's framework-free hook) and the billing job.
 */
export class LedgerMetrics implements CommandObserver {
  private readonly commands: Counter<'type' | 'outcome' | 'code'>;
  private readonly conflicts: Counter;
  private readonly retries: Counter;
  private readonly exhausted: Counter;
  private readonly appendDuration: Histogram<'store' | 'outcome'>;
  private readonly appendedEvents: Counter<'store'>;
  private readonly groupSize: Histogram<'store'>;
  private readonly billingRuns: Counter<'outcome'>;
  private readonly billingResets: Counter;
  private readonly warmUp: Gauge;
  private readonly warmUpEvents: Counter;
  private readonly warmUpAccounts: Counter;

  constructor(
    readonly registry: Registry,
    private readonly store: string,
  ) {
    const registers = [registry];
    this.commands = new Counter({
      name: 'ledger_commands_total',
      help: 'Commands decided, by type and outcome (accepted, duplicate: an idempotent retry, refused: with its code); a batch counts each item',
      labelNames: ['type', 'outcome', 'code'],
      registers,
    });
    this.conflicts = new Counter({
      name: 'ledger_command_conflicts_total',
      help: 'Appends refused because another writer moved the stream first (expected-revision conflicts)',
      registers,
    });
    this.retries = new Counter({ name: 'ledger_command_retries_total', help: 'Commands decided again after an expected-revision conflict', registers });
    this.exhausted = new Counter({
      name: 'ledger_command_retries_exhausted_total',
      help: 'Commands answered 503 CONCURRENCY_RETRY_EXHAUSTED after too many conflicts',
      registers,
    });
    this.appendDuration = new Histogram({
      name: 'ledger_event_store_append_duration_seconds',
      help: 'Time from an append call to its durable answer (queueing for the group commit included), by store and outcome',
      labelNames: ['store', 'outcome'],
      buckets: APPEND_DURATION_BUCKETS_SECONDS,
      registers,
    });
    this.appendedEvents = new Counter({ name: 'ledger_event_store_appended_events_total', help: 'Events stored', labelNames: ['store'], registers });
    this.groupSize = new Histogram({
      name: 'ledger_event_store_group_commit_appends',
      help: 'Appends committed together in one transaction and one flush (group commit), by store',
      labelNames: ['store'],
      buckets: GROUP_COMMIT_SIZE_BUCKETS,
      registers,
    });
    this.billingRuns = new Counter({
      name: 'ledger_billing_runs_total',
      help: 'Billing job runs, by outcome (completed, aborted, failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.billingResets = new Counter({
      name: 'ledger_billing_cycle_resets_total',
      help: 'Cycles reset by the billing job (catch-ups count each cycle)',
      registers,
    });
    this.warmUp = new Gauge({
      name: 'ledger_account_warm_up_running',
      help: '1 while the warm-up after a start folds large accounts into the cache',
      registers,
    });
    this.warmUpAccounts = new Counter({ name: 'ledger_account_warm_up_accounts_total', help: 'Accounts folded into the cache by the warm-up', registers });
    this.warmUpEvents = new Counter({ name: 'ledger_account_warm_up_events_total', help: 'Events folded by the warm-up', registers });
  }

  warmUpRunning(running: boolean): void {
    this.warmUp.set(running ? 1 : 0);
  }

  warmUpFolded(events: number): void {
    this.warmUpAccounts.inc();
    this.warmUpEvents.inc(events);
  }

  /** The observer an event store adapter reports to (see EventStore.observe). */
  storeObserver(): EventStoreObserver {
    return {
      appended: (observation: AppendObservation) => {
        this.appendDuration.observe({ store: this.store, outcome: observation.outcome }, observation.durationMs / 1000);
        if (observation.outcome === 'stored') this.appendedEvents.inc({ store: this.store }, observation.events);
      },
      groupCommitted: (observation: GroupCommitObservation) => this.groupSize.observe({ store: this.store }, observation.appends),
    };
  }

  decided(outcomes: readonly CommandOutcome[]): void {
    for (const outcome of outcomes) this.commands.inc({ type: outcome.type, outcome: outcome.outcome, code: outcome.code ?? '' });
  }

  conflicted(): void {
    this.conflicts.inc();
  }

  retried(): void {
    this.retries.inc();
  }

  retriesExhausted(): void {
    this.exhausted.inc();
  }

  billingRun(outcome: 'completed' | 'aborted' | 'failed', cyclesReset: number): void {
    this.billingRuns.inc({ outcome });
    if (cyclesReset > 0) this.billingResets.inc(cyclesReset);
  }
}
