import { DynamicModule, INestApplication, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger, LoggerModule } from 'nestjs-pino';
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
}

/**
 * The HTTP transport in one place: authentication and roles (guard), the error contract (filter),
 * DTO validation (pipe) and request logging register themselves here; `configureHttpApp` adds the
 * body parser and the OpenAPI document. Controllers live in their use-case folders.
 */
@Module({})
export class HttpTransportModule {
  static forRoot(options: HttpTransportOptions): DynamicModule {
    const quietPaths = new Set(options.quietPaths ?? ['/health']);
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
      ],
    };
  }
}

/** Body parsing, logging and the OpenAPI document (/docs, /docs/json) of an app that imports HttpTransportModule. */
export function configureHttpApp(app: INestApplication): void {
  const expressApp = app as NestExpressApplication;
  expressApp.useLogger(expressApp.get(Logger));
  expressApp.useBodyParser('json', { limit: MAX_BODY_BYTES });
  expressApp.enableShutdownHooks();
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
