import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { DomainError, internalCaller } from '@credit-ledger/domain';
import { EventStore } from '@credit-ledger/event-store';
import { Clock, LEDGER_CLOCK } from '../infrastructure/clock';
import { EVENT_STORE } from '../tokens';
import { RunScheduledResetsCommand } from '../use-cases/run-scheduled-resets/run-scheduled-resets.command';
import { ScheduledResetsOutcome } from '../use-cases/run-scheduled-resets/run-scheduled-resets.handler';
import { LedgerMetrics } from '../metrics/ledger-metrics';
import { DueIndex } from './due-index';

export const DEFAULT_CYCLES_CONCURRENCY = 32;
export const MAX_CYCLES_CONCURRENCY = 256;
/** Failures listed in a summary (all are counted). */
export const MAX_LISTED_FAILURES = 100;
const PROGRESS_EVERY_MS = 1_000;

export interface CyclesRunOptions {
  /** Reset cycles that ended at or before this instant (default: now; never later than now). */
  readonly upTo?: Date;
  readonly dryRun?: boolean;
  /** Only this account (the due index is not consulted). */
  readonly accountId?: string;
  readonly concurrency?: number;
  readonly actor?: string;
  readonly onProgress?: (p: CyclesProgress) => void;
  /** Stops taking new accounts (the ones in flight finish). */
  readonly signal?: AbortSignal;
}

export interface CyclesProgress {
  readonly done: number;
  readonly total: number;
  readonly reset: number;
  readonly failed: number;
  readonly perSecond: number;
}

export interface CyclesRunSummary {
  readonly upTo: string;
  readonly dryRun: boolean;
  /** Accounts the due index (or --account) named. */
  readonly due: number;
  /** Accounts with at least one cycle reset by this run (or, dry run, that would be). */
  readonly reset: number;
  /** Cycles reset in all (catch-ups count each cycle). */
  readonly cyclesReset: number;
  /** Reservations past their expiry that this run wrote ReservationExpired for (the sweeper). */
  readonly reservationsExpired: number;
  /** Accounts with nothing to do after all (another runner, or a movement, closed the cycle first). */
  readonly skipped: number;
  readonly failed: number;
  readonly failures: readonly { readonly accountId: string; readonly error: string; readonly message: string }[];
  readonly seconds: number;
  readonly aborted: boolean;
}

/**
 * The billing job: every account whose cycle ended at or before `upTo` gets its scheduled resets,
 * in order (catch-up), and its reservations past their expiry end as expired (the sweeper), through the command bus, `concurrency` accounts at a time. One account's
 * failure is counted and reported, never stops the others. Safe to run twice, concurrently, or
 * again after a crash: a reset's cycleId is derived from the schedule, so an account already reset
 * decides "duplicate" and nothing is appended (see RunScheduledResetsHandler).
 */
@Injectable()
export class CyclesJob {
  private readonly logger = new Logger('CyclesJob');

  constructor(
    private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
    private readonly index: DueIndex,
    private readonly metrics: LedgerMetrics,
  ) {}

  /** One run, counted in ledger_billing_runs_total and ledger_billing_cycle_resets_total (dry runs are not). */
  async run(options: CyclesRunOptions = {}): Promise<CyclesRunSummary> {
    try {
      const summary = await this.runOnce(options);
      if (!summary.dryRun) this.metrics.billingRun(summary.aborted ? 'aborted' : 'completed', summary.cyclesReset);
      return summary;
    } catch (error) {
      if (!options.dryRun) this.metrics.billingRun('failed', 0);
      throw error;
    }
  }

  private async runOnce(options: CyclesRunOptions): Promise<CyclesRunSummary> {
    const started = Date.now();
    const now = this.clock.now();
    const upTo = (options.upTo && options.upTo < now ? options.upTo : now).toISOString();
    const dryRun = options.dryRun ?? false;
    const concurrency = Math.min(Math.max(options.concurrency ?? DEFAULT_CYCLES_CONCURRENCY, 1), MAX_CYCLES_CONCURRENCY);
    const caller = internalCaller(options.actor ?? 'billing-job', `cycles-run:${upTo}`);

    let accounts: string[];
    if (options.accountId !== undefined) accounts = [options.accountId];
    else {
      await this.index.catchUp(this.store);
      accounts = await this.index.due(upTo);
    }

    let next = 0;
    let done = 0;
    let reset = 0;
    let cyclesReset = 0;
    let reservationsExpired = 0;
    let skipped = 0;
    let failed = 0;
    const failures: { accountId: string; error: string; message: string }[] = [];
    const updates: [string, string][] = [];
    let lastProgress = Date.now();
    const progress = () => {
      const seconds = (Date.now() - started) / 1000;
      options.onProgress?.({ done, total: accounts.length, reset, failed, perSecond: seconds > 0 ? done / seconds : 0 });
    };

    const one = async (accountId: string) => {
      const cycles: string[] = [];
      let outcome: ScheduledResetsOutcome;
      do {
        outcome = await this.commands.execute(new RunScheduledResetsCommand(accountId, upTo, dryRun, caller));
        cycles.push(...outcome.cycles);
        reservationsExpired += outcome.reservationsExpired;
      } while (outcome.more);
      if (!dryRun) updates.push([accountId, outcome.cycleEndsAt]);
      return cycles.length;
    };

    await Promise.all(
      Array.from({ length: Math.min(concurrency, accounts.length) }, async () => {
        for (;;) {
          if (options.signal?.aborted) return;
          const i = next++;
          if (i >= accounts.length) return;
          const accountId = accounts[i];
          try {
            const n = await one(accountId);
            if (n > 0) {
              reset++;
              cyclesReset += n;
            } else skipped++;
          } catch (e) {
            failed++;
            const error = e instanceof DomainError ? e.code : e instanceof Error ? e.name : 'Error';
            const message = e instanceof Error ? e.message : String(e);
            if (!(e instanceof DomainError)) this.logger.error(`account ${accountId}: ${e instanceof Error ? e.stack : message}`);
            if (failures.length < MAX_LISTED_FAILURES) failures.push({ accountId, error, message });
          }
          done++;
          if (updates.length >= 1_000) await this.index.updateMany(updates.splice(0));
          if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
            lastProgress = Date.now();
            progress();
          }
        }
      }),
    );
    if (updates.length) await this.index.updateMany(updates.splice(0));
    progress();
    return {
      upTo,
      dryRun,
      due: accounts.length,
      reset,
      cyclesReset,
      reservationsExpired,
      skipped,
      failed,
      failures,
      seconds: (Date.now() - started) / 1000,
      aborted: options.signal?.aborted ?? false,
    };
  }
}
