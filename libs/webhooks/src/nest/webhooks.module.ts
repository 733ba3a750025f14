import { BeforeApplicationShutdown, DynamicModule, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import pino from 'pino';
import { EventStore, SqliteEventStore } from '@credit-ledger/event-store';
import { Registry } from 'prom-client';
import { Clock, EVENT_STORE, LEDGER_CLOCK, LedgerConfig, METRICS_REGISTRY, SystemClock } from '@credit-ledger/ledger';
import { registerWebhookMetrics } from '../webhook-metrics';
import { WebhookDispatcher, WebhookDispatching } from '../dispatcher';
import { WebhookDispatcherThread } from '../thread/dispatcher-thread';
import { openWebhookStore } from '../store/open-webhook-store';
import { WebhookStore } from '../store/webhook-store';
import { WebhooksConfig } from '../webhooks-config';
import { WebhooksService } from '../webhooks.service';
import { AccountWebhooksController, OperatorWebhooksController } from './webhooks.controller';

export const WEBHOOKS_CONFIG = Symbol('WEBHOOKS_CONFIG');
/** The dispatcher of this process (`WebhookDispatching`), or null when another process dispatches (LEDGER_WEBHOOKS=off). */
export const WEBHOOK_DISPATCHER = Symbol('WEBHOOK_DISPATCHER');
const WEBHOOK_METRICS = Symbol('WEBHOOK_METRICS');

/** Starts the dispatcher with the app (LEDGER_WEBHOOKS=inline) and stops it before the event store closes, then closes its own store. */
@Injectable()
class WebhooksLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly store: WebhookStore,
    @Inject(WEBHOOK_DISPATCHER) private readonly dispatcher: WebhookDispatching | null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.dispatcher?.start();
  }

  /** Before the event store closes (the dispatcher reads it). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.dispatcher?.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

export interface WebhooksModuleOptions {
  readonly ledger: LedgerConfig;
  readonly webhooks: WebhooksConfig;
  /** Serve the HTTP routes (the API); a worker only dispatches. */
  readonly http?: boolean;
}

@Module({})
export class WebhooksModule {
  static forRoot(options: WebhooksModuleOptions): DynamicModule {
    const dispatching = options.webhooks.mode === 'inline';
    return {
      module: WebhooksModule,
      controllers: options.http === false ? [] : [AccountWebhooksController, OperatorWebhooksController],
      providers: [
        { provide: WEBHOOKS_CONFIG, useValue: options.webhooks },
        { provide: WebhookStore, useFactory: () => openWebhookStore(options.ledger) },
        {
          provide: WEBHOOK_DISPATCHER,
          useFactory: (store: WebhookStore, log: EventStore, clock: Clock) => (dispatching ? createDispatcher(options, store, log, clock) : null),
          inject: [WebhookStore, EVENT_STORE, LEDGER_CLOCK],
        },
        {
          provide: WebhooksService,
          useFactory: (store: WebhookStore, log: EventStore, clock: Clock, dispatcher: WebhookDispatching | null) =>
            new WebhooksService(
              store,
              log,
              options.webhooks,
              () => clock.now().getTime(),
              () => dispatcher?.wake(),
            ),
          inject: [WebhookStore, EVENT_STORE, LEDGER_CLOCK, WEBHOOK_DISPATCHER],
        },
        {
          provide: WEBHOOK_METRICS,
          useFactory: (registry: Registry, store: WebhookStore, log: EventStore, dispatcher: WebhookDispatching | null) => (
            registerWebhookMetrics(registry, store, log, dispatcher),
            true
          ),
          inject: [METRICS_REGISTRY, WebhookStore, EVENT_STORE, WEBHOOK_DISPATCHER],
        },
        WebhooksLifecycle,
      ],
      exports: [WebhookStore, WEBHOOK_DISPATCHER, WebhooksService],
    };
  }
}

/**
 * In a thread of the server with the embedded store (LEDGER_WEBHOOKS_THREAD, default true), which
 * the thread reads from its file; on the event loop otherwise, and in a worker (it has nothing else to do).
 */
function createDispatcher(options: WebhooksModuleOptions, store: WebhookStore, log: EventStore, clock: Clock): WebhookDispatching {
  const logger = pino({ level: options.ledger.logLevel, base: { pid: process.pid, component: 'webhooks' } });
  const now = () => clock.now().getTime();
  if (options.webhooks.thread !== false && options.http !== false && log instanceof SqliteEventStore) {
    const { store: kind, dataDir, databaseUrl, migrateOnStart } = options.ledger;
    const settings = { store: { store: kind, dataDir, databaseUrl, migrateOnStart }, webhooks: options.webhooks, logLevel: options.ledger.logLevel };
    return new WebhookDispatcherThread(log, settings, clock instanceof SystemClock ? null : now, logger);
  }
  return new WebhookDispatcher(store, log, options.webhooks, now, logger);
}
