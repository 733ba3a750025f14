/**
 * The messaging port: the three things the ledger needs from a log-based broker (an acknowledged
 * producer, a consumer-group member that hands over batches and commits only when told, and an
 * admin for topics and offsets). `kafkajs/` implements it; a KafkaJS-compatible client (for
 * example @confluentinc/kafka-javascript) can replace that adapter without touching the ingestor,
 * the relay, the domain or the command handlers, which only see this file.
 */

export type MessageHeaders = Readonly<Record<string, string>>;

export interface OutgoingMessage {
  /** Messages with the same key go to the same partition, in send order (null: any partition). */
  readonly key: string | null;
  readonly value: string | Buffer;
  readonly headers?: MessageHeaders;
}

export interface ProducerOptions {
  /**
   * Idempotent producer (acks from all in-sync replicas, broker-side de-duplication of retries).
   * The relay and the ingestor always ask for it; a test producer may not.
   */
  readonly idempotent: boolean;
}

export interface MessagingProducer {
  connect(): Promise<void>;
  /**
   * Resolves once every message is acknowledged by all in-sync replicas; rejects if any is not
   * (then some may have been written: callers that retry must tolerate duplicates).
   */
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface IncomingMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Header values decoded as UTF-8 (a repeated header keeps its last value). */
  readonly headers: MessageHeaders;
  /** Milliseconds since the epoch, as a string (Kafka's record timestamp). */
  readonly timestamp: string;
}

/** One partition's slice of a fetch, handed to the handler with the controls that belong to it. */
export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: readonly IncomingMessage[];
  /** Keeps this member in the group during long work (safe to call often: it is rate-limited). */
  heartbeat(): Promise<void>;
  /** This member has processed everything up to `offset` (inclusive): the next fetch starts after it. */
  resolve(offset: string): void;
  /** Commits the group's position on this partition: where a restart or the next owner resumes. */
  commit(nextOffset: string): Promise<void>;
  /** False once the consumer is stopping or the partition was taken away: stop, commit nothing. */
  isActive(): boolean;
}

export type PartitionBatchHandler = (batch: PartitionBatch) => Promise<void>;

export interface BatchConsumerOptions {
  readonly groupId: string;
  /** The group evicts a member that has not heartbeated for this long (then rebalances). */
  readonly sessionTimeoutMs: number;
  /** Upper bound on the bytes one fetch brings into memory, over all partitions. */
  readonly maxBytesPerFetch: number;
  readonly maxBytesPerPartition: number;
  /** Partition batches handled at the same time by this member. */
  readonly partitionsConsumedConcurrently: number;
  /** With no committed offset yet, start from the oldest message (true) or only new ones. */
  readonly fromBeginning: boolean;
}

export interface GroupAssignment {
  readonly memberId: string;
  readonly partitions: readonly number[];
}

export interface BatchConsumer {
  /**
   * Joins the group, subscribes to `topic` and starts handing over partition batches. Nothing is
   * committed unless the handler calls `commit`; a batch whose handler throws is fetched again.
   */
  run(topic: string, handler: PartitionBatchHandler): Promise<void>;
  /** Called after every (re)join with this member's partitions of the topic. */
  onAssignment(listener: (assignment: GroupAssignment) => void): void;
  /** Called when the client gives up on the consumer (it is not restarted after that). */
  onCrash(listener: (error: Error, restarting: boolean) => void): void;
  /** Waits for the batches in hand, leaves the group and disconnects. */
  stop(): Promise<void>;
}

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor?: number;
  /** Broker topic configs, e.g. `{ 'retention.ms': '604800000' }`. */
  readonly configs?: Readonly<Record<string, string>>;
}

export interface PartitionOffset {
  readonly partition: number;
  /** For end offsets: the next offset to be written. For a group: the next offset to consume (-1: none committed). */
  readonly offset: string;
}

export interface MessagingAdmin {
  /** Creates the topics that do not exist yet and waits for their leaders. */
  createTopics(topics: readonly TopicSpec[]): Promise<void>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  listTopics(): Promise<string[]>;
  endOffsets(topic: string): Promise<PartitionOffset[]>;
  committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]>;
  /** Moves a group (with no live member) back to the oldest retained offsets: replays every message. */
  rewindGroup(groupId: string, topic: string): Promise<void>;
  /** Deletes groups with no live member (their committed offsets go with them). */
  deleteGroups(groupIds: readonly string[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface Messaging {
  producer(options: ProducerOptions): MessagingProducer;
  batchConsumer(options: BatchConsumerOptions): BatchConsumer;
  admin(): Promise<MessagingAdmin>;
}

/** What the ingestor and the relay log through (pino fits; tests pass a silent one). */
export interface MessagingLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const SILENT_LOGGER: MessagingLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
