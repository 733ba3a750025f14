import { ICommand } from '@nestjs/cqrs';
import { ConsumeCreditsData, DomainError } from '../../domain/src';
import {
  BatchOutcome,
  ConsumeCreditsBatchCommand,
  GrantCreditsCommand,
  MAX_BATCH_ITEMS,
  RefundCreditsCommand,
  RequestContext,
} from '../../ledger/src';
import { InFlightLimit } from './in-flight-limit';
import {
  BatchConsumer,
  IncomingMessage,
  Messaging,
  MessagingLogger,
  MessagingProducer,
  OutgoingMessage,
  PartitionBatch,
  SILENT_LOGGER,
} from './messaging.port';
import { backoffMs, sleep } from '../../event-store/src/retry';
import { DEAD_LETTER_HEADERS, RESULT_HEADERS, USAGE_CORRELATION_HEADER } from './topics';
import { DeadLetterCode, parseUsageMessage, UsageCommand } from './usage-message';

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
/** Correlation ids the ledger accepts (the same rule as the X-Correlation-Id header). */
const CORRELATION_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

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

/** What the ingestor needs from the application: the same command bus HTTP uses. */
export interface CommandSink {
  execute<R>(command: ICommand): Promise<R>;
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

type Outcome =
  | { readonly kind: 'applied' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'refused'; readonly code: string; readonly message: string; readonly details?: unknown }
  | { readonly kind: 'dead-letter'; readonly code: string; readonly message: string };

interface Item {
  readonly message: IncomingMessage;
  readonly correlationId: string;
  command?: UsageCommand;
  outcome?: Outcome;
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

  constructor(
    private readonly messaging: Messaging,
    private readonly commands: CommandSink,
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
  }

