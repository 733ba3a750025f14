import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { MAX_BODY_BYTES, MAX_JSON_DEPTH } from './limits';

/** The one error body of the API: `{error, message, details?}`. */
export const ERROR_SCHEMA_NAME = 'Error';
const ERROR_REF = { $ref: `#/components/schemas/${ERROR_SCHEMA_NAME}` };

export const ERROR_SCHEMA = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', pattern: '^[A-Z_]+$', description: 'Stable code (VALIDATION_FAILED, INSUFFICIENT_CREDITS, ...)', example: 'VALIDATION_FAILED' },
    message: {
      type: 'string',
      description: 'For people; may change between versions',
      example: 'request validation failed: credits: credits must be an integer number',
    },
    details: {
      description: 'VALIDATION_FAILED: `[{field, reason}]`; domain refusals: an object with the figures behind the refusal',
      oneOf: [
        {
          type: 'array',
          items: { type: 'object', required: ['field', 'reason'], properties: { field: { type: 'string' }, reason: { type: 'string' } } },
        },
        { type: 'object' },
      ],
    },
  },
};

/** The statuses every operation may answer besides its own, and when. */
const STANDARD_ERRORS: ReadonlyArray<{ status: string; description: string; applies: (op: OperationFacts) => boolean }> = [
  { status: '400', description: 'VALIDATION_FAILED: a parameter or the body is invalid (details name the fields)', applies: (op) => op.hasInput },
  { status: '401', description: 'UNAUTHORIZED: no key, or an unknown or revoked key', applies: (op) => op.secured },
  { status: '403', description: 'FORBIDDEN: the key’s role may not call this operation, or the key is scoped to another account', applies: (op) => op.secured },
  { status: '404', description: 'ACCOUNT_NOT_FOUND: the account was never opened', applies: (op) => op.perAccount },
  {
    status: '413',
    description: `PAYLOAD_TOO_LARGE: the body is over ${MAX_BODY_BYTES} bytes`,
    applies: (op) => op.hasBody,
  },
  {
    status: '415',
    description: `UNSUPPORTED_MEDIA_TYPE: the body is not application/json, or its Content-Encoding is not supported (bodies nested deeper than ${MAX_JSON_DEPTH} levels: 400)`,
    applies: (op) => op.hasBody,
  },
  {
    status: '429',
    description: 'TOO_MANY_FAILED_AUTHENTICATIONS (this address failed too often) or RATE_LIMITED (the per-key limit); see Retry-After',
    applies: (op) => op.secured,
  },
  { status: '500', description: 'INTERNAL_ERROR or EVENT_UNREADABLE: a fault of the server (logged), never an answer to client input', applies: () => true },
  {
    status: '503',
    description: 'STORE_UNAVAILABLE, CONCURRENCY_RETRY_EXHAUSTED, TOO_MANY_HEAVY_READS, PROJECTION_LAG: retry after Retry-After seconds',
    applies: (op) => op.secured,
  },
];

interface OperationFacts {
  readonly secured: boolean;
  readonly perAccount: boolean;
  readonly hasBody: boolean;
  readonly hasInput: boolean;
}

type Json = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

/**
 * Every schema's `number` becomes `integer`: credits, positions, limits and percents are whole. A
 * rate that is fractional by nature (a daily burn) says so with `format: 'double'` and stays a number.
 */
function integersEverywhere(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) integersEverywhere(item);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const record = node as Json;
  // Amounts are integers; a figure documented as `format: double` (a rate) stays a number.
  if (record.type === 'number' && record.format !== 'double') record.type = 'integer';
  for (const value of Object.values(record)) integersEverywhere(value);
}

/**
 * Completes the generated document so that it states the whole contract: the error schema, the
 * standard error statuses on every operation they apply to (with the error schema as their body),
 * integers typed `integer`, and the API key as a plain bearer token (not a JWT). Generic: it
 * iterates over whatever operations the controllers declare.
 */
export function completeOpenApiDocument(document: OpenAPIObject): OpenAPIObject {
  const components = (document.components ??= {});
  const schemas = (components.schemas ??= {});
  schemas[ERROR_SCHEMA_NAME] = ERROR_SCHEMA as never;
  for (const scheme of Object.values(components.securitySchemes ?? {})) delete (scheme as unknown as Json).bearerFormat;
  const tags = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = (item as Json)[method] as Json | undefined;
      if (!operation) continue;
      for (const tag of (operation.tags as string[] | undefined) ?? []) tags.add(tag);
      operation.description ??= operation.summary;
      const parameters = (operation.parameters as Json[] | undefined) ?? [];
      const facts: OperationFacts = {
        secured: Array.isArray(operation.security) && operation.security.length > 0,
        perAccount: path.includes('{accountId}'),
        hasBody: operation.requestBody !== undefined,
        hasInput: operation.requestBody !== undefined || parameters.length > 0,
      };
      const responses = (operation.responses ??= {}) as Record<string, Json>;
      for (const standard of STANDARD_ERRORS) {
        if (standard.applies(facts) && responses[standard.status] === undefined) responses[standard.status] = { description: standard.description };
      }
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) >= 400 && response.content === undefined) response.content = { 'application/json': { schema: ERROR_REF } };
      }
    }
  }
  const declared = new Set((document.tags ?? []).map((tag) => tag.name));
  document.tags = [
    ...(document.tags ?? []),
    ...[...tags]
      .filter((tag) => !declared.has(tag))
      .sort()
      .map((name) => ({ name })),
  ];
  integersEverywhere(document.paths);
  integersEverywhere(schemas);
  return document;
}

/** The OpenAPI document of the app's controllers, completed. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('credit-ledger')
    .setDescription(
      'Event-sourced credit ledger: every credit movement is an immutable event. Authenticate with `Authorization: Bearer <apiKey>` (an opaque API key, not a JWT).',
    )
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key (opaque string) created with the CLI, or the superuser key' })
    .build();
  return completeOpenApiDocument(SwaggerModule.createDocument(app, config));
}

/** Serves the document at /docs (Swagger UI) and /docs/json. */
export function publishOpenApi(app: INestApplication): OpenAPIObject {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
  return document;
}
