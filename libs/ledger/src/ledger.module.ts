import { DynamicModule, Inject, Module, OnApplicationShutdown, Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import { EventStore, SqliteEventStore } from '../../event-store/src';
import { ApiKeyGuard } from './auth/access';
import { ApiKeyStore } from './auth/api-key-store';
import { LedgerConfig } from './config/ledger-config';
import { EventStoreHealthIndicator } from './health/event-store.health';
import { ApiExceptionFilter } from './http/error-filter';
import { AccountRepository } from './infrastructure/account-repository';
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

export interface LedgerModuleOptions {
  readonly config: LedgerConfig;
  /** Scenario tests pass a controllable clock. */
  readonly clock?: Clock;
  /** Serve HTTP routes (the API) or only the command/query buses (benchmarks, workers). */
  readonly http?: boolean;
}

const HANDLERS = [
  OpenAccountHandler,
  ConsumeCreditsHandler,
  ConsumeCreditsBatchHandler,
  RefundCreditsHandler,
  GrantCreditsHandler,
  ResetCycleHandler,
  GetBalancesHandler,
  GetAccountEventsHandler,
];

const CONTROLLERS = [
  OpenAccountController,
  ConsumeCreditsController,
  ConsumeCreditsBatchController,
  RefundCreditsController,
  GrantCreditsController,
  ResetCycleController,
  GetBalancesController,
  GetAccountEventsController,
];

/** Closes the store (flushing queued appends) and the key store when the app stops. */
class StoreLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly keys: ApiKeyStore,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    this.keys.close();
  }
}

@Module({})
export class LedgerModule {
  static forRoot(options: LedgerModuleOptions): DynamicModule {
    const http = options.http ?? true;
    const providers: Provider[] = [
      { provide: LEDGER_CONFIG, useValue: options.config },
      { provide: LEDGER_CLOCK, useValue: options.clock ?? new SystemClock() },
      { provide: EVENT_STORE, useFactory: (config: LedgerConfig) => SqliteEventStore.open(config.dataDir), inject: [LEDGER_CONFIG] },
      { provide: ApiKeyStore, useFactory: (config: LedgerConfig) => ApiKeyStore.open(config.dataDir), inject: [LEDGER_CONFIG] },
      { provide: AccountRepository, useFactory: (store: EventStore) => new AccountRepository(store), inject: [EVENT_STORE] },
      { provide: CommandExecutor, useFactory: (repo: AccountRepository, clock: Clock) => new CommandExecutor(repo, clock), inject: [AccountRepository, LEDGER_CLOCK] },
      StoreLifecycle,
      EventStoreHealthIndicator,
      ...HANDLERS,
    ];
    if (http) {
      providers.push({ provide: APP_GUARD, useClass: ApiKeyGuard }, { provide: APP_FILTER, useClass: ApiExceptionFilter });
    }
    return {
      module: LedgerModule,
      global: true, // the read-model and messaging modules share this store, config and clock
      imports: [CqrsModule.forRoot(), TerminusModule],
      controllers: http ? CONTROLLERS : [],
      providers,
      exports: [EVENT_STORE, ApiKeyStore, CommandExecutor, LEDGER_CONFIG, LEDGER_CLOCK, EventStoreHealthIndicator],
    };
  }
}
