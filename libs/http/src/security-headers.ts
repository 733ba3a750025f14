import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { HttpReply } from './http-types';

/** A Connect-style middleware (helmet's shape), run once against a recording response. */
export type HeaderMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** CSP directives by name (helmet's format): `{ 'script-src': ["'self'"] }`. */
export type CspDirectives = Readonly<Record<string, readonly string[]>>;

/** The Content-Security-Policy of the paths under `prefix` (the longest matching prefix wins). */
export interface PathSecurityPolicy {
  readonly prefix: string;
  readonly directives: CspDirectives;
  /** Only the path itself (`/` for a console's home page), not every path that starts with it. */
  readonly exact?: boolean;
}

/** The JSON API and CSV: nothing may load, nothing may frame it. */
export const API_CSP: CspDirectives = {
  'default-src': ["'none'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
};

/** Swagger UI at /docs: its own scripts and styles (it sets inline styles), images from itself; never framed. */
export const DOCS_POLICY: PathSecurityPolicy = {
  prefix: '/docs',
  directives: {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'frame-ancestors': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'object-src': ["'none'"],
  },
};

function helmetFor(directives: CspDirectives): HeaderEffects {
  return recordHeaderEffects(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: directives as Record<string, string[]> },
      frameguard: { action: 'deny' },
      // The API is called cross-origin by design (keys, not cookies): no CORP/COEP restrictions on it.
      crossOriginResourcePolicy: false,
      crossOriginEmbedderPolicy: false,
    }),
  );
}

/** What a header middleware does to a response: headers set, headers removed. */
export interface HeaderEffects {
  readonly set: readonly (readonly [string, string])[];
  readonly removed: readonly string[];
}

/**
 * Runs a middleware whose headers do not depend on the request (helmet's, for one policy) once,
 * against a recording response, and returns what it did. helmet is synchronous and its headers
 * are fixed by its options, so replaying them per request gives the same response headers
 * without its chain of a dozen middlewares on every request (a tenth of a trivial request's CPU).
 */
export function recordHeaderEffects(middleware: HeaderMiddleware): HeaderEffects {
  const set: [string, string][] = [];
  const removed: string[] = [];
  let nextCalled = false;
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => set.push([name, String(value)]),
    removeHeader: (name: string) => removed.push(name),
  } as unknown as ServerResponse;
  middleware({ method: 'GET', url: '/', headers: {} } as IncomingMessage, response, (error?: unknown) => {
    if (error) throw error;
    nextCalled = true;
  });
  if (!nextCalled) throw new Error('a header middleware that does not answer synchronously cannot be precomputed');
  return { set, removed };
}

/** The response a header replay writes on: Fastify's reply (set a header, remove one). */
export interface HeaderTarget extends HttpReply {
  removeHeader(name: string): unknown;
}

function replay(effects: HeaderEffects, reply: HeaderTarget): void {
  for (const name of effects.removed) reply.removeHeader(name);
  for (const [name, value] of effects.set) reply.header(name, value);
}

/**
 * Security headers on every response (helmet): nosniff, no framing, a CSP per path (the API's
 * `default-src 'none'` unless a policy for a longer prefix applies: /docs, or what a caller adds
 * for its static pages). Returns what sets them on a reply for a request path (without its query).
 */
export function securityHeaders(policies: readonly PathSecurityPolicy[] = [DOCS_POLICY]): (path: string, reply: HeaderTarget) => void {
  const byPrefix = [...policies]
    .sort((left, right) => right.prefix.length - left.prefix.length)
    .map((policy) => ({ policy, effects: helmetFor(policy.directives) }));
  const api = helmetFor(API_CSP);
  return (path, reply) => {
    const chosen = byPrefix.find(({ policy }) => (policy.exact ? path === policy.prefix : path.startsWith(policy.prefix)));
    replay(chosen?.effects ?? api, reply);
  };
}
