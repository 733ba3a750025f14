import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * The benchmark's receivers, in a process of their own: `count` HTTP servers on loopback, each
 * answering 204 at once and reporting every arrival (grant id, epoch ms) to the parent.
 */
let arrivals: [string, number][] = [];
process.on('message', async (message: { count: number }) => {
  const ports: number[] = [];
  for (let index = 0; index < message.count; index++) {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const at = Date.now();
        const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { grantId: string } };
        arrivals.push([payload.data.grantId, at]);
        res.writeHead(204).end();
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports.push((server.address() as AddressInfo).port);
  }
  process.send!({ ports });
  setInterval(() => {
    if (arrivals.length === 0) return;
    process.send!({ arrivals });
    arrivals = [];
  }, 50);
});
