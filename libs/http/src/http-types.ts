import type { Readable } from 'node:stream';

/**
 * What a controller sets on a reply: its status and a header. Fastify's reply has both (as had
 * Express's response), so controllers depend on this shape and not on a framework's types.
 */
export interface HttpReply {
  status(code: number): unknown;
  header(name: string, value: string): unknown;
}

/** A reply a handler sends itself: a stream (sent with backpressure) and the raw response's events (`close`: the client went away). */
export interface StreamingReply extends HttpReply {
  send(payload: Readable): unknown;
  readonly raw: NodeJS.EventEmitter;
}

/** What the guard, the decorators and the heavy-read predicates read of a request. */
export interface HttpRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly params?: Readonly<Record<string, string | undefined>>;
  readonly query?: Readonly<Record<string, unknown>>;
  readonly body?: unknown;
  readonly ip?: string;
  readonly socket?: { readonly remoteAddress?: string };
}
