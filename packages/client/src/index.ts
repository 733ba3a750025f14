import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

export type { components, operations, paths };

/** The API's error body: `{error: CODE, message, details?}`. */
export type LedgerErrorBody = components['schemas']['Error'];

export interface LedgerClientOptions {
  /** Where the API is: `https://ledger.example.com` (empty string: the page's own origin). */
  readonly baseUrl: string;
  /** An API key (`clk_…`) or the superuser key; sent as `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /** A fetch implementation (tests, Node before 18); default: the global one. */
  readonly fetch?: typeof fetch;
}

export type LedgerClient = Client<paths>;

/**
 * A client whose paths, parameters, bodies and answers are typed from the server's OpenAPI
 * document (generated at build time): a call the contract does not allow does not compile.
 */
export function createLedgerClient(options: LedgerClientOptions): LedgerClient {
  const client = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  if (options.apiKey !== undefined) client.use(bearer(options.apiKey));
  return client;
}

/** Adds `Authorization: Bearer <apiKey>` to every request. */
export function bearer(apiKey: string): Middleware {
  return {
    onRequest({ request }) {
      request.headers.set('Authorization', `Bearer ${apiKey}`);
      return request;
    },
  };
}

/** An answer that is not 2xx: its status, the stable error code and the message. */
export class LedgerApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds: number | undefined,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'LedgerApiError';
  }
}

/** The data of a call, or a LedgerApiError carrying the status, code and Retry-After. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok && data !== undefined) return data;
  const body = (error ?? {}) as Partial<LedgerErrorBody>;
  const retryAfter = response.headers.get('Retry-After');
  throw new LedgerApiError(
    response.status,
    body.error ?? `HTTP_${response.status}`,
    body.message ?? response.statusText,
    retryAfter === null ? undefined : Number(retryAfter),
    body.details,
  );
}
