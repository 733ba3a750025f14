import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CspDirectives, PathSecurityPolicy } from '@credit-ledger/http';

/** The console's pages: each answers the app's index.html (the app routes on the client). */
export const CONSOLE_PAGES = ['/', '/history', '/breakdown', '/members', '/cycles', '/audit', '/keys', '/webhooks'] as const;
export const CONSOLE_ASSETS_PREFIX = '/assets/';
/** Hashed assets never change under their name: cached for a year. */
export const ASSET_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/** The page itself is revalidated every time (ETag), so a new build is picked up at once. */
export const PAGE_CACHE_CONTROL = 'no-cache';

/** The console's CSP: its own scripts, styles and API only; no inline script, no other origin. */
export const CONSOLE_CSP: CspDirectives = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
};

export const CONSOLE_POLICIES: PathSecurityPolicy[] = [
  ...CONSOLE_PAGES.map((page) => ({ prefix: page, directives: CONSOLE_CSP, exact: true })),
  { prefix: CONSOLE_ASSETS_PREFIX, directives: CONSOLE_CSP },
];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

interface StaticFile {
  readonly type: string;
  readonly etag: string;
  readonly identity: Buffer;
  readonly gzip: Buffer;
  readonly br: Buffer;
}

function loadFile(path: string): StaticFile {
  const identity = readFileSync(path);
  return {
    type: TYPES[extname(path)] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 22)}"`,
    identity,
    gzip: gzipSync(identity, { level: 9 }),
    br: brotliCompressSync(identity),
  };
}

/**
 * Where the built console is: next to the compiled server (dist/apps/ledger-web), or under the
 * working directory's dist/ (tests run from the sources). A build has its hashed assets; the
 * sources' own index.html (apps/ledger-web) does not count.
 */
export function consoleDirectory(): string | undefined {
  const candidates = [join(__dirname, '../../ledger-web'), join(process.cwd(), 'dist/apps/ledger-web')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'assets')));
}

function send(req: FastifyRequest, reply: FastifyReply, file: StaticFile, cacheControl: string): FastifyReply {
  reply.header('Content-Type', file.type);
  reply.header('Cache-Control', cacheControl);
  reply.header('ETag', file.etag);
  reply.header('Vary', 'Accept-Encoding');
  if (req.headers['if-none-match'] === file.etag) return reply.status(304).send();
  const accepted = String(req.headers['accept-encoding'] ?? '');
  const [body, encoding] = /\bbr\b/.test(accepted) ? [file.br, 'br'] : /\bgzip\b/.test(accepted) ? [file.gzip, 'gzip'] : [file.identity, undefined];
  if (encoding) reply.header('Content-Encoding', encoding);
  reply.header('Content-Length', String(body.length));
  return reply.status(200).send(req.method === 'HEAD' ? undefined : body);
}

/**
 * Serves the built console (apps/ledger-web → dist/apps/ledger-web) from memory, compressed once
 * at start: a GET (and HEAD) route per page answers index.html, one per hashed asset its file.
 * Everything else (the JSON API, /docs, /health, /metrics) is the API's; so is an unknown asset
 * (404). Registered on the app's Fastify instance before Nest adds the API's routes.
 */
export function serveConsole(fastify: FastifyInstance, directory: string): void {
  const index = loadFile(join(directory, 'index.html'));
  const assetsDir = join(directory, 'assets');
  for (const page of CONSOLE_PAGES) fastify.get(page, (req, reply) => send(req, reply, index, PAGE_CACHE_CONTROL));
  if (!existsSync(assetsDir)) return;
  for (const name of readdirSync(assetsDir)) {
    const asset = loadFile(join(assetsDir, name));
    fastify.get(`${CONSOLE_ASSETS_PREFIX}${name}`, (req, reply) => send(req, reply, asset, ASSET_CACHE_CONTROL));
  }
}
