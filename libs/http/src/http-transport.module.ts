import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { ApiKeyGuard, PER_KEY_RATE_LIMIT } from './auth/api-key.guard';
import { jsonBodyParser, nonJsonBodyError } from './body-parsing';
import { HttpMetrics } from './http-metrics';
import { ServingState } from './serving-state';
import { ApiExceptionFilter, clientError } from './error-filter';
import { HeavyReadSlots } from './heavy-reads';
import { HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, MAX_BODY_BYTES, MAX_CONNECTIONS, MAX_PATH_PARAM_LENGTH, REQUEST_TIMEOUT_MS } from './limits';
import { publishOpenApi } from './openapi';
import { HttpLogger, RequestLogOptions } from './request-log';
import { DOCS_POLICY, PathSecurityPolicy, securityHeaders } from './security-headers';
import { createValidationPipe } from './validation';

export { MAX_BODY_BYTES } from './limits';
export { QUIET_PATHS, REDACTED_HEADERS, requestLoggerOptions } from './request-log';

export interface HttpTransportOptions extends RequestLogOptions {
  /** Requests per API key per minute; absent or 0: no per-key limit. */
  readonly rateLimitPerKeyPerMinute?: number;
  /** Where the HTTP request metrics go (the app shares it with the ledger's); default: a registry of their own. */
  readonly metricsRegistry?: Registry;
}

/**
 * The HTTP transport in one place: authentication and roles (guard), the error contract (filter),
 * DTO validation (pipe), the heavy-read bound (interceptor) and the logger register themselves
 * here; `configureHttpApp` adds the security headers, the body parser, request logs and metrics,
 * the server's timeouts and the OpenAPI document. Controllers live in their use-case folders.
 */
@Module({})
export class HttpTransportModule {
  static forRoot(options: HttpTransportOptions): DynamicModule {
    return {
      module: HttpTransportModule,
      global: true,
      providers: [
        { provide: PER_KEY_RATE_LIMIT, useValue: options.rateLimitPerKeyPerMinute || null },
        { provide: HeavyReadSlots, useValue: new HeavyReadSlots() },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: HttpMetrics, useFactory: () => new HttpMetrics(options.metricsRegistry ?? new Registry()) },
        { provide: HttpLogger, useFactory: () => new HttpLogger(options) },
        ServingState,
      ],
      exports: [HeavyReadSlots, HttpMetrics, HttpLogger, ServingState],
    };
  }
}

/**
 * The Fastify options of the API: no logger of Fastify's own (HttpLogger writes the request
 * lines), Nest without its middleware layer (the app has none), the body limit, and a router that
 * matches paths as Express did (any letter case, a trailing slash) with long path parameters (a
 * malformed id is the pipes' 400, not a 404). A path the router cannot decode (`%E0%A4%A`) is
 * answered 400 VALIDATION_FAILED, as the error filter answers, with the API's security headers.
 */
export function fastifyOptions() {
  const apiHeaders = securityHeaders([]);
  return {
    logger: false,
    skipMiddie: true,
    bodyLimit: MAX_BODY_BYTES,
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false, maxParamLength: MAX_PATH_PARAM_LENGTH },
    frameworkErrors: (error: Error & { statusCode?: number }, _request: FastifyRequest, reply: FastifyReply) => {
      const [status, body] = clientError(error.statusCode ?? 400, error.message);
      apiHeaders('/', reply);
      reply.status(status).send(body);
    },
  } as const;
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

const pathOf = (url: string) => {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
};

/**
 * Security headers, draining, the JSON-only rule, body parsing, request logs, metrics, timeouts
 * and the OpenAPI document (/docs, /docs/json) of a Fastify app that imports HttpTransportModule.
 * Two hooks for every request: one as it arrives, one once it is answered.
 */
export function configureHttpApp(app: NestFastifyApplication, options: ConfigureHttpOptions = {}): void {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  const headers = securityHeaders([DOCS_POLICY, ...(options.securityPolicies ?? [])]);
  const serving = app.get(ServingState);
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    headers(pathOf(request.url), reply);
    serving.markReply(reply);
    done(nonJsonBodyError(request.headers));
  });
  const metrics = app.get(HttpMetrics);
  const logger = app.get(HttpLogger);
  const logs = logger.logsRequests;
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    metrics.record(request, reply);
    if (logs) logger.logRequest(request, reply);
    done();
  });
  const parse = jsonBodyParser();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (request: FastifyRequest, _payload: unknown, done: (error: Error | null, body?: unknown) => void) =>
    parse(request.raw, done),
  );
  app.useLogger(logger);
  if (options.shutdownHooks ?? true) app.enableShutdownHooks();
  applyServerLimits(app.getHttpServer() as Server);
  publishOpenApi(app);
}
