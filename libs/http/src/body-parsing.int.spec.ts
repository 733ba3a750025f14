import fc from 'fast-check';
import { createServer, IncomingMessage, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ApiError } from './api-error';
import { bodyParserJson, JsonBodyParser, jsonBodyParser } from './body-parsing';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from './limits';

/** What a parser made of a request: the body, or the contract's error. */
type Outcome = { body: unknown } | { status: number; code: string; message: string; details: unknown };

const PARSERS: Record<string, JsonBodyParser> = { '/ledger': jsonBodyParser(), '/body-parser': bodyParserJson() };

function outcomeOf(error: ApiError | null, body: unknown): Outcome {
  if (error === null) return { body: body === undefined ? '(undefined)' : body };
  return { status: error.getStatus(), code: error.code, message: error.message, details: error.details ?? null };
}

function send(server: Server, path: string, headers: Record<string, string>, bytes: Buffer): Promise<Outcome> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', path, headers: { ...headers, 'content-length': String(bytes.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Outcome));
    });
    req.on('error', reject);
    req.end(bytes);
  });
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset="UTF-8"',
  'Application/JSON ; charset = utf-8',
  'application/problem+json',
  'application/json; charset=utf-16le',
  'application/json; charset=latin1',
  'application/json; boundary=x',
];

/** Texts near JSON: valid values, their truncations, reserved keys, lone surrogates, deep nesting, whitespace. */
const texts = fc.oneof(
  fc.json(),
  fc.json().map((text) => text.slice(0, Math.max(0, text.length - 1))),
  fc.string(),
  fc.fullUnicodeString(),
  fc.constantFrom(
    '',
    ' \n\t',
    '{"__proto__":{"a":1}}',
    '{"constructor":1}',
    '{"a":"\\ud800"}',
    '["\\udc00x"]',
    '{"a":1}x',
    ' 1',
    'null',
    '"text"',
    `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`,
    `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`,
    '{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}',
  ),
);
const bodies = fc.oneof(
  texts.map((text) => Buffer.from(text, 'utf8')),
  fc.tuple(fc.constantFrom('', ' ', '\r\n'), texts).map(([space, text]) => Buffer.concat([BOM, Buffer.from(space + text, 'utf8')])),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.tuple(fc.json(), fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([text, bytes]) => Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from(bytes)])),
);

describe('the plain JSON body reader against body-parser (a real HTTP server)', () => {
  let server: Server;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      PARSERS[req.url ?? '']!(req, (error, body) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(outcomeOf(error, body)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('gives the same body or the same error for any body and JSON content type (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CONTENT_TYPES), fc.constantFrom(undefined, 'identity', 'IDENTITY'), bodies, async (contentType, encoding, bytes) => {
        const headers = { 'content-type': contentType, ...(encoding === undefined ? {} : { 'content-encoding': encoding }) };
        const [plain, reference] = await Promise.all([send(server, '/ledger', headers, bytes), send(server, '/body-parser', headers, bytes)]);
        expect(plain).toEqual(reference);
      }),
      { numRuns: 600 },
    );
  });

  it('a body at MAX_BODY_BYTES is read, one byte more is 413, as with body-parser', async () => {
    const fill = (bytes: number) => Buffer.from(`{"a":"${'x'.repeat(bytes - 8)}"}`, 'utf8');
    for (const size of [MAX_BODY_BYTES, MAX_BODY_BYTES + 1]) {
      const bytes = fill(size);
      expect(bytes.length).toBe(size);
      const headers = { 'content-type': 'application/json' };
      const [plain, reference] = await Promise.all([send(server, '/ledger', headers, bytes), send(server, '/body-parser', headers, bytes)]);
      expect(plain).toEqual(reference);
      if (size > MAX_BODY_BYTES) expect(plain).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
      else expect(plain).toEqual({ body: { a: 'x'.repeat(size - 8) } });
    }
  });
});
