import 'reflect-metadata';
import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger, LoggerModule } from 'nestjs-pino';
import { TerminusModule } from '@nestjs/terminus';
import { EventStore } from '../../../libs/event-store/src';
import { Clock, createValidationPipe, LedgerConfig, LedgerModule } from '../../../libs/ledger/src';
import { ProjectionsModule } from '../../../libs/projections/src';
import { HealthController } from './health.controller';

/** Largest request body accepted (a full batch of 1,000 items fits with room to spare). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface CreateAppOptions {
  readonly clock?: Clock;
  /** An event store opened by the caller instead of the configured one (tests); the app closes it. */
  readonly eventStore?: EventStore;
}

function appModule(config: LedgerConfig, options: CreateAppOptions) {
  @Module({
    imports: [
      LoggerModule.forRoot({
        pinoHttp: {
          level: config.logLevel,
          redact: ['req.headers.authorization'],
          // One line per request at info; probes stay quiet.
          autoLogging: { ignore: (req) => req.url === '/health' },
          customProps: (req) => ({ correlationId: req.headers['x-correlation-id'] }),
        },
      }),
      LedgerModule.forRoot({ config, clock: options.clock, eventStore: options.eventStore }),
      ProjectionsModule.forRoot(config),
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
  app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: MAX_BODY_BYTES });
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('credit-ledger')
      .setDescription('Event-sourced credit ledger: every credit movement is an immutable event.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
  return app;
}
