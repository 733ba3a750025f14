import { MAX_BATCH_ITEMS } from '@credit-ledger/ledger';
import { backoffMs, sleep } from '@credit-ledger/event-store';
import { InFlightLimit } from './in-flight-limit';
import { BatchConsumer, IncomingMessage, Messaging, MessagingLogger, MessagingProducer, PartitionBatch, SILENT_LOGGER } from './messaging.port';
import { CommandSink, groupByAccount, toUsageItems, UsageCommandApplier } from './usage-commands';
import { repliesFor } from './usage-replies';

export type { CommandSink } from './usage-commands';

/** Messages decided, appended and committed as one unit (a consumption run of one account is one append). */
export const MAX_MESSAGES_PER_CHUNK = MAX_BATCH_ITEMS;
/** Messages being decided or appended at once in one ingestor, over all its partitions (the backpressure bound). */
export const DEFAULT_MAX_IN_FLIGHT_MESSAGES = 10_000;
export const MAX_IN_FLIGHT_MESSAGES_LIMIT = 100_000;
/** All partitions of a 12-partition topic at once: shorter fetch cycles (lower latency), more appends per group commit. */
export const DEFAULT_PARTITIONS_CONSUMED_CONCURRENTLY = 12;
export const MAX_PARTITIONS_CONSUMED_CONCURRENTLY = 64;
/** Bytes one fetch may bring into memory (all partitions) and per partition. */
export const DEFAULT_MAX_BYTES_PER_FETCH = 8 * 1024 * 1024;
export const DEFAULT_MAX_BYTES_PER_PARTITION = 1024 * 1024;
export const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
/** Kafka brokers refuse sessions outside group.min/max.session.timeout.ms (6 s .. 30 min by default). */
export const MIN_SESSION_TIMEOUT_MS = 6_000;
export const MAX_SESSION_TIMEOUT_MS = 300_000;
/** Backoff between attempts when the store or the broker fails (a refusal is not a failure). */
export const INGEST_RETRY_INITIAL_BACKOFF_MS = 100;
export const INGEST_RETRY_MAX_BACKOFF_MS = 5_000;
/** How often a chunk that waits (for the store, a retry or in-flight room) heartbeats the group. */
export const INGEST_HEARTBEAT_EVERY_MS = 1_000;

export interface UsageIngestorOptions {
  readonly usageTopic: string;
  readonly deadLetterTopic: string;
  readonly resultsTopic: string;
  readonly groupId: string;
  readonly maxInFlightMessages?: number;
  readonly partitionsConsumedConcurrently?: number;
  readonly sessionTimeoutMs?: number;
  readonly maxBytesPerFetch?: number;
  readonly maxBytesPerPartition?: number;
  readonly logger?: MessagingLogger;
}

export interface UsageIngestorStats {
  readonly applied: number;
  readonly duplicates: number;
  readonly refused: number;
  readonly deadLettered: number;
  readonly committedChunks: number;
  readonly retries: number;
  /** Highest number of messages in flight at once (never above maxInFlightMessages). */
  readonly peakInFlight: number;
  /** Times a chunk had to wait for in-flight room (the store was slower than the topic). */
  readonly backpressureWaits: number;
}

/** Chunk processing stopped because the partition was taken away or the ingestor is stopping. */
class Abandoned extends Error {
  constructor() {
    super('partition revoked or ingestor stopping');
  }
}

