import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the JSON payload, read field by field by the assertions
  readonly json: any;
  /** The receiver's own order of arrival. */
  readonly seq: number;
}

export interface Reply {
  readonly status: number;
  readonly delayMs?: number;
  readonly body?: string;
}

/** A real HTTP receiver on loopback: records every request (its answer decided per request by `reply`). */
export class WebhookReceiver {
  readonly received: Received[] = [];
  reply: (request: Received, attempt: number) => Reply = () => ({ status: 200 });
  /** Requests answered so far (a slow answer counts once it is sent). */
  answered = 0;
  private readonly attemptsById = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = '/hooks'): Promise<WebhookReceiver> {
    const holder: { receiver?: WebhookReceiver } = {};
    const server = createServer((req, res) => {
      const receiver = holder.receiver;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const request: Received = { headers: req.headers, body, json: JSON.parse(body), seq: receiver!.received.length };
        receiver!.received.push(request);
        const id = String(req.headers['webhook-id']);
        const attempt = (receiver!.attemptsById.get(id) ?? 0) + 1;
        receiver!.attemptsById.set(id, attempt);
        const reply = receiver!.reply(request, attempt);
        const send = () => {
          res.writeHead(reply.status, { 'content-type': 'text/plain' });
          res.end(reply.body ?? 'ok');
          receiver!.answered++;
        };
        if (reply.delayMs) setTimeout(send, reply.delayMs);
        else send();
      });
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    holder.receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}${path}`);
    return holder.receiver;
  }

  /** Distinct webhook-ids received, in the order first received. */
  ids(): string[] {
    return [...new Set(this.received.map((request) => String(request.headers['webhook-id'])))];
  }

  ofType(type: string): Received[] {
    return this.received.filter((request) => request.json.type === type);
  }

  /** Checks the Standard Webhooks signature with the `standardwebhooks` library; returns the payload or throws. */
  static verify(secret: string, request: Received): unknown {
    return new Webhook(secret).verify(request.body, {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls until `check` holds (it is given up after `timeoutMs`: the test fails with the last error). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
