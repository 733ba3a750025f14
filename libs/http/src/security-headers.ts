import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

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

function helmetFor(directives: CspDirectives): RequestHandler {
  return precomputed(
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
export function recordHeaderEffects(middleware: RequestHandler): HeaderEffects {
  const set: [string, string][] = [];
  const removed: string[] = [];
  let nextCalled = false;
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => set.push([name, String(value)]),
    removeHeader: (name: string) => removed.push(name),
  } as unknown as Response;
  middleware({ method: 'GET', url: '/', headers: {} } as Request, response, (error?: unknown) => {
    if (error) throw error;
    nextCalled = true;
  });
  if (!nextCalled) throw new Error('a header middleware that does not answer synchronously cannot be precomputed');
  return { set, removed };
}

function precomputed(middleware: RequestHandler): RequestHandler {
  const { set, removed } = recordHeaderEffects(middleware);
  return (_req: Request, res: Response, next: NextFunction) => {
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of set) res.setHeader(name, value);
    next();
  };
}

/**
 * Security headers on every response (helmet): nosniff, no framing, a CSP per path (the API's
 * `default-src 'none'` unless a policy for a longer prefix applies: /docs, or what a caller adds
 * for its static pages). Express's X-Powered-By is removed by `configureHttpApp`.
 */
export function securityHeaders(policies: readonly PathSecurityPolicy[] = [DOCS_POLICY]): RequestHandler {
  const byPrefix = [...policies]
    .sort((left, right) => right.prefix.length - left.prefix.length)
    .map((policy) => ({ policy, handler: helmetFor(policy.directives) }));
  const apiHandler = helmetFor(API_CSP);
  return (req: Request, res: Response, next: NextFunction) => {
    const chosen = byPrefix.find(({ policy }) => (policy.exact ? req.path === policy.prefix : req.path.startsWith(policy.prefix)));
    (chosen?.handler ?? apiHandler)(req, res, next);
  };
}
