import { Document, Spectral } from '@stoplight/spectral-core';
import { Json as JsonParser } from '@stoplight/spectral-parsers';
import { oas } from '@stoplight/spectral-rulesets';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { LedgerHarness } from '../support/ledger-harness';
import { Json } from '../support/server-process';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const SWAGGER_PARSER = join(__dirname, '../../node_modules/@apidevtools/swagger-parser');
const OPENAPI_TYPESCRIPT_CLI = join(__dirname, '../../node_modules/openapi-typescript/bin/cli.js');

/** Every operation of the document (generic: endpoints added later are checked too). */
function operationsOf(document: Json): Array<{ path: string; method: string; operation: Json }> {
  return Object.entries(document.paths as Record<string, Json>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ path, method, operation: item[method] })),
  );
}

/** Every schema node of the document, with its JSON path. */
function* schemaNodes(node: unknown, path = '#'): Generator<{ path: string; node: Json }> {
  if (node === null || typeof node !== 'object') return;
  yield { path, node };
  for (const [key, value] of Object.entries(node)) yield* schemaNodes(value, `${path}/${key}`);
}

describe('OpenAPI document: valid, complete, checked', () => {
  let h: LedgerHarness;
  let document: Json;
  beforeAll(async () => {
    h = await LedgerHarness.start();
    document = h.contract.document;
  });
  afterAll(() => h.stop());

  it('validates with swagger-parser (every $ref resolves)', () => {
    // In a child process: the parser's dependencies are ES modules, which Node loads and jest does not.
    const dir = mkdtempSync(join(tmpdir(), 'ledger-openapi-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(document));
      const script = `require(${JSON.stringify(SWAGGER_PARSER)}).validate(${JSON.stringify(join(dir, 'openapi.json'))}).then(() => console.log('valid'), (e) => { console.log(e.message); process.exitCode = 1; })`;
      const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
      expect(run.stdout.trim()).toBe('valid');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes Spectral's spectral:oas ruleset with zero errors", async () => {
    const spectral = new Spectral();
    spectral.setRuleset({ extends: [[oas as never, 'all']] });
    const results = await spectral.run(new Document(JSON.stringify(document), JsonParser));
    const errors = results.filter((result) => result.severity === 0).map((result) => `${result.code} at ${result.path.join('.')}: ${result.message}`);
    expect(errors).toEqual([]);
  });

  it('every operation documents a response schema for each status, 4xx/5xx with the one error schema', () => {
    const problems: string[] = [];
    for (const { path, method, operation } of operationsOf(document)) {
      const statuses = Object.keys(operation.responses ?? {});
      if (!statuses.some((status) => status.startsWith('2'))) problems.push(`${method} ${path}: no 2xx response`);
      for (const status of statuses) {
        const content = operation.responses[status].content;
        if (!content || Object.keys(content).length === 0) problems.push(`${method} ${path} ${status}: no content`);
        for (const [mediaType, media] of Object.entries(content ?? {}) as Array<[string, Json]>) {
          if (!media.schema) problems.push(`${method} ${path} ${status} ${mediaType}: no schema`);
          if (Number(status) >= 400 && !['/health', '/health/ready'].includes(path) && media.schema?.$ref !== '#/components/schemas/Error')
            problems.push(`${method} ${path} ${status}: not the error schema`);
        }
      }
      const secured = (operation.security ?? []).length > 0;
      const expected = [
        ...(secured ? ['401', '403', '429', '503'] : []),
        ...(path.includes('{accountId}') ? ['404'] : []),
        ...(operation.requestBody ? ['400', '413', '415'] : []),
      ];
      for (const status of expected) if (!statuses.includes(status)) problems.push(`${method} ${path}: ${status} not documented`);
    }
    expect(problems).toEqual([]);
    expect(document.components.schemas.Error.required).toEqual(['error', 'message']);
  });

  it('types integers as integer, never number (but for rates documented as format double)', () => {
    const numbers = [...schemaNodes(document)].filter(({ node }) => node.type === 'number' && node.format !== 'double').map(({ path }) => path);
    expect(numbers).toEqual([]);
    const credits = document.paths['/v1/accounts/{accountId}/consumptions'].post;
    const body = credits.requestBody.content['application/json'].schema;
    const schema = body.$ref ? document.components.schemas[body.$ref.split('/').pop()] : body;
    expect(schema.properties.credits.type).toBe('integer');
  });

  it('describes the API key as a plain bearer token, not a JWT', () => {
    const schemes = Object.values(document.components.securitySchemes) as Json[];
    expect(schemes).toEqual([expect.objectContaining({ type: 'http', scheme: 'bearer' })]);
    expect(schemes[0].bearerFormat).toBeUndefined();
  });

  it('documents /metrics and every field /events returns', () => {
    expect(document.paths['/metrics'].get.responses['200'].content['text/plain']).toBeDefined();
    const item = document.paths['/v1/accounts/{accountId}/events'].get.responses['200'].content['application/json'].schema.properties.items.items;
    expect(Object.keys(item.properties).sort()).toEqual(['data', 'eventId', 'metadata', 'position', 'revision', 'type']);
    const page = document.paths['/v1/accounts/{accountId}/events'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(page.properties).sort()).toEqual(['accountId', 'items', 'nextAfter', 'streamRevision']);
  });

  it('openapi-typescript generates a client whose response types are not empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-openapi-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(document));
      const run = spawnSync(process.execPath, [OPENAPI_TYPESCRIPT_CLI, join(dir, 'openapi.json'), '-o', join(dir, 'api.ts')], { encoding: 'utf8' });
      expect(run.status).toBe(0);
      expect(readFileSync(join(dir, 'api.ts'), 'utf8')).toContain('export interface paths');
      // A probe per 2xx JSON answer: its generated type must have at least one key.
      const probes = operationsOf(document).flatMap(({ path, method, operation }, index) =>
        Object.entries(operation.responses as Record<string, Json>)
          .filter(([status, response]) => status.startsWith('2') && response.content?.['application/json'])
          .map(
            ([status]) =>
              `type Body${index}_${status} = paths[${JSON.stringify(path)}][${JSON.stringify(method)}]['responses'][${status}]['content']['application/json'];\n` +
              `export const probe${index}_${status}: [keyof Body${index}_${status}] extends [never] ? 'empty' : 'typed' = 'typed';`,
          ),
      );
      expect(probes.length).toBeGreaterThan(15);
      writeFileSync(join(dir, 'probe.ts'), `import type { paths } from './api';\n${probes.join('\n')}\n`);
      const program = ts.createProgram([join(dir, 'probe.ts')], { strict: true, noEmit: true, skipLibCheck: true });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
