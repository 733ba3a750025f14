import type { NextFunction, Request, Response } from 'express';
import { LONE_SURROGATE } from '@credit-ledger/domain';
import { MAX_JSON_DEPTH } from './limits';

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
export function jsonSyntaxMessage(error: { message?: string; body?: unknown }): string {
  const match = /position (\d+)/.exec(error.message ?? '');
  const position = match ? Number(match[1]) : typeof error.body === 'string' ? error.body.length : undefined;
  return position === undefined ? 'request body is not valid JSON' : `request body is not valid JSON (at character ${position})`;
}

/** The path of the first string (key or value) holding a lone surrogate, or undefined (depth is already bounded). */
export function loneSurrogatePath(value: unknown, path = 'body'): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, child] of Object.entries(value)) {
    const childPath = `${path}.${key}`;
    if (LONE_SURROGATE.test(key)) return childPath;
    const found = loneSurrogatePath(child, childPath);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** After parsing: a string with a lone surrogate (half a UTF-16 pair, e.g. "\\ud800") is not text; 400 naming the field. */
export function refuseLoneSurrogates(req: Request, res: Response, next: NextFunction): void {
  const field = loneSurrogatePath(req.body);
  if (field === undefined) {
    next();
    return;
  }
  const reason = 'must be well-formed Unicode text (a lone surrogate was sent)';
  res.status(400).json({ error: 'VALIDATION_FAILED', message: `request validation failed: ${field}: ${reason}`, details: [{ field, reason }] });
}
