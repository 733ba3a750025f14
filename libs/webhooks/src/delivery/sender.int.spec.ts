import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { WEBHOOK_MAX_RESPONSE_BYTES } from '../limits';
import { ResolvedTarget } from './url-safety';
import { WebhookSender } from './sender';

/** The sender against real receivers on loopback: redirects, oversized answers, silence, pinned addresses. */
describe('webhook sender (real HTTP receivers on loopback)', () => {
  const servers: Server[] = [];
  const sender = new WebhookSender(300);

  afterAll(async () => {
    sender.close();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  async function receiver(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number; hits: string[] }> {
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => handle(req, res));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, hits };
  }

  const target = (url: string): ResolvedTarget => ({ url: new URL(url), address: '127.0.0.1', family: 4 });

  it('never follows a redirect: the 3xx is the answer, and its Location receives nothing', async () => {
    const elsewhere = await receiver((_req, res) => res.end('should not be reached'));
    const redirecting = await receiver((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/stolen` });
      res.end();
    });
    const result = await sender.send(target(`http://127.0.0.1:${redirecting.port}/hook`), {}, '{"a":1}');
    expect(result.statusCode).toBe(302);
    expect(result.error).toBeNull();
    expect(redirecting.hits).toEqual(['POST /hook']);
    expect(elsewhere.hits).toEqual([]);
  });

  it(`reads at most ${WEBHOOK_MAX_RESPONSE_BYTES} bytes of an answer and then drops the connection`, async () => {
    let written = 0;
    let closedEarly = false;
    const chunk = Buffer.alloc(16 * 1024, 'x');
    const huge = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.on('close', () => (closedEarly = !res.writableFinished));
      // 64 MiB if the client kept reading; it must stop long before.
      const pump = () => {
        while (written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const result = await sender.send(target(`http://127.0.0.1:${huge.port}/`), {}, '{}');
    expect(result.statusCode).toBe(200);
    expect(result.response).toMatch(/^x+$/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closedEarly).toBe(true);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('gives up on a receiver that never answers: no status, the reason kept', async () => {
    const silent = await receiver(() => undefined);
    const result = await sender.send(target(`http://127.0.0.1:${silent.port}/`), {}, '{}');
    expect(result.statusCode).toBeNull();
    expect(result.error).toMatch(/no answer within 300 ms/);
  });

  it('connects to the checked address, never to a fresh resolution of the name', async () => {
    const checked = await receiver((req, res) => res.end(String(req.headers.host)));
    // The name does not resolve at all: a connection can only come from the pinned address.
    const result = await sender.send(
      { url: new URL(`http://webhooks.example.invalid:${checked.port}/pinned`), address: '127.0.0.1', family: 4 },
      { 'webhook-id': 'msg_1' },
      '{}',
    );
    expect(result.statusCode).toBe(200);
    expect(result.response).toBe(`webhooks.example.invalid:${checked.port}`);
    expect(checked.hits).toEqual(['POST /pinned']);
  });
});
