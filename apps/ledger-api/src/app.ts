import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { TerminusModule } from '@nestjs/terminus';
import { EventStore } from '@credit-ledger/event-store';
import { configureHttpApp, fastifyOptions, HttpTransportModule } from '@credit-ledger/http';
import { Clock, createMetricsRegistry, LedgerConfig, LedgerModule } from '@credit-ledger/ledger';
import { ProjectionsModule } from '@credit-ledger/projections';
import { loadWebhooksConfig, WebhooksConfig, WebhooksModule } from '@credit-ledger/webhooks';
import { HealthController } from './health.controller';
import { CONSOLE_POLICIES, consoleDirectory, serveConsole } from './console';

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

/**
 * Builds the HTTP application on Fastify (not listening yet): used by main, the e2e tests and the
 * benchmark. After `app.init()`, `await app.getHttpAdapter().getInstance().ready()` (or `listen`)
 * before sending requests to `app.getHttpServer()`: Fastify adds its routes when it is ready.
 */
export async function createLedgerApp(config: LedgerConfig, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(appModule(config, options), new FastifyAdapter(fastifyOptions()), {
    bodyParser: false,
    bufferLogs: true,
  });
  const directory = options.consoleDirectory === false ? undefined : (options.consoleDirectory ?? consoleDirectory());
  configureHttpApp(app, { shutdownHooks: options.shutdownHooks, securityPolicies: directory ? CONSOLE_POLICIES : [] });
  // The console's pages and assets: routes of their own, beside the API's.
  if (directory) serveConsole(app.getHttpAdapter().getInstance(), directory);
  return app;
}
