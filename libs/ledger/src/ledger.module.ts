import { DynamicModule, Inject, Module, OnApplicationShutdown, Provider } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { EventStore } from '@credit-ledger/event-store';
import { openEventStore } from './store/open-event-store';
import { API_KEY_AUTHENTICATOR, ApiKeyAuthenticator } from '@credit-ledger/http';
import { ApiKeyStore } from './auth/api-key-store';
import { API_KEY_CACHE_TTL_MS, CachedAuthenticator } from './auth/cached-authenticator';
import { openApiKeyStore } from './auth/open-api-key-store';
import { openDueIndex } from './billing/due-index-stores';
import { createMetricsRegistry, LedgerMetrics, METRICS_REGISTRY } from './metrics/ledger-metrics';
import { openStateDatabase, STATE_DATABASE, StateDatabase } from './state/state-database';
import { Registry } from 'prom-client';
import { LedgerConfig } from './config/ledger-config';
import { AuditSigningHealthIndicator, EventStoreHealthIndicator } from './health/event-store.health';
import { AuditController } from './audit/audit.controller';
import { AuditService } from './audit/audit.service';
import { StateDatabaseHealthIndicator } from './health/state-database.health';
import { AccountRepository } from './infrastructure/account-repository';
import { AccountWarmUp } from './infrastructure/account-warm-up';
import { Clock, LEDGER_CLOCK, SystemClock } from './infrastructure/clock';
import { CommandExecutor } from './infrastructure/command-executor';
import { GetAccountEventsController } from './queries/get-account-events/get-account-events.controller';
import { GetAccountEventsHandler } from './queries/get-account-events/get-account-events.handler';
import { GetBalancesController } from './queries/get-balances/get-balances.controller';
import { GetBalancesHandler } from './queries/get-balances/get-balances.handler';
import { EVENT_STORE, LEDGER_CONFIG } from './tokens';
import { ConsumeCreditsBatchController } from './use-cases/consume-credits-batch/consume-credits-batch.controller';
import { ConsumeCreditsBatchHandler } from './use-cases/consume-credits-batch/consume-credits-batch.handler';
import { ConsumeCreditsController } from './use-cases/consume-credits/consume-credits.controller';
import { ConsumeCreditsHandler } from './use-cases/consume-credits/consume-credits.handler';
import { GrantCreditsController } from './use-cases/grant-credits/grant-credits.controller';
import { GrantCreditsHandler } from './use-cases/grant-credits/grant-credits.handler';
import { OpenAccountController } from './use-cases/open-account/open-account.controller';
import { OpenAccountHandler } from './use-cases/open-account/open-account.handler';
import { RefundCreditsController } from './use-cases/refund-credits/refund-credits.controller';
import { RefundCreditsHandler } from './use-cases/refund-credits/refund-credits.handler';
import { ResetCycleController } from './use-cases/reset-cycle/reset-cycle.controller';
import { ResetCycleHandler } from './use-cases/reset-cycle/reset-cycle.handler';
import { CyclesJob } from './billing/cycles-job';
import { CyclesScheduler } from './billing/cycles-scheduler';
import { DueIndex } from './billing/due-index';
import { GetAlertsController } from './queries/get-alerts/get-alerts.controller';
import { GetAlertsHandler } from './queries/get-alerts/get-alerts.handler';
import { GetCyclesController } from './queries/get-cycles/get-cycles.controller';
import { GetCyclesHandler } from './queries/get-cycles/get-cycles.handler';
import { ChangePlanController } from './use-cases/change-plan/change-plan.controller';
import { ChangePlanHandler } from './use-cases/change-plan/change-plan.handler';
import { ChangeScheduleController } from './use-cases/change-schedule/change-schedule.controller';
import { ChangeScheduleHandler } from './use-cases/change-schedule/change-schedule.handler';
import { RunScheduledResetsHandler } from './use-cases/run-scheduled-resets/run-scheduled-resets.handler';
import { SetThresholdsController } from './use-cases/set-thresholds/set-thresholds.controller';
import { SetThresholdsHandler } from './use-cases/set-thresholds/set-thresholds.handler';
import { CheckSpendController } from './use-cases/check-spend/check-spend.controller';
import { CheckSpendHandler } from './use-cases/check-spend/check-spend.handler';
import { SpendChecker } from './use-cases/check-spend/spend-checker';
import { SetMemberLimitsController } from './use-cases/set-member-limits/set-member-limits.controller';
import { SetMemberLimitsHandler } from './use-cases/set-member-limits/set-member-limits.handler';
import { GetMembersController } from './queries/get-members/get-members.controller';
import { GetMemberHandler, GetMembersHandler } from './queries/get-members/get-members.handler';
import { GetRatesController } from './queries/get-rates/get-rates.controller';
import { ReserveCreditsController } from './use-cases/reserve-credits/reserve-credits.controller';
import { ReserveCreditsHandler } from './use-cases/reserve-credits/reserve-credits.handler';
import { CaptureReservationController } from './use-cases/capture-reservation/capture-reservation.controller';
import { CaptureReservationHandler } from './use-cases/capture-reservation/capture-reservation.handler';
import { ReleaseReservationController } from './use-cases/release-reservation/release-reservation.controller';
import { ReleaseReservationHandler } from './use-cases/release-reservation/release-reservation.handler';
import { GetReservationsController } from './queries/get-reservations/get-reservations.controller';
import { GetReservationHandler, GetReservationsHandler } from './queries/get-reservations/get-reservations.handler';
import { GetRatesHandler } from './queries/get-rates/get-rates.handler';
import { GetAccountController } from './queries/get-account/get-account.controller';
import { GetAccountHandler } from './queries/get-account/get-account.handler';
import { GetMeController } from './queries/get-me/get-me.controller';
import { ManageKeysController } from './use-cases/manage-keys/manage-keys.controller';

