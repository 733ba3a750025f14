import { json, NextFunction, Request, RequestHandler, Response } from 'express';
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
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined) return true;
  return length !== undefined && length !== '0';
}

/** A request body that is not JSON is refused with 415 before anything reads it. */
export function requireJsonBodies(req: Request, res: Response, next: NextFunction): void {
  if (!hasBody(req) || JSON_MEDIA_TYPE.test(req.headers['content-type'] ?? '')) {
    next();
    return;
  }
  res.status(415).json({
    error: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'request bodies must be JSON: send Content-Type: application/json',
  });
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
export function refuseUnsafeBodies(req: Request, res: Response, next: NextFunction): void {
  const problem = bodyProblem(req.body);
  if (problem === undefined) {
    next();
    return;
  }
  res.status(400).json({ error: 'VALIDATION_FAILED', message: `request validation failed: ${problem.field}: ${problem.reason}`, details: [problem] });
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

/** The JSON body parser (size and depth limits); every failure becomes the contract's error, never a 500. */
export function jsonBodyParser(): RequestHandler {
  const parse = json({ limit: MAX_BODY_BYTES, verify: verifyJsonDepth });
  return (req, res, next) => parse(req, res, (failure?: unknown) => next(failure === undefined ? undefined : bodyReadError(failure as BodyReadFailure)));
}
