import { Inject, Injectable, Logger, BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomUUID } from 'node:crypto';
import { LedgerConfig } from '../config/ledger-config';
import { LEDGER_CONFIG } from '../tokens';
import { CyclesJob } from './cycles-job';
import { DueIndex } from './due-index';

export const CYCLES_INTERVAL_NAME = 'billing-cycles';
const LEASE = 'billing-cycles';

/**
 * Runs the billing job in the server every LEDGER_CYCLES_INTERVAL_SECONDS (off when unset), with
 * `@nestjs/schedule`. With several API instances, a lease row in the shared state (PostgreSQL with
 * LEDGER_STORE=postgres or eventstoredb; the SQLite file of the data dir otherwise) lets one
 * instance run at a time (renewed while it runs, taken over when it lapses);
 * and should two runs overlap anyway (a lease lapsing mid-run), the schedule-derived cycle ids and
 * the expected revision on every append make the second run's resets duplicates: nothing appended.
 */
@Injectable()
export class CyclesScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('CyclesScheduler');
  private readonly owner = randomUUID();
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(
    @Inject(LEDGER_CONFIG) private readonly config: LedgerConfig,
    private readonly registry: SchedulerRegistry,
    private readonly job: CyclesJob,
    private readonly index: DueIndex,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.cyclesIntervalSeconds;
    if (!seconds) return;
    this.registry.addInterval(
      CYCLES_INTERVAL_NAME,
      setInterval(() => void this.tick(), seconds * 1000),
    );
    this.logger.log(`billing job every ${seconds}s (lease ${LEASE}, owner ${this.owner})`);
  }

  /** One scheduled run, unless one is in progress here or another instance holds the lease. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    const leaseMs = Math.max((this.config.cyclesIntervalSeconds ?? 60) * 2_000, 60_000);
    this.running = (async () => {
      let leased = false;
      try {
        leased = await this.index.tryLease(LEASE, this.owner, leaseMs);
        if (!leased) return;
        const summary = await this.job.run({
          concurrency: this.config.cyclesConcurrency,
          actor: 'billing-scheduler',
          signal: this.abort.signal,
          onProgress: () => void this.index.tryLease(LEASE, this.owner, leaseMs).catch(() => undefined),
        });
        if (summary.due > 0) this.logger.log(`billing job: ${JSON.stringify({ ...summary, failures: summary.failures.slice(0, 10) })}`);
      } catch (e) {
        this.logger.error(`billing job failed: ${e instanceof Error ? e.stack : String(e)}`);
      } finally {
        if (leased) await this.index.releaseLease(LEASE, this.owner).catch(() => undefined);
        this.running = null;
      }
    })();
    return this.running;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}
