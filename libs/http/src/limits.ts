import { availableParallelism } from 'node:os';

/**
 * Named limits of the HTTP boundary, documented in docs/http-api.md and docs/operations.md.
 * Each one is enforced where a request enters and covered by a test.
 */

/** Largest request body accepted (a full batch of 1,000 items fits with room to spare). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/** Deepest nesting of arrays and objects in a JSON body (the deepest valid request needs 5). */
export const MAX_JSON_DEPTH = 64;

/** Longest path parameter the router matches (an id longer than its pattern allows is the pipe's 400, not a 404). */
export const MAX_PATH_PARAM_LENGTH = 8_192;

/** Time a client has to send the request headers. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Time a client has to send the whole request (headers and body). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** An idle keep-alive connection is closed after this long. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Open connections per process at most; more are refused by the socket layer. */
export const MAX_CONNECTIONS = 1_024;

/** Failed authentications (401) per client address per window before 429. */
export const MAX_FAILED_AUTH_PER_ADDRESS = 20;
/** The window of MAX_FAILED_AUTH_PER_ADDRESS, and how long an address stays refused once past it. */
export const FAILED_AUTH_WINDOW_SECONDS = 60;

/** Bounds of MAX_CONCURRENT_HEAVY_READS, whatever the number of cores. */
export const HEAVY_READS_AT_ONCE_RANGE = [2, 8] as const;
/**
 * Heavy reads (balances at an instant, CSV export, usage series) running at once per process: one
 * per CPU core, within HEAVY_READS_AT_ONCE_RANGE; more wait or answer 503. Each keeps a thread
 * busy while it runs, and its results still pass through the event loop: more than the cores only
 * delays the commands (on 2 cores, 4 at once gave a consumption's p99 96–171 ms under heavy
 * reads, 2 at once 52–66 ms, while serving somewhat fewer heavy reads: docs/BENCHMARKS.md).
 */
export const MAX_CONCURRENT_HEAVY_READS = Math.min(HEAVY_READS_AT_ONCE_RANGE[1], Math.max(HEAVY_READS_AT_ONCE_RANGE[0], availableParallelism()));
/** Retry-After of a heavy read refused because MAX_CONCURRENT_HEAVY_READS are running. */
export const HEAVY_READ_RETRY_AFTER_SECONDS = 2;
/** Heavy reads that wait, in order of arrival, for a slot to free up before the next ones are refused. */
export const MAX_QUEUED_HEAVY_READS = 16;
/** How long a heavy read waits in that queue for a slot before it is refused (503 + Retry-After). */
export const HEAVY_READ_QUEUE_WAIT_MS = 500;

/** Longest correlation id kept (longer or non-conforming ids are replaced by a fresh one). */
export const MAX_CORRELATION_ID_LENGTH = 128;
