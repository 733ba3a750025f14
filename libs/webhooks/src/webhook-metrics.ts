import { Counter, Gauge, Registry } from 'prom-client';
import { EventStore } from '@credit-ledger/event-store';
import { DISPATCHER_NAME, WebhookDispatching } from './dispatcher';
import { WebhookStore } from './store/webhook-store';

/**
 * Webhook metrics on the shared registry (`/metrics` of the API, the worker's metrics port):
 * the backlog and the dispatcher's distance to the log are read from the shared store at scrape
 * time, so every process reports the same backlog whichever holds the lease; attempts count what
 * this process sent.
 */
export function registerWebhookMetrics(registry: Registry, store: WebhookStore, log: EventStore, dispatcher: WebhookDispatching | null): void {
  new Gauge({
    name: 'ledger_webhook_backlog_deliveries',
    help: 'Webhook deliveries not settled yet (due, retrying, or held behind an earlier delivery of their endpoint and account)',
    registers: [registry],
    async collect() {
      this.set(await store.pendingDeliveries());
    },
  });
  new Gauge({
    name: 'ledger_webhook_dispatcher_lag_events',
    help: 'Global log positions the webhook dispatcher has not derived notifications from yet',
    registers: [registry],
    async collect() {
      const [head, checkpoint] = await Promise.all([log.headPosition(), store.checkpoint(DISPATCHER_NAME)]);
      this.set(Math.max(0, head - checkpoint));
    },
  });
  if (!dispatcher) return;
  const seen = { succeeded: 0, failed: 0 };
  new Counter({
    name: 'ledger_webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts made by this process, by outcome (any 2xx is succeeded)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const stats = dispatcher.stats();
      this.inc({ outcome: 'succeeded' }, stats.succeeded - seen.succeeded);
      this.inc({ outcome: 'failed' }, stats.failedAttempts - seen.failed);
      seen.succeeded = stats.succeeded;
      seen.failed = stats.failedAttempts;
    },
  });
}
