import fc from 'fast-check';
import { EVENT_STORE, EventStore } from '@credit-ledger/event-store';
import { RESERVED_NAMES } from '@credit-ledger/domain';
import { ADMIN_KEY, LedgerHarness, PLAN } from '../support/ledger-harness';
import { contractRequests } from '../support/ledger-harness';
import { Json } from '../support/server-process';

/** Fixed seed: a failure replays; change it (FUZZ_SEED) to explore further. */
const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261121);
/** The fuzz stops after this long, whatever the number of runs done. */
const FUZZ_TIME_LIMIT_MS = 60_000;
const FUZZ_RUNS = 400;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Strings a hostile or careless client sends: reserved names, invisible and broken characters, formulas, huge. */
const hostileString = fc.oneof(
  fc.constantFrom(
    ...RESERVED_NAMES,
    'prototype',
    '',
    ' ',
    'a\u200bb',
    'a\u202eb',
    '\ud800',
    '=1+1',
    '2026-02-30T00:00:00Z',
    '0000-01-01T00:00:00Z',
    'x'.repeat(5_000),
  ),
  fc.string(),
  fc.fullUnicodeString({ maxLength: 40 }),
);
const hostileNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-1, 0, 2 ** 53, 1e308, Number.MAX_SAFE_INTEGER));
const anyJson = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }));

/** An arbitrary from a JSON schema of the document: values that conform often, hostile ones too. */
function arbitraryOf(document: Json, schema: Json, depth = 0): fc.Arbitrary<unknown> {
  if (schema?.$ref) return arbitraryOf(document, document.components.schemas[schema.$ref.split('/').pop()], depth);
  if (depth > 6 || schema === undefined) return anyJson;
  const conforming = ((): fc.Arbitrary<unknown> => {
    if (schema.oneOf) return fc.oneof(...schema.oneOf.map((option: Json) => arbitraryOf(document, option, depth + 1)));
    if (schema.enum) return fc.constantFrom(...schema.enum);
    switch (schema.type) {
      case 'integer':
        return fc.integer({ min: schema.minimum ?? -10, max: Math.min(schema.maximum ?? 1_000, 1_000_000) });
      case 'boolean':
        return fc.boolean();
      case 'string':
        return schema.example !== undefined ? fc.oneof(fc.constant(String(schema.example)), hostileString) : hostileString;
      case 'array':
        return fc.array(arbitraryOf(document, schema.items, depth + 1), { maxLength: 3 });
      case 'object': {
        const properties = Object.fromEntries(
          Object.entries(schema.properties ?? {}).map(([name, property]) => [name, arbitraryOf(document, property, depth + 1)]),
        );
        const record = fc.record(properties, { requiredKeys: schema.required ?? [] });
        const extra = schema.additionalProperties
          ? fc.dictionary(
              fc.oneof(fc.constantFrom('email', 'mobile', ...RESERVED_NAMES), fc.string({ maxLength: 8 })),
              arbitraryOf(document, schema.additionalProperties, depth + 1),
              { maxKeys: 3 },
            )
          : fc.constant({});
        return fc.tuple(record, extra).map(([known, more]) => ({ ...more, ...known }));
      }
      default:
        return anyJson;
    }
  })();
  return fc.oneof({ weight: 4, arbitrary: conforming }, { weight: 1, arbitrary: anyJson });
}

/** Percent-encodes the UTF-8 bytes (a lone surrogate becomes U+FFFD's bytes, as any client would send it). */
function percentEncoded(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

interface Operation {
  readonly path: string;
  readonly method: (typeof METHODS)[number];
  readonly operation: Json;
}

/** One request: the operation, path and query values, and a body (or raw text), all from the document. */
function requestOf(document: Json, { path, method, operation }: Operation) {
  const parameters: Json[] = operation.parameters ?? [];
  const pathValues = fc.record(
    Object.fromEntries(
      parameters
        .filter((p) => p.in === 'path')
        .map((p) => [p.name, fc.oneof(fc.constantFrom('acme', 'acme', 'never-opened', ...RESERVED_NAMES), hostileString)]),
    ),
  );
  const queryValues = fc.record(
    Object.fromEntries(parameters.filter((p) => p.in === 'query').map((p) => [p.name, fc.oneof(arbitraryOf(document, p.schema).map(String), hostileString)])),
    { requiredKeys: [] },
  );
  const bodySchema = operation.requestBody?.content?.['application/json']?.schema;
  const body = bodySchema
    ? fc.oneof(
        { weight: 6, arbitrary: arbitraryOf(document, bodySchema).map((value) => ({ json: value })) },
        { weight: 1, arbitrary: fc.string().map((raw) => ({ raw })) },
      )
    : fc.constant(undefined);
  return fc.record({ pathValues, queryValues, body }).map(({ pathValues: values, queryValues: query, body: sent }) => {
    const url = path.replace(/\{([^}]+)\}/g, (_, name: string) => percentEncoded(String((values as Record<string, unknown>)[name])));
    const search = new URLSearchParams(Object.entries(query).filter(([, value]) => value !== undefined) as Array<[string, string]>).toString();
    return { method, url: search ? `${url}?${search}` : url, body: sent as { json?: unknown; raw?: string } | undefined };
  });
}

describe('fuzz: random and mutated requests generated from the OpenAPI document', () => {
  let h: LedgerHarness;
  beforeAll(async () => {
    h = await LedgerHarness.start();
    await h.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
  });
  afterAll(() => h.stop());

  it(`never answers 500, and a refused request never changes the event count (seed ${FUZZ_SEED}, at most ${FUZZ_TIME_LIMIT_MS / 1000} s)`, async () => {
    const document = h.contract.document;
    const operations: Operation[] = Object.entries(document.paths as Record<string, Json>).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({ path, method, operation: item[method] })),
    );
    expect(operations.length).toBeGreaterThan(15);
    const store = h.app.get<EventStore>(EVENT_STORE);
    // Every answer is also checked against the document by the harness (status documented, body schema).
    const requests = contractRequests(h.app.getHttpServer(), h.contract, { Authorization: `Bearer ${ADMIN_KEY}` });
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(...operations.map((operation) => requestOf(document, operation))), async ({ method, url, body }) => {
        const before = await store.headPosition();
        let test = requests[method](url);
        const text = body?.raw ?? (body === undefined ? undefined : JSON.stringify(body.json));
        if (text !== undefined) test = test.set('Content-Type', 'application/json').send(text);
        const res = await test;
        sent++;
        expect(res.status).not.toBe(500);
        if (res.status >= 400) expect(await store.headPosition()).toBe(before);
      }),
      { seed: FUZZ_SEED, numRuns: FUZZ_RUNS, interruptAfterTimeLimit: FUZZ_TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
    expect(sent).toBeGreaterThan(50);
  });
});
