import express, { RequestHandler } from 'express';
import helmet from 'helmet';
import { AddressInfo } from 'node:net';
import { API_CSP, DOCS_POLICY, recordHeaderEffects, securityHeaders } from './security-headers';

/** The response headers an Express app with `middleware` sends for `path`. */
async function headersOf(middleware: RequestHandler, path: string): Promise<Record<string, string>> {
  const app = express();
  app.use(middleware);
  app.get(/.*/, (_req, res) => void res.json({ ok: true }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
    const headers = Object.fromEntries([...res.headers].filter(([name]) => !['date', 'etag', 'content-length', 'connection', 'keep-alive'].includes(name)));
    return headers;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const helmetOf = (directives: Record<string, readonly string[]>) =>
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: directives as Record<string, string[]> },
    frameguard: { action: 'deny' },
    crossOriginResourcePolicy: false,
    crossOriginEmbedderPolicy: false,
  });

describe('security headers', () => {
  it("are exactly helmet's, per path policy, replayed from one recording", async () => {
    const precomputed = securityHeaders([DOCS_POLICY]);
    expect(await headersOf(precomputed, '/v1/accounts')).toEqual(await headersOf(helmetOf(API_CSP), '/v1/accounts'));
    expect(await headersOf(precomputed, '/docs/index.html')).toEqual(await headersOf(helmetOf(DOCS_POLICY.directives), '/docs/index.html'));
    const api = await headersOf(precomputed, '/v1/accounts');
    expect(api).toMatchObject({
      'content-security-policy': expect.stringContaining("default-src 'none'"),
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
    expect(api['x-powered-by']).toBeUndefined();
  });

  it('refuse to precompute a middleware that does not answer synchronously', () => {
    expect(() => recordHeaderEffects((_req, _res, next) => void setImmediate(next))).toThrow(/synchronously/);
  });
});
