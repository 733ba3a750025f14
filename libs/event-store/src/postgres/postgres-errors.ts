/** SQLSTATE of a unique violation: a writer that bypassed the head lock took a revision first. */
export const PG_UNIQUE_VIOLATION = '23505';

/** SQLSTATE classes and codes after which the same read may work again: the server or the connection, not the request. */
const TRANSIENT_SQLSTATE_PREFIXES = ['08', '53', '57P', '40001', '40P01', '58030'];
const TRANSIENT_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const SQLSTATE_PATTERN = /^[0-9A-Z]{5}$/;
/** node-postgres raises these without a code. */
const TRANSIENT_DRIVER_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended/i;

/** A lost or refused connection, a server shutting down or starting, a pool timeout: worth reading again. */
export function isTransientPostgresError(error: unknown): boolean {
  // Duck-typed: socket errors may come from another realm (e.g. a test sandbox), where instanceof fails.
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (TRANSIENT_SOCKET_CODES.has(code)) return true;
    if (SQLSTATE_PATTERN.test(code)) return TRANSIENT_SQLSTATE_PREFIXES.some((prefix) => code.startsWith(prefix));
  }
  return typeof message === 'string' && TRANSIENT_DRIVER_MESSAGES.test(message);
}

/** A unique violation: the group lost a race on the fast path and may be retried on the general path. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === PG_UNIQUE_VIOLATION;
}
