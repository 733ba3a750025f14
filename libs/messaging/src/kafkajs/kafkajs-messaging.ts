import { Admin, Consumer, Kafka, logLevel, LogEntry, Partitioners, Producer } from 'kafkajs';
import {
  BatchConsumer,
  BatchConsumerOptions,
  GroupAssignment,
  IncomingMessage,
  MessageHeaders,
  Messaging,
  MessagingAdmin,
  MessagingLogger,
  MessagingProducer,
  OutgoingMessage,
  PartitionBatchHandler,
  PartitionOffset,
  ProducerOptions,
  SILENT_LOGGER,
  TopicSpec,
} from '../messaging.port';

export interface KafkaJsMessagingOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger?: MessagingLogger;
  /** Connection attempts' timeout. */
  readonly connectionTimeoutMs?: number;
}

/** KafkaJS's own reconnect/retry schedule for one request: ~0.3 s doubling up to 30 s, 8 tries. */
export const KAFKAJS_REQUEST_RETRY = { initialRetryTime: 300, maxRetryTime: 30_000, retries: 8 } as const;
export const DEFAULT_CONNECTION_TIMEOUT_MS = 3_000;
/** How long admin calls wait for the controller (topic creation waits for leaders). */
export const ADMIN_REQUEST_TIMEOUT_MS = 30_000;

/** The messaging port over KafkaJS 2.x. Everything KafkaJS-specific stays in this file. */
export class KafkaJsMessaging implements Messaging {
  private readonly kafka: Kafka;

  constructor(private readonly options: KafkaJsMessagingOptions) {
    const logger = options.logger ?? SILENT_LOGGER;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
      retry: { ...KAFKAJS_REQUEST_RETRY },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, namespace, log }: LogEntry) => {
          const { message, ...rest } = log;
          const fields = { component: `kafkajs:${namespace}`, ...rest };
          if (level === logLevel.ERROR) logger.error(fields, message);
          else if (level === logLevel.WARN) logger.warn(fields, message);
          else logger.info(fields, message);
        },
    });
  }

  producer(options: ProducerOptions): MessagingProducer {
    const producer = this.kafka.producer({
      idempotent: options.idempotent,
      // The idempotent producer keeps order across retries only with one request in flight per broker.
      maxInFlightRequests: options.idempotent ? 1 : undefined,
      createPartitioner: Partitioners.DefaultPartitioner, // Java-compatible murmur2: same key, same partition as any Kafka client
      allowAutoTopicCreation: false,
    });
    return new KafkaJsProducer(producer);
  }

  batchConsumer(options: BatchConsumerOptions): BatchConsumer {
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      // Heartbeats every third of the session, as the Java client does.
      heartbeatInterval: Math.max(1_000, Math.floor(options.sessionTimeoutMs / 3)),
      // How long a rebalance waits for members to rejoin (finishing the batch in hand first).
      rebalanceTimeout: options.sessionTimeoutMs * 2,
      maxBytes: options.maxBytesPerFetch,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    return new KafkaJsBatchConsumer(consumer, options);
  }

  async admin(): Promise<MessagingAdmin> {
    const admin = this.kafka.admin();
    await admin.connect();
    return new KafkaJsAdmin(admin);
  }

  get brokers(): readonly string[] {
    return this.options.brokers;
  }
}

class KafkaJsProducer implements MessagingProducer {
  constructor(private readonly producer: Producer) {}

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers ? { ...m.headers } : undefined })),
    });
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

function decodeHeaders(headers: Record<string, unknown> | undefined): MessageHeaders {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last === undefined || last === null) continue;
    out[name] = Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
  }
  return out;
}

class KafkaJsBatchConsumer implements BatchConsumer {
  private readonly assignmentListeners: ((a: GroupAssignment) => void)[] = [];
  private readonly crashListeners: ((e: Error, restarting: boolean) => void)[] = [];
  private topic: string | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly options: BatchConsumerOptions,
  ) {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      const partitions = this.topic ? (e.payload.memberAssignment[this.topic] ?? []) : [];
      for (const l of this.assignmentListeners) l({ memberId: e.payload.memberId, partitions: [...partitions].sort((a, b) => a - b) });
    });
    consumer.on(consumer.events.CRASH, (e) => {
      for (const l of this.crashListeners) l(e.payload.error, e.payload.restart);
    });
  }

  onAssignment(listener: (assignment: GroupAssignment) => void): void {
    this.assignmentListeners.push(listener);
  }

  onCrash(listener: (error: Error, restarting: boolean) => void): void {
    this.crashListeners.push(listener);
  }

  async run(topic: string, handler: PartitionBatchHandler): Promise<void> {
    this.topic = topic;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topic], fromBeginning: this.options.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
        const messages: IncomingMessage[] = batch.messages.map((m) => ({
          offset: m.offset,
          key: m.key ?? null,
          value: m.value ?? null,
          headers: decodeHeaders(m.headers as Record<string, unknown> | undefined),
          timestamp: m.timestamp,
        }));
        await handler({
          topic: batch.topic,
          partition: batch.partition,
          messages,
          heartbeat,
          resolve: resolveOffset,
          commit: (nextOffset) =>
            commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: nextOffset }] }] }),
          isActive: () => isRunning() && !isStale(),
        });
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect(); // stops the runner (waits for the batches in hand), leaves the group
  }
}

class KafkaJsAdmin implements MessagingAdmin {
  constructor(private readonly admin: Admin) {}

  async createTopics(topics: readonly TopicSpec[]): Promise<void> {
    await this.admin.createTopics({
      waitForLeaders: true,
      timeout: ADMIN_REQUEST_TIMEOUT_MS,
      topics: topics.map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor ?? -1,
        configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  deleteTopics(topics: readonly string[]): Promise<void> {
    return this.admin.deleteTopics({ topics: [...topics], timeout: ADMIN_REQUEST_TIMEOUT_MS });
  }

  listTopics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  async endOffsets(topic: string): Promise<PartitionOffset[]> {
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return offsets.map((o) => ({ partition: o.partition, offset: o.high })).sort((a, b) => a.partition - b.partition);
  }

  async committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]> {
    const [entry] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    return (entry?.partitions ?? []).map((p) => ({ partition: p.partition, offset: p.offset })).sort((a, b) => a.partition - b.partition);
  }

  rewindGroup(groupId: string, topic: string): Promise<void> {
    return this.admin.resetOffsets({ groupId, topic, earliest: true });
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    if (groupIds.length > 0) await this.admin.deleteGroups([...groupIds]);
  }

  disconnect(): Promise<void> {
    return this.admin.disconnect();
  }
}
