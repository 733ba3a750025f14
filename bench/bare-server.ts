import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

/**
 * The HTTP bench's baseline: a bare Node `http` server that reads and parses the same JSON bodies
 * and answers a small JSON document, with none of the ledger's work. BARE_ANSWER_FILE: answer that
 * file's bytes instead (the same body as a ledger page, to separate its size from its work). Run
 * as its own process.
 */
const answer =
  process.env.BARE_ANSWER_FILE === undefined
    ? JSON.stringify({ consumptionId: 'c', creditsCharged: 1, alreadyPurchased: false, position: 1 })
    : readFileSync(process.env.BARE_ANSWER_FILE);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let status = req.method === 'POST' ? 201 : 200;
    if (req.method === 'POST') {
      try {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        status = 400;
      }
    }
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
