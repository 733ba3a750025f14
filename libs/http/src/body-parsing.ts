import { json } from 'body-parser';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './api-error';
import { jsonErrorPosition } from './json-error-position';
import { LONE_SURROGATE, RESERVED_NAMES } from '@credit-ledger/domain';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from './limits';

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Raised by the body parser's verify step for a body nested deeper than MAX_JSON_DEPTH. */
export class JsonTooDeepError extends Error {
  readonly type = 'json.too.deep';
  constructor(readonly maxDepth: number) {
    super(`request body is nested deeper than ${maxDepth} levels`);
  }
}

/**
 * Deepest nesting of arrays and objects in a JSON text, counted in one loop over the bytes (no
 * recursion, so no stack to overflow). Bytes inside strings do not count. Stops once past `limit`.
 */
export function jsonDepthExceeds(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index];
    if (inString) {
      if (byte === BACKSLASH) index++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth++;
      if (depth > limit) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** The body parser's `verify` hook: refuses a body nested deeper than MAX_JSON_DEPTH before it is parsed. */
export function verifyJsonDepth(_req: unknown, _res: unknown, body: Buffer): void {
  if (jsonDepthExceeds(body, MAX_JSON_DEPTH)) throw new JsonTooDeepError(MAX_JSON_DEPTH);
}

const JSON_MEDIA_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

/** True when the request carries a body (a non-zero length or a chunked transfer). */
function hasBody(headers: IncomingMessage['headers']): boolean {
  const length = headers['content-length'];
  if (headers['transfer-encoding'] !== undefined) return true;
  return length !== undefined && length !== '0';
}

/** A request body that is not JSON is refused with 415 before anything reads it (checked as the request arrives). */
export function nonJsonBodyError(headers: IncomingMessage['headers']): ApiError | undefined {
  if (!hasBody(headers) || JSON_MEDIA_TYPE.test(headers['content-type'] ?? '')) return undefined;
  return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'request bodies must be JSON: send Content-Type: application/json');
}

/** A stable description of a JSON syntax error: where it is, never the parser's own words. */
export function jsonSyntaxMessage(error: { body?: unknown }): string {
  const position = typeof error.body === 'string' ? jsonErrorPosition(error.body) : -1;
  return position < 0 ? 'request body is not valid JSON' : `request body is not valid JSON (at character ${position})`;
}

/** Object keys refused anywhere in a body: the names an object already answers to, and `prototype`. */
const RESERVED_KEYS = new Set([...RESERVED_NAMES, 'prototype']);

interface BodyProblem {
  readonly field: string;
  readonly reason: string;
}

/**
 * The first problem of a parsed body that no DTO would see: a lone surrogate in a string (half a
 * UTF-16 pair, e.g. "\\ud800": not text) or a reserved object key (`constructor`, `__proto__`,
 * ...: the framework would drop it silently). Depth is already bounded by MAX_JSON_DEPTH.
 */
