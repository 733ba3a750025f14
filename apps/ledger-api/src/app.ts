import 'reflect-metadata';
import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { TerminusModule } from '@nestjs/terminus';
import { EventStore } from '@credit-ledger/event-store';
import { configureHttpApp, HttpTransportModule } from '@credit-ledger/http';
import { Clock, createMetricsRegistry, LedgerConfig, LedgerModule } from '@credit-ledger/ledger';
import { ProjectionsModule } from '@credit-ledger/projections';
import { loadWebhooksConfig, WebhooksConfig, WebhooksModule } from '@credit-ledger/webhooks';
import { HealthController } from './health.controller';
import { CONSOLE_POLICIES, consoleDirectory, consoleHandler } from './console';

export { MAX_BODY_BYTES } from '@credit-ledger/http';

export interface CreateAppOptions {
  readonly clock?: Clock;
  /** An event store opened by the caller instead of the configured one (tests); the app closes it. */
  readonly eventStore?: EventStore;
  /** Nest's immediate close on SIGTERM (default true); main drains instead. */
  readonly shutdownHooks?: boolean;
  /** Webhooks (LEDGER_WEBHOOKS*); default: read from the environment. */
  readonly webhooks?: WebhooksConfig;
  /** The built console to serve at `/` (default: dist/apps/ledger-web when it was built; false: none). */
  readonly consoleDirectory?: string | false;
}

function appModule(config: LedgerConfig, options: CreateAppOptions) {
  // One registry for the app: HTTP, commands, store, billing, projections and process metrics.
  const metricsRegistry = createMetricsRegistry();
  @Module({
    imports: [
      HttpTransportModule.forRoot({ logLevel: config.logLevel, rateLimitPerKeyPerMinute: config.rateLimitPerKeyPerMinute, metricsRegistry }),
      LedgerModule.forRoot({ config, clock: options.clock, eventStore: options.eventStore, metricsRegistry }),
      ProjectionsModule.forRoot(config),
      WebhooksModule.forRoot({ ledger: config, webhooks: options.webhooks ?? loadWebhooksConfig() }),
      TerminusModule,
    ],
    controllers: [HealthController],
  })
  class AppModule {}
  return AppModule;
}

/** Builds the HTTP application (not listening yet): used by main, the e2e tests and the benchmark. */
export async function createLedgerApp(config: LedgerConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(appModule(config, options), { bodyParser: false, bufferLogs: true });
  const directory = options.consoleDirectory === false ? undefined : (options.consoleDirectory ?? consoleDirectory());
  configureHttpApp(app, { shutdownHooks: options.shutdownHooks, securityPolicies: directory ? CONSOLE_POLICIES : [] });
  // The console's files, before the API's routes: only its own pages and assets are answered here.
  if (directory) app.use(consoleHandler(directory));
  return app;
}
