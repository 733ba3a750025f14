import 'reflect-metadata';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Registry } from 'prom-client';
import { EventStore } from '@credit-ledger/event-store';
import { EVENT_STORE, LedgerConfig, LedgerModule, METRICS_REGISTRY } from '@credit-ledger/ledger';
import {
  DispatcherStats,
  registerWebhookMetrics,
  WEBHOOK_DISPATCHER,
  WebhookDispatching,
  WebhooksConfig,
  WebhooksModule,
  WebhookStore,
} from '@credit-ledger/webhooks';

/**
 * `ledger-worker --role webhooks`: the webhook dispatcher without HTTP (run the API with
 * LEDGER_WEBHOOKS=off). Several may run: the lease in the shared store lets one dispatch at a
 * time, the others take over when it stops or dies.
 */
export class WebhooksWorker {
  private constructor(private readonly app: INestApplicationContext) {}

  static async start(ledger: LedgerConfig, webhooks: WebhooksConfig): Promise<WebhooksWorker> {
    @Module({
      imports: [
        LedgerModule.forRoot({ config: ledger, http: false, scheduler: false }),
        WebhooksModule.forRoot({ ledger, webhooks: { ...webhooks, mode: 'inline' }, http: false }),
      ],
    })
    class WebhooksWorkerModule {}
    const app = await NestFactory.createApplicationContext(WebhooksWorkerModule, { logger: false, abortOnError: false });
    await app.init();
    return new WebhooksWorker(app);
  }

  /** The registry of this worker: the ledger's metrics, the process's and the webhooks'. */
  get registry(): Registry {
    return this.app.get<Registry>(METRICS_REGISTRY);
  }

  /** The webhook metrics alone, on `registry` (a worker with Kafka roles serves them next to its own). */
  registerMetrics(registry: Registry): void {
    registerWebhookMetrics(registry, this.app.get(WebhookStore), this.app.get<EventStore>(EVENT_STORE), this.app.get<WebhookDispatching>(WEBHOOK_DISPATCHER));
  }

  stats(): DispatcherStats {
    return this.app.get<WebhookDispatching>(WEBHOOK_DISPATCHER).stats();
  }

  async stop(): Promise<void> {
    await this.app.close();
  }
}

/** `--role webhooks --role relay` or `--role webhooks,relay`: the roles named on the command line (undefined: none named). */
export function rolesFromArgs(args: readonly string[]): string[] | undefined {
  const roles: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    const value = arg === '--role' ? args[++index] : arg.startsWith('--role=') ? arg.slice('--role='.length) : undefined;
    if (value === undefined) continue;
    roles.push(
      ...value
        .split(',')
        .map((role) => role.trim())
        .filter((role) => role !== ''),
    );
  }
  return roles.length === 0 ? undefined : [...new Set(roles)];
}
