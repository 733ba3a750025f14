import fastify from 'fastify';
import helmet from 'helmet';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { API_CSP, DOCS_POLICY, recordHeaderEffects, securityHeaders } from './security-headers';

const IGNORED = ['date', 'etag', 'content-length', 'content-type', 'connection', 'keep-alive'];

async function headersAt(server: Server, path: string): Promise<Record<string, string>> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
    return Object.fromEntries([...res.headers].filter(([name]) => !IGNORED.includes(name)));
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The response headers helmet itself sends for `path` (a plain Node server). */
function helmetHeaders(directives: Record<string, readonly string[]>, path: string): Promise<Record<string, string>> {
  const middleware = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: directives as Record<string, string[]> },
    frameguard: { action: 'deny' },
    crossOriginResourcePolicy: false,
    crossOriginEmbedderPolicy: false,
  });
  return headersAt(
    createServer((req, res) => middleware(req, res, () => res.end('{}'))),
    path,
  );
}

/** The response headers a Fastify app with the replayed headers sends for `path`. */
async function replayedHeaders(path: string): Promise<Record<string, string>> {
  const app = fastify();
  const headers = securityHeaders([DOCS_POLICY]);
  app.addHook('onRequest', (request, reply, done) => {
    headers(request.url, reply);
    done();
  });
  app.get('/*', async () => ({ ok: true }));
  await app.ready();
  try {
    return await headersAt(app.server, path);
  } finally {
    await app.close();
  }
}

describe('security headers', () => {
  it("are exactly helmet's, per path policy, replayed from one recording", async () => {
    expect(await replayedHeaders('/v1/accounts')).toEqual(await helmetHeaders(API_CSP, '/v1/accounts'));
    expect(await replayedHeaders('/docs/index.html')).toEqual(await helmetHeaders(DOCS_POLICY.directives, '/docs/index.html'));
    const api = await replayedHeaders('/v1/accounts');
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
