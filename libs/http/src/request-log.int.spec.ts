import { execFileSync } from 'node:child_process';
import { constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { HttpLogger } from './request-log';

const request = {
  id: 'req-1',
  method: 'POST',
  url: '/v1/accounts/acme/consumptions',
  headers: { host: '127.0.0.1', 'content-type': 'application/json', authorization: 'Bearer secret-key' },
} as unknown as FastifyRequest;
const reply = { statusCode: 201, elapsedTime: 3 } as unknown as FastifyReply;

/** The count of dropped lines in `registry`. */
async function droppedLines(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric('ledger_log_lines_dropped_total')!.get();
  return metric.values[0]?.value ?? 0;
}

/** Reads what the pipe holds now (non-blocking), as text. */
function drain(fd: number): string {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(65_536);
  for (;;) {
    let read: number;
    try {
      read = readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
      throw error;
    }
    if (read === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, read)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

describe('HttpLogger: request lines on a destination that stops reading', () => {
  let dir: string;
  let fd: number;
  let logger: HttpLogger;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-log-'));
    const fifo = join(dir, 'stdout');
    execFileSync('mkfifo', [fifo]);
    // Read-write and non-blocking: the pipe has a reader (this test) that reads only when it wants to.
    fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  });

  afterEach(async () => {
    // The destination owns the descriptor from here: destroying it closes it (and ends its retries).
    const destination = (logger.logger as unknown as Record<symbol, NodeJS.EventEmitter & { destroy(): void }>)[pino.symbols.streamSym];
    const closed = new Promise((resolve) => destination.once('close', resolve));
    destination.destroy();
    await closed;
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps at most the bound of lines waiting, drops and counts the rest, and writes whole lines', async () => {
    const registry = new Registry();
    const bufferMaxBytes = 64 * 1024;
    logger = new HttpLogger({ logLevel: 'info', metricsRegistry: registry, destinationFd: fd, bufferMaxBytes });
    const lines = 2_000; // about 500 bytes each: far more than the pipe (64 KiB on Linux) and the bound hold
    for (let index = 0; index < lines; index++) logger.logRequest(request, reply);

    const dropped = await droppedLines(registry);
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBeLessThan(lines);

    // Once the reader reads, the lines that were kept arrive, whole, in order, with credentials redacted.
    let text = '';
    for (let attempt = 0; attempt < 100 && text.split('\n').length - 1 < lines - dropped; attempt++) {
      text += drain(fd);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const written = text.split('\n').filter((line) => line.length > 0);
    expect(written).toHaveLength(lines - dropped);
    // What was kept is what the pipe took (64 KiB on Linux) and what waited within the bound.
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(65_536 + bufferMaxBytes + written[0].length + 1);
    for (const line of written) {
      const parsed = JSON.parse(line) as { msg: string; req: { headers: Record<string, string> } };
      expect(parsed.msg).toBe('request completed');
      expect(parsed.req.headers.authorization).toBe('[redacted]');
    }
  });

  it('drops nothing while the destination keeps up', async () => {
    const registry = new Registry();
    logger = new HttpLogger({ logLevel: 'info', metricsRegistry: registry, destinationFd: fd, bufferMaxBytes: 64 * 1024 });
    let text = '';
    const received = () => text.split('\n').length - 1;
    for (let round = 1; round <= 20; round++) {
      for (let index = 0; index < 50; index++) logger.logRequest(request, reply);
      // The reader takes each round's lines before the next round: never more than a round waits.
      for (let attempt = 0; attempt < 200 && received() < round * 50; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        text += drain(fd);
      }
    }
    expect(await droppedLines(registry)).toBe(0);
    expect(text.split('\n').filter((line) => line.length > 0)).toHaveLength(1_000);
  });
});