function bounded(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer ${min}..${max}, got ${value}`);
  return value;
}

/**
 * Usage in: a consumer-group member that turns `credit.usage.v1` messages into the same commands
 * HTTP issues, through the same CommandBus, and commits a partition's offset only after every
 * event those messages produced is durably appended (and every DLQ/result message acknowledged).
 *
 * - Per account, messages are applied in partition order: consecutive consumptions of one account
 *   become one ConsumeCreditsBatch (one append), refunds and grants go one by one in between.
 * - A redelivered message is a no-op: its client id (consumptionId/refundId/grantId) is already
 *   in the account, so the command answers 200 and appends nothing.
 * - Unparseable or invalid messages go to the DLQ; domain refusals go to the results topic.
 *   Neither blocks the partition. Store or broker failures are retried with backoff, never
 *   skipped: a valid usage message is never dropped.
 * - Backpressure: at most `maxInFlightMessages` are being processed; a partition waiting for room
 *   holds its batch, and KafkaJS fetches nothing more until the batches in hand are done, so
 *   memory stays within one fetch (`maxBytesPerFetch`) plus the in-flight messages.
 */
export class UsageIngestor {
  private readonly options: Required<Omit<UsageIngestorOptions, 'logger'>>;
  private readonly logger: MessagingLogger;
  private readonly inFlight: InFlightLimit;
  private consumer: BatchConsumer | undefined;
  private producer: MessagingProducer | undefined;
  private stopping = false;
  private readonly wakeSleepers = new Set<() => void>();
  private counters = { applied: 0, duplicates: 0, refused: 0, deadLettered: 0, committedChunks: 0, retries: 0, backpressureWaits: 0 };
  private assignment: readonly number[] = [];
  private processing = 0;
  private peakProcessing = 0;
  private readonly applier: UsageCommandApplier;

  constructor(
    private readonly messaging: Messaging,
    commands: CommandSink,
    options: UsageIngestorOptions,
  ) {
    this.options = {
      usageTopic: options.usageTopic,
      deadLetterTopic: options.deadLetterTopic,
      resultsTopic: options.resultsTopic,
      groupId: options.groupId,
      maxInFlightMessages: bounded('maxInFlightMessages', options.maxInFlightMessages ?? DEFAULT_MAX_IN_FLIGHT_MESSAGES, 1, MAX_IN_FLIGHT_MESSAGES_LIMIT),
      partitionsConsumedConcurrently: bounded(
        'partitionsConsumedConcurrently',
        options.partitionsConsumedConcurrently ?? DEFAULT_PARTITIONS_CONSUMED_CONCURRENTLY,
        1,
        MAX_PARTITIONS_CONSUMED_CONCURRENTLY,
      ),
      sessionTimeoutMs: bounded('sessionTimeoutMs', options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS, MIN_SESSION_TIMEOUT_MS, MAX_SESSION_TIMEOUT_MS),
      maxBytesPerFetch: bounded('maxBytesPerFetch', options.maxBytesPerFetch ?? DEFAULT_MAX_BYTES_PER_FETCH, 64 * 1024, 256 * 1024 * 1024),
      maxBytesPerPartition: bounded('maxBytesPerPartition', options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION, 64 * 1024, 64 * 1024 * 1024),
    };
    this.logger = options.logger ?? SILENT_LOGGER;
    this.inFlight = new InFlightLimit(this.options.maxInFlightMessages);
    this.applier = new UsageCommandApplier(commands, `kafka:${this.options.groupId}`);
  }

  get actor(): string {
    return this.applier.actor;
  }

  stats(): UsageIngestorStats {
    return { ...this.counters, peakInFlight: this.peakProcessing };
  }

  /** This member's partitions since the last rebalance. */
  assignedPartitions(): readonly number[] {
    return this.assignment;
  }

  async start(): Promise<void> {
    if (this.consumer) throw new Error('the ingestor is already started');
    this.producer = this.messaging.producer({ idempotent: true });
    await this.producer.connect();
    this.consumer = this.messaging.batchConsumer({
      groupId: this.options.groupId,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      maxBytesPerFetch: this.options.maxBytesPerFetch,
      maxBytesPerPartition: this.options.maxBytesPerPartition,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      fromBeginning: true,
    });
    this.consumer.onAssignment((a) => {
      this.assignment = a.partitions;
      this.logger.info({ groupId: this.options.groupId, memberId: a.memberId, partitions: a.partitions }, 'usage ingestor joined the group');
    });
    this.consumer.onCrash((error, restarting) => this.logger.error({ err: error.message, restarting }, 'usage consumer crashed'));
    await this.consumer.run(this.options.usageTopic, (batch) => this.handleBatch(batch));
  }

  /** Finishes or abandons the chunks in hand (uncommitted ones are redelivered), leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakeSleepers) wake();
    await this.consumer?.stop();
    await this.producer?.disconnect();
    this.consumer = undefined;
    this.producer = undefined;
  }

  private async handleBatch(batch: PartitionBatch): Promise<void> {
    const { messages } = batch;
    // A chunk never holds more messages than may be in flight: the bound counts messages, not chunks.
    const chunkSize = Math.min(MAX_MESSAGES_PER_CHUNK, this.options.maxInFlightMessages);
    for (let start = 0; start < messages.length; start += chunkSize) {
      if (this.stopping || !batch.isActive()) return; // unresolved: fetched again by whoever owns the partition
      const chunk = messages.slice(start, start + chunkSize);
      const release = await this.withHeartbeat(batch, () =>
        this.inFlight.acquire(
          chunk.length,
          () => this.counters.backpressureWaits++,
          () => this.stopping || !batch.isActive(),
        ),
      );
      if (!release) return;
      // Counted apart from the permits, so that stats tell the messages really in hand.
      this.processing += chunk.length;
      this.peakProcessing = Math.max(this.peakProcessing, this.processing);
      try {
        await this.withHeartbeat(batch, () => this.processChunk(batch, chunk));
      } catch (error) {
        if (error instanceof Abandoned) return;
        throw error;
      } finally {
        this.processing -= chunk.length;
        release();
      }
      const last = chunk[chunk.length - 1].offset;
      batch.resolve(last);
      // Everything up to `last` is durable (events appended, DLQ and results acknowledged): commit.
      await batch.commit((BigInt(last) + 1n).toString());
      this.counters.committedChunks++;
    }
  }

  /** Runs `work` while heartbeating the group, so a slow store does not get this member evicted. */
  private async withHeartbeat<T>(batch: PartitionBatch, work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => void batch.heartbeat().catch(() => undefined), INGEST_HEARTBEAT_EVERY_MS);
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  private async processChunk(batch: PartitionBatch, messages: readonly IncomingMessage[]): Promise<void> {
    const items = toUsageItems(batch, messages);
    // Per account, in partition order; accounts run side by side (their appends share group commits).
    const byAccount = groupByAccount(items);
    await this.retrying(batch, 'apply usage commands', async () => {
      // A retry resumes each account after its last decided item: nothing is decided twice here.
      const settled = await Promise.allSettled([...byAccount.values()].map((list) => this.applier.applyInOrder(list)));
      const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failure) throw failure.reason;
    });
    const { deadLetters, results, counts } = repliesFor(batch, items);
    if (deadLetters.length > 0 || results.length > 0) {
      await this.retrying(batch, 'publish dead letters and results', async () => {
        await Promise.all([this.producer!.send(this.options.deadLetterTopic, deadLetters), this.producer!.send(this.options.resultsTopic, results)]);
      });
    }
    // Counted once the chunk is complete (an abandoned chunk is counted by whoever finishes it).
    this.counters.applied += counts.applied;
    this.counters.duplicates += counts.duplicates;
    this.counters.refused += counts.refused;
    this.counters.deadLettered += counts.deadLettered;
  }

  /**
   * Runs `work`; after a failure, retries with backoff while this member still owns the partition
   * and is not stopping, otherwise abandons the chunk (uncommitted: it is redelivered). A chunk in
   * hand when a clean stop begins is finished and committed, not abandoned.
   */
  private async retrying(batch: PartitionBatch, what: string, work: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1 && (this.stopping || !batch.isActive())) throw new Abandoned();
      try {
        await work();
        return;
      } catch (error) {
        this.counters.retries++;
        const delay = backoffMs(attempt, INGEST_RETRY_INITIAL_BACKOFF_MS, INGEST_RETRY_MAX_BACKOFF_MS);
        this.logger.warn(
          { topic: batch.topic, partition: batch.partition, attempt, delayMs: delay, err: error instanceof Error ? error.message : String(error) },
          `could not ${what}; retrying`,
        );
        await sleep(delay, this.wakeSleepers);
      }
    }
  }
}