export interface LedgerModuleOptions {
  readonly config: LedgerConfig;
  /** Scenario tests pass a controllable clock. */
  readonly clock?: Clock;
  /** Serve HTTP routes (the API) or only the command/query buses (benchmarks, workers). */
  readonly http?: boolean;
  /** Run the billing job on LEDGER_CYCLES_INTERVAL_SECONDS (when configured); default: with http. */
  readonly scheduler?: boolean;
  /** An event store opened by the caller (tests: a store over a fake client) instead of the configured one; the app closes it. */
  readonly eventStore?: EventStore;
  /** The process's Prometheus registry (the API shares it with the HTTP layer); default: a new one with the process metrics. */
  readonly metricsRegistry?: Registry;
}

const HANDLERS = [
  OpenAccountHandler,
  ConsumeCreditsHandler,
  ConsumeCreditsBatchHandler,
  RefundCreditsHandler,
  GrantCreditsHandler,
  ResetCycleHandler,
  RunScheduledResetsHandler,
  ChangePlanHandler,
  ChangeScheduleHandler,
  SetThresholdsHandler,
  GetCyclesHandler,
  GetAlertsHandler,
  GetBalancesHandler,
  GetAccountEventsHandler,
  SetMemberLimitsHandler,
  GetMembersHandler,
  GetMemberHandler,
  GetRatesHandler,
  CheckSpendHandler,
  GetAccountHandler,
  ReserveCreditsHandler,
  CaptureReservationHandler,
  ReleaseReservationHandler,
  GetReservationsHandler,
  GetReservationHandler,
];

const CONTROLLERS = [
  OpenAccountController,
  ReserveCreditsController,
  CaptureReservationController,
  ReleaseReservationController,
  GetReservationsController,
  ConsumeCreditsController,
  ConsumeCreditsBatchController,
  RefundCreditsController,
  GrantCreditsController,
  ResetCycleController,
  ChangePlanController,
  ChangeScheduleController,
  SetThresholdsController,
  GetCyclesController,
  GetAlertsController,
  GetBalancesController,
  GetAccountEventsController,
  AuditController,
  SetMemberLimitsController,
  GetMembersController,
  GetRatesController,
  CheckSpendController,
  GetMeController,
  GetAccountController,
  ManageKeysController,
];

