import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { EventStore } from '@credit-ledger/event-store';
import { Registry } from 'prom-client';
import { EVENT_STORE, LedgerConfig, LedgerModule, METRICS_REGISTRY, STATE_DATABASE, StateDatabase } from '@credit-ledger/ledger';
import {
  EventRelay,
  KafkaJsMessaging,
  KafkaWorkerConfig,
  Messaging,
  MessagingLogger,
  openRelayCheckpoints,
  RelayCheckpoints,
  UsageIngestor,
} from '@credit-ledger/messaging';
import { registerWorkerMetrics } from './worker-metrics';

/**
 * A ledger worker: the command side without HTTP, fed by Kafka (usage in) and/or publishing the
 * store's committed events (relay out). Several workers with the `ingest` role and one group id
 * share the usage partitions; exactly one worker per events topic runs the `relay` role.
 */
export class LedgerWorker {
  private constructor(
    private readonly app: INestApplicationContext,
    readonly ingestor: UsageIngestor | undefined,
    readonly relay: EventRelay | undefined,
    private readonly checkpoints: RelayCheckpoints | undefined,
    private readonly metrics: { close(): Promise<void> } | undefined,
  ) {}

  /** The registry of the ledger (commands, store, process) and the worker (Kafka) metrics. */
  get registry(): Registry {
    return this.app.get<Registry>(METRICS_REGISTRY);
  }

  static async start(ledger: LedgerConfig, kafka: KafkaWorkerConfig, logger: MessagingLogger, messaging?: Messaging): Promise<LedgerWorker> {
    const bus = messaging ?? new KafkaJsMessaging({ brokers: kafka.brokers, clientId: kafka.clientId, logger });
    if (kafka.createTopics) await ensureTopics(bus, kafka);
    const app = await NestFactory.createApplicationContext(LedgerModule.forRoot({ config: ledger, http: false }), { logger: false, abortOnError: false });
    let ingestor: UsageIngestor | undefined;
    let relay: EventRelay | undefined;
    let checkpoints: RelayCheckpoints | undefined;
    let metrics: { close(): Promise<void> } | undefined;
    try {
      if (kafka.roles.includes('relay')) {
        // In the shared state: PostgreSQL unless LEDGER_STORE=sqlite (then ledger.sqlite in LEDGER_DATA_DIR).
        checkpoints = await openRelayCheckpoints(app.get<StateDatabase>(STATE_DATABASE));
        relay = new EventRelay(app.get<EventStore>(EVENT_STORE), () => bus.producer({ idempotent: true }), checkpoints, {
          name: kafka.relayName,
          topic: kafka.eventsTopic,
          batchSize: kafka.relayBatchSize,
          logger,
        });
        relay.start();
      }
      if (kafka.roles.includes('ingest')) {
        ingestor = new UsageIngestor(bus, app.get(CommandBus), {
          usageTopic: kafka.usageTopic,
          deadLetterTopic: kafka.deadLetterTopic,
          resultsTopic: kafka.resultsTopic,
          groupId: kafka.groupId,
          maxInFlightMessages: kafka.maxInFlightMessages,
          partitionsConsumedConcurrently: kafka.partitionsConsumedConcurrently,
          sessionTimeoutMs: kafka.sessionTimeoutMs,
          logger,
        });
        await ingestor.start();
      }
      metrics = registerWorkerMetrics(app.get<Registry>(METRICS_REGISTRY), { messaging: bus, kafka, store: app.get<EventStore>(EVENT_STORE), ingestor, relay });
    } catch (e) {
      await new LedgerWorker(app, ingestor, relay, checkpoints, metrics).stop().catch(() => undefined);
      throw e;
    }
    return new LedgerWorker(app, ingestor, relay, checkpoints, metrics);
  }

  stats() {
    return { ingest: this.ingestor?.stats(), relay: this.relay?.stats() };
  }

  /** Ingestor first (no new commands), then the relay (publishes what is committed), then the store. */
  async stop(): Promise<void> {
    await this.ingestor?.stop();
    await this.relay?.stop();
    await this.checkpoints?.close();
    await this.metrics?.close();
    await this.app.close();
  }
}

/** Creates the usage, DLQ, results and events topics that do not exist yet (for development setups). */
export async function ensureTopics(messaging: Messaging, kafka: KafkaWorkerConfig): Promise<void> {
  const admin = await messaging.admin();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [
      { topic: kafka.usageTopic, partitions: kafka.usagePartitions },
      { topic: kafka.deadLetterTopic, partitions: 1 },
      { topic: kafka.resultsTopic, partitions: kafka.usagePartitions },
      { topic: kafka.eventsTopic, partitions: kafka.usagePartitions },
    ].filter((t) => !existing.has(t.topic));
    if (wanted.length > 0) await admin.createTopics(wanted);
  } finally {
    await admin.disconnect();
  }
}
