import { BeforeApplicationShutdown, DynamicModule, Inject, Injectable, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import pino from 'pino';
import { EventStore } from '@credit-ledger/event-store';
import { Registry } from 'prom-client';
import { Clock, EVENT_STORE, LEDGER_CLOCK, LedgerConfig, METRICS_REGISTRY } from '@credit-ledger/ledger';
import { registerWebhookMetrics } from '../webhook-metrics';
import { WebhookDispatcher } from '../dispatcher';
import { openWebhookStore } from '../store/open-webhook-store';
import { WebhookStore } from '../store/webhook-store';
import { WebhooksConfig } from '../webhooks-config';
import { WebhooksService } from '../webhooks.service';
import { AccountWebhooksController, OperatorWebhooksController } from './webhooks.controller';

export const WEBHOOKS_CONFIG = Symbol('WEBHOOKS_CONFIG');
const WEBHOOK_METRICS = Symbol('WEBHOOK_METRICS');

/** Starts the dispatcher with the app (LEDGER_WEBHOOKS=inline) and stops it before the event store closes, then closes its own store. */
@Injectable()
class WebhooksLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly store: WebhookStore,
    @Inject(WebhookDispatcher) private readonly dispatcher: WebhookDispatcher | null,
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
          provide: WebhookDispatcher,
          useFactory: (store: WebhookStore, log: EventStore, clock: Clock) =>
            dispatching
              ? new WebhookDispatcher(
                  store,
                  log,
                  options.webhooks,
                  () => clock.now().getTime(),
                  pino({ level: options.ledger.logLevel, base: { pid: process.pid, component: 'webhooks' } }),
                )
              : null,
          inject: [WebhookStore, EVENT_STORE, LEDGER_CLOCK],
        },
        {
          provide: WebhooksService,
          useFactory: (store: WebhookStore, log: EventStore, clock: Clock, dispatcher: WebhookDispatcher | null) =>
            new WebhooksService(
              store,
              log,
              options.webhooks,
              () => clock.now().getTime(),
              () => dispatcher?.wake(),
            ),
          inject: [WebhookStore, EVENT_STORE, LEDGER_CLOCK, WebhookDispatcher],
        },
        {
          provide: WEBHOOK_METRICS,
          useFactory: (registry: Registry, store: WebhookStore, log: EventStore, dispatcher: WebhookDispatcher | null) => (
            registerWebhookMetrics(registry, store, log, dispatcher),
            true
          ),
          inject: [METRICS_REGISTRY, WebhookStore, EVENT_STORE, WebhookDispatcher],
        },
        WebhooksLifecycle,
      ],
      exports: [WebhookStore, WebhookDispatcher, WebhooksService],
    };
  }
}
