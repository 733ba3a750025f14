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
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: directives as Record<string, string[]> },
    frameguard: { action: 'deny' },
    // The API is called cross-origin by design (keys, not cookies): no CORP/COEP restrictions on it.
    crossOriginResourcePolicy: false,
    crossOriginEmbedderPolicy: false,
  });
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