  get actor(): string {
    return `kafka:${this.options.groupId}`;
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
        this.inFlight.acquire(chunk.length, () => this.counters.backpressureWaits++, () => this.stopping || !batch.isActive()),
      );
      if (!release) return;
      // Counted apart from the permits, so that stats tell the messages really in hand.
      this.processing += chunk.length;
      this.peakProcessing = Math.max(this.peakProcessing, this.processing);
      try {
        await this.withHeartbeat(batch, () => this.processChunk(batch, chunk));
      } catch (e) {
        if (e instanceof Abandoned) return;
        throw e;
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
    const items: Item[] = messages.map((message) => {
      const header = message.headers[USAGE_CORRELATION_HEADER];
      const correlationId = header !== undefined && CORRELATION_PATTERN.test(header) ? header : `${batch.topic}:${batch.partition}:${message.offset}`;
      const item: Item = { message, correlationId };
      const parsed = parseUsageMessage(message.key, message.value);
      if ('command' in parsed) item.command = parsed.command;
      else item.outcome = { kind: 'dead-letter', code: parsed.unprocessable.code, message: parsed.unprocessable.message };
      return item;
    });

    // Per account, in partition order; accounts run side by side (their appends share group commits).
    const byAccount = new Map<string, Item[]>();
    for (const item of items) {
      if (!item.command) continue;
      let list = byAccount.get(item.command.accountId);
      if (!list) byAccount.set(item.command.accountId, (list = []));
      list.push(item);
    }
    await this.retrying(batch, 'apply usage commands', async () => {
      // A retry resumes each account after its last decided item: nothing is decided twice here.
      const failures = (await Promise.allSettled([...byAccount.values()].map((list) => this.applyInOrder(list)))).filter(
        (r): r is PromiseRejectedResult => r.status === 'rejected',
      );
      if (failures.length > 0) throw failures[0].reason;
    });

    const deadLetters: OutgoingMessage[] = [];
    const results: OutgoingMessage[] = [];
    const counts = { applied: 0, duplicates: 0, refused: 0, deadLettered: 0 };
    for (const item of items) {
      const o = item.outcome!;
      if (o.kind === 'applied') counts.applied++;
      else if (o.kind === 'duplicate') counts.duplicates++;
      else if (o.kind === 'refused') {
        counts.refused++;
        results.push(this.resultMessage(batch, item, o));
      } else {
        counts.deadLettered++;
        deadLetters.push(this.deadLetterMessage(batch, item.message, o));
      }
    }
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

  /** Applies one account's items in order; stops at the first failure, keeping what was decided. */
  private async applyInOrder(list: readonly Item[]): Promise<void> {
    let i = list.findIndex((item) => item.outcome === undefined);
    if (i < 0) return;
    while (i < list.length) {
      const first = list[i];
      const command = first.command!;
      if (command.type === 'consume') {
        // One append for consecutive consumptions that share a correlation (header, or none given).
        let end = i + 1;
        while (
          end < list.length &&
          end - i < MAX_BATCH_ITEMS &&
          list[end].command!.type === 'consume' &&
          list[end].message.headers[USAGE_CORRELATION_HEADER] === first.message.headers[USAGE_CORRELATION_HEADER]
        ) {
          end++;
        }
        const run = list.slice(i, end);
        await this.applyConsumptions(command.accountId, run);
        i = end;
      } else {
        first.outcome = await this.applyOne(first);
        i++;
      }
    }
  }

  private context(correlationId: string): RequestContext {
    return { principal: { kind: 'superuser' }, actor: this.actor, correlationId };
  }

  private async applyConsumptions(accountId: string, run: readonly Item[]): Promise<void> {
    let outcome: BatchOutcome;
    try {
      outcome = await this.commands.execute<BatchOutcome>(
        // Validated by parseUsageMessage with the HTTP DTO already: the handler does not validate again.
        ConsumeCreditsBatchCommand.ofValidated(
          accountId,
          run.map((item) => item.command!.data as ConsumeCreditsData),
          this.context(run[0].correlationId),
        ),
      );
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      for (const item of run) item.outcome = { kind: 'refused', code: e.code, message: e.message, details: e.details };
      return;
    }
    for (const r of outcome.results) {
      const item = run[r.index];
      if (r.status === 201) item.outcome = { kind: 'applied' };
      else if (r.status === 200) item.outcome = { kind: 'duplicate' };
      else if (r.status === 409) item.outcome = { kind: 'refused', code: r.error, message: r.message, details: r.details };
      // The ingestor validated the item with the same DTO: a 400 here is a contract drift, set aside like any invalid message.
      else if (r.status === 400) item.outcome = { kind: 'dead-letter', code: DeadLetterCode.ValidationFailed, message: r.message };
    }
  }

  private async applyOne(item: Item): Promise<Outcome> {
    const c = item.command!;
    const ctx = this.context(item.correlationId);
    let command: ICommand;
    if (c.type === 'refund') command = new RefundCreditsCommand(c.accountId, c.data, ctx);
    else if (c.type === 'grant') command = new GrantCreditsCommand(c.accountId, c.data, ctx);
    else throw new Error('consumptions go through applyConsumptions');
    try {
      const { status } = await this.commands.execute<{ status: 200 | 201 }>(command);
      return { kind: status === 201 ? 'applied' : 'duplicate' };
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      return { kind: 'refused', code: e.code, message: e.message, details: e.details };
    }
  }

  private resultMessage(batch: PartitionBatch, item: Item, o: Extract<Outcome, { kind: 'refused' }>): OutgoingMessage {
    const c = item.command!;
    return {
      key: c.commandId,
      value: JSON.stringify({
        commandId: c.commandId,
        type: c.type,
        accountId: c.accountId,
        outcome: 'refused',
        status: 409,
        error: o.code,
        message: o.message,
        ...(o.details === undefined ? {} : { details: o.details }),
        source: { topic: batch.topic, partition: batch.partition, offset: item.message.offset },
        correlationId: item.correlationId,
      }),
      headers: { [RESULT_HEADERS.outcome]: 'refused', [RESULT_HEADERS.errorCode]: o.code, [RESULT_HEADERS.accountId]: c.accountId },
    };
  }

  private deadLetterMessage(batch: PartitionBatch, m: IncomingMessage, o: Extract<Outcome, { kind: 'dead-letter' }>): OutgoingMessage {
    return {
      key: m.key === null ? null : m.key.toString('utf8'),
      value: m.value ?? Buffer.alloc(0),
      headers: {
        ...m.headers,
        [DEAD_LETTER_HEADERS.errorCode]: o.code,
        [DEAD_LETTER_HEADERS.errorMessage]: o.message.slice(0, 1_000),
        [DEAD_LETTER_HEADERS.originalTopic]: batch.topic,
        [DEAD_LETTER_HEADERS.originalPartition]: String(batch.partition),
        [DEAD_LETTER_HEADERS.originalOffset]: m.offset,
        [DEAD_LETTER_HEADERS.originalTimestamp]: m.timestamp,
      },
    };
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
      } catch (e) {
        this.counters.retries++;
        const delay = backoffMs(attempt, INGEST_RETRY_INITIAL_BACKOFF_MS, INGEST_RETRY_MAX_BACKOFF_MS);
        this.logger.warn({ topic: batch.topic, partition: batch.partition, attempt, delayMs: delay, err: e instanceof Error ? e.message : String(e) }, `could not ${what}; retrying`);
        await sleep(delay, this.wakeSleepers);
      }
    }
  }
}