export function bodyProblem(value: unknown, path = 'body'): BodyProblem | undefined {
  if (typeof value === 'string')
    return LONE_SURROGATE.test(value) ? { field: path, reason: 'must be well-formed Unicode text (a lone surrogate was sent)' } : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const key of Object.keys(value)) {
    const childPath = `${path}.${key}`;
    if (LONE_SURROGATE.test(key)) return { field: childPath, reason: 'keys must be well-formed Unicode text (a lone surrogate was sent)' };
    if (!Array.isArray(value) && RESERVED_KEYS.has(key)) return { field: childPath, reason: `"${key}" is a reserved name and cannot be used as a key` };
    const found = bodyProblem((value as Record<string, unknown>)[key], childPath);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** After parsing: 400 VALIDATION_FAILED naming the field of a lone surrogate or a reserved key. */
export function unsafeBodyError(body: unknown): ApiError | undefined {
  const problem = bodyProblem(body);
  if (problem === undefined) return undefined;
  return new ApiError(400, 'VALIDATION_FAILED', `request validation failed: ${problem.field}: ${problem.reason}`, [problem]);
}

/** What the body parser reports: `type` and `status` (http-errors), the raw `body` of a syntax error. */
interface BodyReadFailure {
  type?: string;
  status?: number;
  statusCode?: number;
  message?: string;
  body?: unknown;
}

/** A body-parser failure as the contract's error (too large, not JSON, too deep, a broken or unknown Content-Encoding). */
export function bodyReadError(failure: BodyReadFailure): ApiError {
  switch (failure.type) {
    case 'entity.too.large':
      return new ApiError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${MAX_BODY_BYTES} bytes`);
    case 'entity.parse.failed': {
      const message = jsonSyntaxMessage(failure);
      return new ApiError(400, 'VALIDATION_FAILED', message, [{ field: 'body', reason: message }]);
    }
    case 'json.too.deep': {
      const message = `request body is nested deeper than ${MAX_JSON_DEPTH} levels`;
      return new ApiError(400, 'VALIDATION_FAILED', message, [{ field: 'body', reason: message }]);
    }
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'the body’s Content-Encoding or charset is not supported (identity, gzip, deflate, br; utf-8)');
    default: {
      // A body that cannot be read as declared (e.g. Content-Encoding: gzip over bytes that are not gzip), or a client that went away.
      const message = 'request body could not be read as its headers declare';
      return new ApiError(400, 'VALIDATION_FAILED', message, [{ field: 'body', reason: message }]);
    }
  }
}

/** A body parser for Fastify's content-type parser hook: the raw request in, the parsed body or the contract's error out. */
export type JsonBodyParser = (req: IncomingMessage, done: (error: ApiError | null, body?: unknown) => void) => void;

/** body-parser hands the response only to `verify` (verifyJsonDepth), which does not use it. */
const NO_RESPONSE = {} as ServerResponse;

/**
 * A body the plain reader takes: application/json in UTF-8 (no charset, or `charset=utf-8`),
 * neither compressed nor chunked, with a Content-Length from 1 to MAX_BODY_BYTES. Everything else
 * goes to body-parser.
 */
const PLAIN_JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*("utf-8"|utf-8)\s*)?$/i;
const DECIMAL = /^\d{1,8}$/;
const BYTE_ORDER_MARK = 0xfeff;
const FIRST_NON_WHITESPACE = /[^ \t\n\r]/;

/** The Content-Length of a body the plain reader takes, else undefined. */
function plainBodyLength(headers: IncomingMessage['headers']): number | undefined {
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return undefined;
  const length = headers['content-length'];
  if (headers['transfer-encoding'] !== undefined || length === undefined || !DECIMAL.test(length)) return undefined;
  const bytes = Number(length);
  if (bytes === 0 || bytes > MAX_BODY_BYTES || !PLAIN_JSON_TYPE.test(headers['content-type'] ?? '')) return undefined;
  return bytes;
}

/**
 * The bytes of a plain body as body-parser's strict JSON parser reads them: depth first, then UTF-8
 * text without a leading byte order mark, an empty text as `{}`, and only an object or an array.
 */
function parsePlainJson(bytes: Buffer): { body: unknown } | { failure: BodyReadFailure } {
  if (jsonDepthExceeds(bytes, MAX_JSON_DEPTH)) return { failure: { type: 'json.too.deep' } };
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === BYTE_ORDER_MARK) text = text.slice(1);
  if (text.length === 0) return { body: {} };
  const first = FIRST_NON_WHITESPACE.exec(text)?.[0];
  if (first !== '{' && first !== '[') return { failure: { type: 'entity.parse.failed', body: text } };
  try {
    return { body: JSON.parse(text) as unknown };
  } catch {
    return { failure: { type: 'entity.parse.failed', body: text } };
  }
}

/**
 * Reads a plain body straight from the request: what nearly every request sends, without
 * body-parser's stream plumbing and charset decoding, which cost a POST about 12 µs of the event
 * loop. The outcome is body-parser's, failure for failure (a property test holds the two together).
 */
function readPlainJson(req: IncomingMessage, length: number, done: (error: ApiError | null, body?: unknown) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    received += chunk.length;
  };
  const finish = (failure: BodyReadFailure | undefined) => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onBroken);
    req.off('close', onBroken);
    if (failure !== undefined) return done(bodyReadError(failure));
    const parsed = parsePlainJson(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
    if ('failure' in parsed) return done(bodyReadError(parsed.failure));
    done(unsafeBodyError(parsed.body) ?? null, parsed.body);
  };
  const onEnd = () => finish(received === length ? undefined : { type: 'request.size.invalid' });
  const onBroken = () => finish({ type: 'request.aborted' });
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onBroken);
  req.on('close', onBroken);
}

/**
 * The JSON body parser (body-parser's: size and depth limits, gzip/deflate/br bodies, utf-8);
 * every failure becomes the contract's error, never a 500; a parsed body with a lone surrogate
 * or a reserved key is refused (400). Fastify calls it only after the request's Content-Type was
 * found to be JSON (`nonJsonBodyError`), for methods that carry a body. Plain bodies (see
 * plainBodyLength) are read by readPlainJson, the others by body-parser, to the same outcome.
 */
export function jsonBodyParser(): JsonBodyParser {
  const parseOthers = bodyParserJson();
  return (req, done) => {
    const length = plainBodyLength(req.headers);
    if (length !== undefined) readPlainJson(req, length, done);
    else parseOthers(req, done);
  };
}

/** body-parser's JSON parser with the contract's errors, for every body (the plain reader is held to it in a property test). */
export function bodyParserJson(): JsonBodyParser {
  const parse = json({ limit: MAX_BODY_BYTES, verify: verifyJsonDepth });
  return (req, done) =>
    parse(req, NO_RESPONSE, (failure?: unknown) => {
      if (failure !== undefined) return done(bodyReadError(failure as BodyReadFailure));
      const body = (req as IncomingMessage & { body?: unknown }).body;
      done(unsafeBodyError(body) ?? null, body);
    });
}
