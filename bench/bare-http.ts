import { createServer, IncomingMessage, ServerResponse } from 'node:http';

/** Answers a JSON body with its length, as the bare servers do. */
export function answerJson(res: ServerResponse, status: number, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * A bare Node `http` server on 127.0.0.1:PORT (0: any) that reads each request's whole body, then
 * hands it on: the bench's baseline servers, with nothing else around them.
 */
export function listenBare(onRequest: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => onRequest(req, Buffer.concat(chunks), res));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  return server;
}