/** Closes the store (flushing queued appends), then the key store, the due index and the shared-state database when the app stops. */
class StoreLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly keys: ApiKeyStore,
    private readonly dueIndex: DueIndex,
    @Inject(STATE_DATABASE) private readonly state: StateDatabase,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    await this.keys.close();
    await this.dueIndex.close();
    await this.state.close();
  }
}

@Module({})
export class LedgerModule {
  static forRoot(options: LedgerModuleOptions): DynamicModule {
    const http = options.http ?? true;
    const providers: Provider[] = [
      { provide: LEDGER_CONFIG, useValue: options.config },
      { provide: LEDGER_CLOCK, useValue: options.clock ?? new SystemClock() },
      { provide: METRICS_REGISTRY, useFactory: () => options.metricsRegistry ?? createMetricsRegistry() },
      {
        provide: LedgerMetrics,
        useFactory: (registry: Registry, config: LedgerConfig) => new LedgerMetrics(registry, config.store),
        inject: [METRICS_REGISTRY, LEDGER_CONFIG],
      },
      {
        provide: EVENT_STORE,
        useFactory: async (config: LedgerConfig, metrics: LedgerMetrics) => {
          const store = options.eventStore ?? (await openEventStore(config));
          store.observe?.(metrics.storeObserver());
          return store;
        },
        inject: [LEDGER_CONFIG, LedgerMetrics],
      },
      // Keys, the billing index and lease (and other components' state): PostgreSQL unless LEDGER_STORE=sqlite.
      { provide: STATE_DATABASE, useFactory: (config: LedgerConfig) => openStateDatabase(config), inject: [LEDGER_CONFIG] },
      { provide: ApiKeyStore, useFactory: (state: StateDatabase) => openApiKeyStore(state), inject: [STATE_DATABASE] },
      {
        provide: API_KEY_AUTHENTICATOR,
        // Accepted keys are trusted for API_KEY_CACHE_TTL_MS (a revocation elsewhere is seen within it).
        useFactory: (keys: ApiKeyStore, config: LedgerConfig): ApiKeyAuthenticator => new CachedAuthenticator(keys, config.adminKey, API_KEY_CACHE_TTL_MS),
        inject: [ApiKeyStore, LEDGER_CONFIG],
      },
      { provide: AccountRepository, useFactory: (store: EventStore) => new AccountRepository(store), inject: [EVENT_STORE] },
      {
        provide: CommandExecutor,
        useFactory: (repo: AccountRepository, clock: Clock, metrics: LedgerMetrics) => new CommandExecutor(repo, clock, metrics),
        inject: [AccountRepository, LEDGER_CLOCK, LedgerMetrics],
      },
      {
        provide: SpendChecker,
        useFactory: (repo: AccountRepository, executor: CommandExecutor, clock: Clock) => new SpendChecker(repo, executor, clock),
        inject: [AccountRepository, CommandExecutor, LEDGER_CLOCK],
      },
      { provide: DueIndex, useFactory: (state: StateDatabase) => openDueIndex(state), inject: [STATE_DATABASE] },
      CyclesJob,
      StoreLifecycle,
      EventStoreHealthIndicator,
      AuditService,
      AuditSigningHealthIndicator,
      StateDatabaseHealthIndicator,
      ...HANDLERS,
    ];
    if (options.scheduler ?? http) providers.push(CyclesScheduler);
    if (http) providers.push(AccountWarmUp);
    return {
      module: LedgerModule,
      global: true, // the read-model and messaging modules share this store, config and clock
      imports: [CqrsModule.forRoot(), TerminusModule, ScheduleModule.forRoot()],
      controllers: http ? CONTROLLERS : [],
      providers,
      exports: [
        EVENT_STORE,
        STATE_DATABASE,
        METRICS_REGISTRY,
        LedgerMetrics,
        ApiKeyStore,
        API_KEY_AUTHENTICATOR,
        CommandExecutor,
        LEDGER_CONFIG,
        LEDGER_CLOCK,
        EventStoreHealthIndicator,
        AuditService,
        AuditSigningHealthIndicator,
        StateDatabaseHealthIndicator,
        CyclesJob,
        DueIndex,
      ],
    };
  }
}
