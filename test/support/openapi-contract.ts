import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an OpenAPI document read as JSON
type Json = any;

const DOCUMENT_ID = 'openapi.json';

interface Route {
  readonly template: string;
  readonly pattern: RegExp;
}

/**
 * Checks real HTTP answers against the OpenAPI document the server publishes: the operation
 * exists, the status is documented, and a JSON body validates (ajv) against the documented
 * schema. Generic: it knows no endpoint, only the document.
 */
export class OpenApiContract {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly routes: Route[];

  constructor(readonly document: Json) {
    addFormats(this.ajv);
    this.ajv.addSchema(document, DOCUMENT_ID);
    // Fewer parameters first: a literal segment wins over a parameter.
    const parameters = (template: string) => template.split('{').length;
    this.routes = Object.keys(document.paths)
      .map((template) => ({
        template,
        // As the router matches: a trailing slash is the same path (fewer parameters win: /v1/accounts/ is the list).
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]*')}/?$`),
      }))
      .sort((left, right) => parameters(left.template) - parameters(right.template));
  }

  /** The problems of one answer (empty when it conforms). */
  problemsOf(method: string, url: string, status: number, contentType: string | undefined, body: unknown): string[] {
    // The path as sent (no dot-segment or percent normalisation): the router matches it so.
    const path = url.split('?')[0];
    // The first matching path that has this method (a trailing slash or an empty segment can match several).
    const matching = this.routes.filter((candidate) => candidate.pattern.test(path));
    const route = matching.find((candidate) => this.document.paths[candidate.template][method.toLowerCase()]) ?? matching[0];
    const where = `${method.toUpperCase()} ${path} → ${status}`;
    if (!route) {
      // A route the API does not have: 404 with the error body, nothing else.
      if (status !== 404) return [`${where}: no path of the OpenAPI document matches`];
      const validate = this.ajv.getSchema(`${DOCUMENT_ID}#/components/schemas/Error`);
      return validate && validate(body) ? [] : [`${where}: an unknown route must answer the error body`];
    }
    const operation = this.document.paths[route.template][method.toLowerCase()];
    if (!operation) return [`${where}: the document has no ${method.toUpperCase()} on ${route.template}`];
    const response = operation.responses[String(status)] ?? operation.responses.default;
    if (!response) return [`${where}: status ${status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`];
    const mediaType = (contentType ?? '').split(';')[0].trim();
    if (!response.content) return mediaType === '' ? [] : [`${where}: the document gives no body, the server sent ${mediaType}`];
    if (!response.content[mediaType]) return [`${where}: ${mediaType || 'no content type'} is not documented (${Object.keys(response.content).join(', ')})`];
    // JSON bodies only (application/json, application/*+json): CSV, JSON Lines and text are not parsed here.
    if (!/^application\/([a-z0-9.-]+\+)?json$/.test(mediaType)) return [];
    const validate = this.validatorFor(route.template, method.toLowerCase(), response === operation.responses.default ? 'default' : String(status), mediaType);
    if (validate(body)) return [];
    return [`${where}: the body does not match the documented schema: ${this.ajv.errorsText(validate.errors, { separator: '; ' })}`];
  }

  private validatorFor(template: string, method: string, status: string, mediaType: string): ValidateFunction {
    const pointer = ['paths', template, method, 'responses', status, 'content', mediaType, 'schema']
      .map((segment) => encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1')))
      .join('/');
    const ref = `${DOCUMENT_ID}#/${pointer}`;
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(ref, validate);
    }
    return validate;
  }
}

/** A supertest `.expect` hook: the answer must conform to the document. */
export function conformsTo(contract: OpenApiContract, method: string, url: string) {
  return (res: { status: number; headers: Record<string, string>; body: unknown }) => {
    const problems = contract.problemsOf(method, url, res.status, res.headers['content-type'], res.body);
    if (problems.length > 0) throw new Error(`OpenAPI contract: ${problems.join('\n')}`);
  };
}
