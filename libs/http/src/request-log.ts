import type { LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import pino, { Logger, LoggerOptions } from 'pino';
import { Counter, Registry } from 'prom-client';
import { MAX_CORRELATION_ID_LENGTH } from './limits';
import { CORRELATION_HEADER, correlationIdOf } from './request-context';

/** Every header that carries a credential: never written to the logs. */
export const REDACTED_HEADERS = ['authorization', 'proxy-authorization', 'x-api-key', 'cookie', 'set-cookie'] as const;

/** Probes and scrapes: answered without a request log line. */
export const QUIET_PATHS = ['/health', '/health/live', '/health/ready', '/metrics'];

/** Longest request URL written to a log line. */
export const MAX_LOGGED_URL_LENGTH = 2_048;

/**
 * Bytes of log lines handed to the system in one write at most. Lines logged while a write is
 * under way wait in chunks of this size; pino's writer (sonic-boom) measures the last chunk's bytes
 * again at every line, so its default of 16 KiB cost about 8 KiB of copying per request under load.
 */
export const LOG_WRITE_MAX_BYTES = 2_048;
/**
 * Bytes of log lines waiting for standard output at most. Past it (a log reader that stopped
 * reading), new lines are dropped and counted (`ledger_log_lines_dropped_total`) instead of growing
 * the process's memory without end.
 */
export const LOG_BUFFER_MAX_BYTES = 16 * 1024 * 1024;

export interface RequestLogOptions {
  readonly logLevel: string;
  /** Paths answered without a request log line (probes). */
  readonly quietPaths?: readonly string[];
  /** Where the count of dropped log lines goes; default: a registry of its own. */
  readonly metricsRegistry?: Registry;
  /** Where the lines go: a file descriptor (default 1, standard output). */
  readonly destinationFd?: number;
  /** Tests only: a smaller LOG_BUFFER_MAX_BYTES, to reach it quickly. */
  readonly bufferMaxBytes?: number;
}

/**
 * The logger's options. Credentials never reach it: the one line that carries headers (a request's,
 * built by loggedHeaders) has them censored already, so pino's own redaction, which clones every
 * line it writes, is not needed.
 */
export function requestLoggerOptions(options: RequestLogOptions): LoggerOptions {
  return { level: options.logLevel };
}

const CENSORED = '[redacted]';

/**
 * The request's headers as logged: every credential header censored, the correlation id only when
 * well formed, else a short note of what was refused.
 */
function loggedHeaders(headers: FastifyRequest['headers']): Record<string, unknown> {
  const logged: Record<string, unknown> = { ...headers };
  for (const name of REDACTED_HEADERS) if (logged[name] !== undefined) logged[name] = CENSORED;
  const correlation = logged[CORRELATION_HEADER];
  if (typeof correlation === 'string' && correlationIdOf(correlation) === undefined) {
    logged[CORRELATION_HEADER] = `[refused: ${Math.min(correlation.length, 1_000_000)} characters, at most ${MAX_CORRELATION_ID_LENGTH} of A-Za-z0-9_.:-]`;
  }
  return logged;
}

/**
 * The process's pino logger: one line per answered request (written from Fastify's onResponse
 * hook, from the root logger: no per-request child logger) and Nest's own logs (LoggerService).
 * The line keeps pino-http's fields: `req` (id, method, url, headers), `res.statusCode`,
 * `responseTime` (ms), `correlationId` (or `correlationIdRefused`).
 */
export class HttpLogger implements LoggerService {
  readonly logger: Logger;
  private readonly quietPaths: ReadonlySet<string>;

  constructor(options: RequestLogOptions) {
    const destination = pino.destination({
      dest: options.destinationFd ?? 1,
      sync: false,
      minLength: 0,
      maxWrite: LOG_WRITE_MAX_BYTES,
      maxLength: options.bufferMaxBytes ?? LOG_BUFFER_MAX_BYTES,
    });
    this.logger = pino(requestLoggerOptions(options), destination);
    this.quietPaths = new Set(options.quietPaths ?? QUIET_PATHS);
    const dropped = new Counter({
      name: 'ledger_log_lines_dropped_total',
      help: 'Log lines dropped because standard output was not read (more than LOG_BUFFER_MAX_BYTES waiting)',
      registers: [options.metricsRegistry ?? new Registry()],
    });
    destination.on('drop', () => dropped.inc());
  }

  /** Whether requests are logged at all (LOG_LEVEL at info or below): otherwise the hook is not installed. */
  get logsRequests(): boolean {
    return this.logger.isLevelEnabled('info') || this.logger.isLevelEnabled('error');
  }

  logRequest(request: FastifyRequest, reply: FastifyReply): void {
    const url = request.url;
    if (this.quietPaths.has(url)) return;
    const failed = reply.statusCode >= 500;
    if (!this.logger.isLevelEnabled(failed ? 'error' : 'info')) return;
    const header = request.headers[CORRELATION_HEADER];
    const correlationId = correlationIdOf(header);
    const line = {
      req: { id: request.id, method: request.method, url: url.slice(0, MAX_LOGGED_URL_LENGTH), headers: loggedHeaders(request.headers) },
      res: { statusCode: reply.statusCode },
      responseTime: Math.round(reply.elapsedTime),
      ...(correlationId !== undefined || header === undefined ? { correlationId } : { correlationIdRefused: true }),
    };
    if (failed) this.logger.error(line, 'request errored');
    else this.logger.info(line, 'request completed');
  }

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  /** Nest passes `(message, context)` or `(message, stack, context)`. */
  error(message: unknown, ...rest: unknown[]): void {
    const context = rest.length > 0 ? rest[rest.length - 1] : undefined;
    const stack = rest.length > 1 ? rest[0] : undefined;
    this.logger.error({ context, stack }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
  fatal(message: unknown, context?: string): void {
    this.logger.fatal({ context }, String(message));
  }
}
