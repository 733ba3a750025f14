import { createServer, Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import { EventStore } from '@credit-ledger/event-store';
import { EventRelay, KafkaWorkerConfig, Messaging, MessagingAdmin, UsageIngestor } from '@credit-ledger/messaging';

/** A scrape never waits longer than this for the broker (the lag gauge is then left out). */
export const CONSUMER_LAG_TIMEOUT_MS = 2_000;

/** A counter whose value is read from a running total at scrape time. */
function readCounter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => ({ value: number } & Record<string, string | number>)[] | undefined,
) {
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const sample of read() ?? []) {
        const { value, ...labels } = sample;
        this.inc(labels as never, value);
      }
    },
  });
}

/**
 * The worker's own metrics on the ledger's registry: Kafka consumer lag of the usage group
 * (end offset - committed offset, per partition), ingested messages by outcome (dead-lettered
 * included), and the relay's published events and lag behind the log.
 */
export function registerWorkerMetrics(
  registry: Registry,
  parts: { messaging: Messaging; kafka: KafkaWorkerConfig; store: EventStore; ingestor?: UsageIngestor; relay?: EventRelay },
): { close(): Promise<void> } {
  let admin: Promise<MessagingAdmin> | undefined;
  const { ingestor, relay, kafka } = parts;
  readCounter(registry, 'ledger_kafka_usage_messages_total', 'Usage messages handled by this worker, by outcome', ['outcome'], () => {
    if (!ingestor) return undefined;
    const stats = ingestor.stats();
    return [
      { outcome: 'applied', value: stats.applied },
      { outcome: 'duplicate', value: stats.duplicates },
      { outcome: 'refused', value: stats.refused },
      { outcome: 'dead_lettered', value: stats.deadLettered },
    ];
  });
  readCounter(registry, 'ledger_kafka_dead_lettered_messages_total', 'Usage messages this worker sent to the dead-letter topic', [], () =>
    ingestor ? [{ value: ingestor.stats().deadLettered }] : undefined,
  );
  readCounter(registry, 'ledger_kafka_relay_published_events_total', 'Events this worker published to the events topic', [], () =>
    relay ? [{ value: relay.stats().published }] : undefined,
  );
  new Gauge({
    name: 'ledger_kafka_relay_lag_events',
    help: 'Events in the global log not yet published by the relay (head position - relay checkpoint)',
    registers: [registry],
    async collect() {
      this.reset();
      if (!relay) return;
      const head = await parts.store.headPosition().catch(() => undefined);
      if (head !== undefined) this.set(Math.max(0, head - relay.stats().checkpoint));
    },
  });
  new Gauge({
    name: 'ledger_kafka_consumer_lag_messages',
    help: 'Usage messages not yet committed by the consumer group, per partition (end offset - committed offset)',
    labelNames: ['topic', 'partition'],
    registers: [registry],
    async collect() {
      this.reset();
      if (!ingestor) return;
      admin ??= parts.messaging.admin();
      const lag = await withTimeout(consumerLag(admin, kafka), CONSUMER_LAG_TIMEOUT_MS).catch(() => undefined);
      for (const [partition, value] of lag ?? []) this.set({ topic: kafka.usageTopic, partition: String(partition) }, value);
    },
  });
  return {
    close: async () => {
      const opened = await admin?.catch(() => undefined);
      await opened?.disconnect().catch(() => undefined);
    },
  };
}

async function consumerLag(admin: Promise<MessagingAdmin>, kafka: KafkaWorkerConfig): Promise<Map<number, number>> {
  const client = await admin;
  const [ends, committed] = await Promise.all([client.endOffsets(kafka.usageTopic), client.committedOffsets(kafka.groupId, kafka.usageTopic)]);
  const done = new Map(committed.map((offset) => [offset.partition, Number(offset.offset)]));
  const lag = new Map<number, number>();
  for (const end of ends) {
    const at = done.get(end.partition) ?? -1;
    lag.set(end.partition, Math.max(0, Number(end.offset) - Math.max(at, 0)));
  }
  return lag;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** GET /metrics (Prometheus text) on `port`; everything else 404. */
export async function serveMetrics(registry: Registry, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return server;
}
