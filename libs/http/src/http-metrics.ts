import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram, Registry } from 'prom-client';

/** Request latency buckets (seconds). */
export const HTTP_DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** The route label of a request no route matched (a 404 of the router): never the raw path, which would explode the label set. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * HTTP requests by method, route pattern (`/v1/accounts/:accountId/consumptions`, never the raw
 * path) and status, with a latency histogram, measured from the request's arrival (Fastify's
 * onRequest) to the last byte written.
 */
export class HttpMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(readonly registry: Registry) {
    this.requests = new Counter({
      name: 'ledger_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'ledger_http_request_duration_seconds',
      help: 'HTTP request latency, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_DURATION_BUCKETS_SECONDS,
      registers: [registry],
    });
  }

  /** Called from Fastify's onResponse hook (registered by configureHttpApp): the response is written. */
  record(request: FastifyRequest, reply: FastifyReply): void {
    const labels = { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status: String(reply.statusCode) };
    this.requests.inc(labels);
    this.duration.observe(labels, reply.elapsedTime / 1000);
  }
}
