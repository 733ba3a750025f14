import { DynamicModule, INestApplication, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import { Logger, LoggerModule } from 'nestjs-pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import { ApiKeyGuard, PER_KEY_RATE_LIMIT } from './auth/api-key.guard';
import { jsonBodyParser, refuseUnsafeBodies, requireJsonBodies } from './body-parsing';
import { Registry } from 'prom-client';
import { HttpMetrics } from './http-metrics';
import { ServingState } from './serving-state';
import { ApiExceptionFilter } from './error-filter';
import { HeavyReadSlots } from './heavy-reads';
import { HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, MAX_CONNECTIONS, MAX_CORRELATION_ID_LENGTH, REQUEST_TIMEOUT_MS } from './limits';
import { publishOpenApi } from './openapi';
import { CORRELATION_HEADER, correlationIdOf } from './request-context';
import { DOCS_POLICY, PathSecurityPolicy, securityHeaders } from './security-headers';
import { createValidationPipe } from './validation';

export { MAX_BODY_BYTES } from './limits';

export interface HttpTransportOptions {
  readonly logLevel: string;
  /** Paths answered without a request log line (probes). */
  readonly quietPaths?: readonly string[];
  /** Requests per API key per minute; absent or 0: no per-key limit. */
  readonly rateLimitPerKeyPerMinute?: number;
  /** Where the HTTP request metrics go (the app shares it with the ledger's); default: a registry of their own. */
  readonly metricsRegistry?: Registry;
}

/** Every header that carries a credential: never written to the logs. */
export const REDACTED_HEADERS = ['authorization', 'proxy-authorization', 'x-api-key', 'cookie', 'set-cookie'] as const;

/** The request logger's options: credentials redacted, the correlation id only when well formed. */
export function requestLoggerOptions(options: HttpTransportOptions): PinoHttpOptions {
  const quietPaths = new Set(options.quietPaths ?? QUIET_PATHS);
  return {
    level: options.logLevel,
    redact: {
      paths: [...REDACTED_HEADERS.map((name) => `req.headers["${name}"]`), ...REDACTED_HEADERS.map((name) => `res.headers["${name}"]`)],
      censor: '[redacted]',
    },
    // One line per request at info; probes stay quiet.
    autoLogging: { ignore: (req) => quietPaths.has(req.url ?? '') },
    // The header is logged only through this property: capped and sanitised.
    customProps: (req) => {
      const header = req.headers[CORRELATION_HEADER];
      const correlationId = correlationIdOf(header);
      return correlationId !== undefined || header === undefined ? { correlationId } : { correlationId: undefined, correlationIdRefused: true };
    },
    serializers: {
      req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown> }) => {
        const headers = { ...req.headers };
        const correlation = headers[CORRELATION_HEADER];
        if (typeof correlation === 'string' && correlationIdOf(correlation) === undefined) {
          headers[CORRELATION_HEADER] =
            `[refused: ${Math.min(correlation.length, 1_000_000)} characters, at most ${MAX_CORRELATION_ID_LENGTH} of A-Za-z0-9_.:-]`;
        }
        return { id: req.id, method: req.method, url: req.url.slice(0, 2_048), headers };
      },
    },
  };
}

/** Probes and scrapes: answered without a request log line. */
export const QUIET_PATHS = ['/health', '/health/live', '/health/ready', '/metrics'];

/**
 * The HTTP transport in one place: authentication and roles (guard), the error contract (filter),
 * DTO validation (pipe), the heavy-read bound (interceptor) and request logging register
 * themselves here; `configureHttpApp` adds the security headers, the body parser, the server's
 * timeouts and the OpenAPI document. Controllers live in their use-case folders.
 */
@Module({})
export class HttpTransportModule {
  static forRoot(options: HttpTransportOptions): DynamicModule {
    return {
      module: HttpTransportModule,
      global: true,
      imports: [LoggerModule.forRoot({ pinoHttp: requestLoggerOptions(options) })],
      providers: [
        { provide: PER_KEY_RATE_LIMIT, useValue: options.rateLimitPerKeyPerMinute || null },
        { provide: HeavyReadSlots, useValue: new HeavyReadSlots() },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: HttpMetrics, useFactory: () => new HttpMetrics(options.metricsRegistry ?? new Registry()) },
        ServingState,
      ],
      exports: [HeavyReadSlots, HttpMetrics, ServingState],
    };
  }
}

/** Node's defaults (no request deadline worth the name, unlimited connections) replaced by the named limits. */
export function applyServerLimits(server: Server): void {
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;
}

export interface ConfigureHttpOptions {
  /** Content-Security-Policies for paths other than the API and /docs (static pages of a console). */
  readonly securityPolicies?: readonly PathSecurityPolicy[];
  /**
   * Close the app on SIGTERM/SIGINT at once (Nest's shutdown hooks; default true). The server's
   * main turns this off and drains instead (see docs/operations.md, "Shutdown").
   */
  readonly shutdownHooks?: boolean;
}

/** Request metrics, security headers, body parsing, timeouts, logging and the OpenAPI document (/docs, /docs/json) of an app that imports HttpTransportModule. */
export function configureHttpApp(app: INestApplication, options: ConfigureHttpOptions = {}): void {
  const expressApp = app as NestExpressApplication;
  expressApp.disable('x-powered-by');
  // No ETag: authenticated answers are `no-store`, so a validator is never used, and hashing every body costs each request.
  expressApp.set('etag', false);
  expressApp.use(expressApp.get(HttpMetrics).middleware);
  expressApp.use(expressApp.get(ServingState).middleware);
  expressApp.use(securityHeaders([DOCS_POLICY, ...(options.securityPolicies ?? [])]));
  expressApp.use(requireJsonBodies);
  expressApp.useLogger(expressApp.get(Logger));
  expressApp.use(jsonBodyParser());
  expressApp.use(refuseUnsafeBodies);
  if (options.shutdownHooks ?? true) expressApp.enableShutdownHooks();
  applyServerLimits(expressApp.getHttpServer() as Server);
  publishOpenApi(expressApp);
}
