import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject, Logger } from '@nestjs/common';
import { DomainError, DomainErrorCode } from '@credit-ledger/domain';
import { ConcurrencyRetriesExhaustedError, EVENT_STORE, EventStore, isTransientPostgresError, UnreadableEventError } from '@credit-ledger/event-store';
import { ApiError } from './api-error';
import type { HttpReply } from './http-types';

/** The reply the filter answers on: Fastify's (status, header, send). */
interface ErrorReply extends HttpReply {
  send(body: unknown): unknown;
}

/**
 * Maps every error to the contract: `{error, message, details?}`. Anything a client sent gets a
 * 4xx with a stable code; only our own faults are 5xx (and logged).
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  /** The store in use classifies its own errors: this filter names no database's error codes. */
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ErrorReply>();
    const [status, body] = this.toResponse(exception);
    if (status >= 500) this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    if (exception instanceof ApiError && exception.retryAfterSeconds !== undefined) res.header('Retry-After', String(exception.retryAfterSeconds));
    else if (status === 503) res.header('Retry-After', '1');
    res.status(status);
    res.send(body);
  }

  private toResponse(e: unknown): [number, Record<string, unknown>] {
    if (e instanceof DomainError) {
      const status = e.code === DomainErrorCode.AccountNotFound || e.code === DomainErrorCode.ReservationNotFound ? 404 : 409;
      return [status, { error: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) }];
    }
    if (e instanceof ConcurrencyRetriesExhaustedError) return [503, { error: 'CONCURRENCY_RETRY_EXHAUSTED', message: e.message }];
    // The database is unreachable or restarting: nothing was acknowledged, the same request (same
    // client id) may be sent again — an append that did commit answers its first outcome.
    // The shared-state database (keys, with EventStoreDB as the log) is PostgreSQL whatever the log is.
    if (this.store.isTransientError(e) || isTransientPostgresError(e))
      return [503, { error: 'STORE_UNAVAILABLE', message: 'the event store cannot be reached; retry the request with the same id' }];
    // Stored data this version cannot read (corrupted row, unknown type, newer schema): the
    // account is unavailable until an operator acts; the message names the position.
    if (e instanceof UnreadableEventError) {
      return [500, { error: 'EVENT_UNREADABLE', message: e.message }];
    }
    if (e instanceof HttpException) {
      const status = e.getStatus();
      const response = e.getResponse();
      if (
        typeof response === 'object' &&
        response !== null &&
        'error' in response &&
        typeof (response as { error: unknown }).error === 'string' &&
        /^[A-Z_]+$/.test((response as { error: string }).error)
      ) {
        return [status, response as Record<string, unknown>];
      }
      if (
        status === 503 &&
        typeof response === 'object' &&
        response !== null &&
        (response as { status?: unknown }).status === 'error' &&
        'details' in response
      ) {
        // A failing health check: its report (which check failed and why) is the answer.
        return [status, response as Record<string, unknown>];
      }
      return clientError(status, e.message);
    }
    const framework = frameworkClientError(e);
    if (framework) return clientError(framework.status, framework.message);
    return [500, { error: 'INTERNAL_ERROR', message: 'internal error; it was logged' }];
  }
}

/** A client error Fastify raises itself before any route runs (`FST_ERR_…` with a 4xx status): answered as the contract's 4xx. */
function frameworkClientError(e: unknown): { status: number; message: string } | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, statusCode, message } = e as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof code !== 'string' || !code.startsWith('FST_') || typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return undefined;
  return { status: statusCode, message: typeof message === 'string' ? message : code };
}

/** The contract's answer to a client error raised by the framework (status and `{error, message, details?}`). */
export function clientError(status: number, message: string): [number, Record<string, unknown>] {
  // Framework-level 400s (a path that cannot be decoded, a body that is not JSON): the body is named as the offending field.
  if (status === 400) return [status, { error: 'VALIDATION_FAILED', message, details: [{ field: 'body', reason: message }] }];
  return [status, { error: codeForStatus(status), message }];
}

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'VALIDATION_FAILED';
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'TOO_MANY_REQUESTS';
    default:
      return status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST';
  }
}
