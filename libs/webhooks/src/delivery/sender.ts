import { Agent as HttpAgent, request as httpRequest, IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { LookupFunction } from 'node:net';
import { MAX_IN_FLIGHT_PER_ENDPOINT, WEBHOOK_LOGGED_RESPONSE_CHARS, WEBHOOK_MAX_RESPONSE_BYTES, WEBHOOK_TIMEOUT_MS } from '../limits';
import { ResolvedTarget } from './url-safety';

export interface SendResult {
  /** null when no answer came (refused, timed out, reset). */
  readonly statusCode: number | null;
  readonly latencyMs: number;
  /** The first characters of the answer, or what went wrong. */
  readonly response: string | null;
  readonly error: string | null;
}

/**
 * POSTs signed JSON with kept-alive connections (one pool per host and port, at most
 * MAX_IN_FLIGHT_PER_ENDPOINT sockets each), never following redirects, reading at most
 * WEBHOOK_MAX_RESPONSE_BYTES of the answer, giving up after WEBHOOK_TIMEOUT_MS.
 */
export class WebhookSender {
  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT_PER_ENDPOINT, maxFreeSockets: 16 });
  private readonly https = new HttpsAgent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT_PER_ENDPOINT, maxFreeSockets: 16 });

  constructor(private readonly timeoutMs = WEBHOOK_TIMEOUT_MS) {}

  send(target: ResolvedTarget, headers: Record<string, string>, body: string): Promise<SendResult> {
    const started = performance.now();
    const secure = target.url.protocol === 'https:';
    // New connections go to the address that was checked, never to a fresh resolution.
    const pinned: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all)
        (callback as (e: null, list: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
      else callback(null, target.address, target.family);
    };
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: Omit<SendResult, 'latencyMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...result, latencyMs: Math.round(performance.now() - started) });
      };
      const request = (secure ? httpsRequest : httpRequest)(
        target.url,
        {
          method: 'POST',
          agent: secure ? this.https : this.http,
          lookup: pinned,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'credit-ledger-webhooks/1' },
        },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const done = () => {
            const text = Buffer.concat(chunks).subarray(0, WEBHOOK_MAX_RESPONSE_BYTES).toString('utf8');
            finish({ statusCode: response.statusCode ?? null, response: text.slice(0, WEBHOOK_LOGGED_RESPONSE_CHARS), error: null });
          };
          response.on('data', (chunk: Buffer) => {
            chunks.push(chunk);
            size += chunk.length;
            if (size >= WEBHOOK_MAX_RESPONSE_BYTES) {
              done(); // enough: the rest is not read, and the connection is not reused
              response.destroy();
            }
          });
          response.on('end', done);
          response.on('error', done);
        },
      );
      const timer = setTimeout(() => {
        request.destroy(new Error(`no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      request.on('error', (e) => finish({ statusCode: null, response: null, error: e.message }));
      request.end(body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
