import { DynamicModule, INestApplication, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger, LoggerModule } from 'nestjs-pino';
import { Registry } from 'prom-client';
import { HttpMetrics } from './http-metrics';
import { ServingState } from './serving-state';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ApiExceptionFilter } from './error-filter';
import { CORRELATION_HEADER } from './request-context';
import { createValidationPipe } from './validation';

/** Largest request body accepted (a full batch of 1,000 items fits with room to spare). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface HttpTransportOptions {
  readonly logLevel: string;
  /** Paths answered without a request log line (probes). */
  readonly quietPaths?: readonly string[];
  /** Where the HTTP request metrics go (the app shares it with the ledger's); default: a registry of their own. */
  readonly metricsRegistry?: Registry;
}

/** Probes and scrapes: answered without a request log line. */
export const QUIET_PATHS = ['/health', '/health/live', '/health/ready', '/metrics'];

/**
 * The HTTP transport in one place: authentication and roles (guard), the error contract (filter),
 * DTO validation (pipe) and request logging register themselves here; `configureHttpApp` adds the
 * body parser and the OpenAPI document. Controllers live in their use-case folders.
 */
@Module({})
export class HttpTransportModule {
  static forRoot(options: HttpTransportOptions): DynamicModule {
    const quietPaths = new Set(options.quietPaths ?? QUIET_PATHS);
    return {
      module: HttpTransportModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: options.logLevel,
            redact: ['req.headers.authorization'],
            // One line per request at info; probes stay quiet.
            autoLogging: { ignore: (req) => quietPaths.has(req.url ?? '') },
            customProps: (req) => ({ correlationId: req.headers[CORRELATION_HEADER] }),
          },
        }),
      ],
      providers: [
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: HttpMetrics, useFactory: () => new HttpMetrics(options.metricsRegistry ?? new Registry()) },
        ServingState,
      ],
      exports: [HttpMetrics, ServingState],
    };
  }
}

export interface ConfigureHttpOptions {
  /**
   * Close the app on SIGTERM/SIGINT at once (Nest's shutdown hooks; default true). The server's
   * main turns this off and drains instead (see docs/operations.md, "Shutdown").
   */
  readonly shutdownHooks?: boolean;
}

/** Request metrics, body parsing, logging and the OpenAPI document (/docs, /docs/json) of an app that imports HttpTransportModule. */
export function configureHttpApp(app: INestApplication, options: ConfigureHttpOptions = {}): void {
  const expressApp = app as NestExpressApplication;
  expressApp.use(expressApp.get(HttpMetrics).middleware);
  expressApp.use(expressApp.get(ServingState).middleware);
  expressApp.useLogger(expressApp.get(Logger));
  expressApp.useBodyParser('json', { limit: MAX_BODY_BYTES });
  if (options.shutdownHooks ?? true) expressApp.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    expressApp,
    new DocumentBuilder()
      .setTitle('credit-ledger')
      .setDescription('Event-sourced credit ledger: every credit movement is an immutable event.')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', expressApp, document, { jsonDocumentUrl: 'docs/json' });
}
