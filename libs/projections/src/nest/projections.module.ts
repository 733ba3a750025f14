import { Controller, DynamicModule, Get, Header, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Gauge, Registry } from 'prom-client';
import { LedgerConfig, METRICS_REGISTRY } from '@credit-ledger/ledger';
import { Public } from '@credit-ledger/http';
import { GetHistoryHandler, HistoryController } from '../history/history.controller';
import { openReadModelStore } from '../open-read-model-store';
import { GetFiltersHandler, GetUsageHandler, GetUsageSeriesHandler, UsageController } from '../usage/usage.controller';
import { ProjectionService, READ_MODEL_STORE } from './projection.service';
import { HistoryQueries } from '../history/history.query';
import { UsageQueries } from '../usage/usage.query';
import { AccountsController } from '../accounts/accounts.controller';
import { AccountQueries } from '../accounts/accounts.query';
import { VerifyAccountController } from '../verify/verify-account.controller';

/** Health of the read models: down when a projection stopped on an event; lag always reported. */
@Injectable()
export class ProjectionsHealthIndicator {
  constructor(
    private readonly projections: ProjectionService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check() {
    const indicator = this.indicators.check('projections');
    try {
      const { states, position, lag } = await this.projections.health();
      const failed = states.filter((s) => s.status === 'failed');
      const details = { position, lag };
      if (failed.length > 0) return indicator.down({ ...details, errors: failed.map((f) => `${f.name}: ${f.error}`) });
      const notFollowing = this.projections.followingFailure();
      return notFollowing === undefined ? indicator.up(details) : indicator.down({ ...details, errors: [`not following the log: ${notFollowing}`] });
    } catch (e) {
      // The read models' database (or the log, for the lag) cannot be asked: down, not a 500.
      return indicator.down({ message: e instanceof Error ? e.message : String(e) });
    }
  }
}

/**
 * Prometheus metrics of the process: HTTP requests (libs/http), commands and the store (the
 * ledger), billing, projection lag and checkpoints (here), and the process itself, all on the
 * one registry of the app.
 */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(
    projections: ProjectionService,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {
    new Gauge({
      name: 'ledger_projection_lag_events',
      help: 'Events in the global log not yet applied to the read models (head position - lowest checkpoint)',
      registers: [this.registry],
      async collect() {
        // Unknown while a database cannot be asked: no sample rather than a stale one or a failed scrape.
        const lag = await projections.lag().catch(() => undefined);
        if (lag === undefined) this.reset();
        else this.set(lag);
      },
    });
    new Gauge({
      name: 'ledger_projection_checkpoint',
      help: 'Global position each read model has applied',
      labelNames: ['projection', 'version', 'status'],
      registers: [this.registry],
      async collect() {
        const states = await projections.states().catch(() => []);
        this.reset();
        for (const s of states) this.set({ projection: s.name, version: String(s.version), status: s.status }, s.checkpoint);
      },
    });
  }

  @Get()
  @Public()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format 0.0.4); no authentication: expose it to the scraper only',
    description: 'Metric names and labels: docs/operations.md, "Metrics".',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Every metric of the process in the Prometheus text format',
    content: {
      'text/plain': {
        schema: {
          type: 'string',
          example:
            '# HELP ledger_http_requests_total …\nledger_http_requests_total{method="POST",route="/v1/accounts/:accountId/consumptions",status="201"} 12\n',
        },
      },
    },
  })
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Stops the history threads (JSON pages and the CSV export, each started at its first page) when the server shuts down. */
@Injectable()
export class HistoryThreadsShutdown implements OnApplicationShutdown {
  constructor(private readonly history: HistoryQueries) {}

  async onApplicationShutdown(): Promise<void> {
    await this.history.close();
  }
}

@Module({})
export class ProjectionsModule {
  static forRoot(config: LedgerConfig): DynamicModule {
    return {
      module: ProjectionsModule,
      imports: [TerminusModule], // the buses come from LedgerModule's CqrsModule.forRoot() (global)
      controllers: [HistoryController, UsageController, MetricsController, AccountsController, VerifyAccountController],
      providers: [
        // SQLite next to the embedded store, or the PostgreSQL database of the event store (LEDGER_STORE).
        { provide: READ_MODEL_STORE, useFactory: () => openReadModelStore(config, { purpose: 'credit-ledger-read-models', serving: true }) },
        ProjectionService,
        // One instance each: the query classes are stateless over the read-model store.
        { provide: HistoryQueries, useFactory: (p: ProjectionService) => new HistoryQueries(p.readModels), inject: [ProjectionService] },
        { provide: UsageQueries, useFactory: (p: ProjectionService) => new UsageQueries(p.readModels), inject: [ProjectionService] },
        { provide: AccountQueries, useFactory: (p: ProjectionService) => new AccountQueries(p.readModels), inject: [ProjectionService] },
        HistoryThreadsShutdown,
        ProjectionsHealthIndicator,
        GetHistoryHandler,
        GetUsageHandler,
        GetUsageSeriesHandler,
        GetFiltersHandler,
      ],
      exports: [ProjectionService, ProjectionsHealthIndicator],
    };
  }
}
