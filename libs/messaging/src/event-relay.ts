import { backoffMs, EventStore, MAX_READ_PAGE_SIZE, RecordedEvent, sleep, Subscription } from '@credit-ledger/event-store';
import { accountIdOfStream } from '@credit-ledger/ledger';
import { MessagingLogger, MessagingProducer, OutgoingMessage, SILENT_LOGGER } from './messaging.port';
import { RelayCheckpoints } from './relay-checkpoints';
import { EVENT_HEADERS } from './topics';

/** Events read from the store and produced in one send (one checkpoint save per batch). */
export const DEFAULT_RELAY_BATCH_SIZE = 1_000;
export const MAX_RELAY_BATCH_SIZE = MAX_READ_PAGE_SIZE;
/** Backoff while the broker is unreachable: the relay waits, it never skips. */
export const RELAY_RETRY_INITIAL_BACKOFF_MS = 200;
export const RELAY_RETRY_MAX_BACKOFF_MS = 5_000;
/** Consecutive failed sends after which the producer is replaced (a fresh connection and producer id). */
export const RELAY_RECREATE_PRODUCER_AFTER_FAILURES = 3;
/**
 * How long one send may take. Within it the idempotent producer retries on its own, in the same
 * producer session, so a retried batch is de-duplicated by the broker; past it the relay gives up
 * on that producer and sends the batch again with a new one (which may duplicate).
 */
export const RELAY_SEND_TIMEOUT_MS = 30_000;
export const MIN_RELAY_SEND_TIMEOUT_MS = 1_000;
export const MAX_RELAY_SEND_TIMEOUT_MS = 300_000;
/** On stop, how long a send in flight may still finish (and be checkpointed) before it is abandoned. */
export const RELAY_STOP_GRACE_MS = 5_000;

export interface EventRelayOptions {
  /** The checkpoint's name: one per (topic, relay); two relays must not share it. */
  readonly name: string;
  readonly topic: string;
  readonly batchSize?: number;
  /** Default RELAY_SEND_TIMEOUT_MS. */
  readonly sendTimeoutMs?: number;
  readonly logger?: MessagingLogger;
}

export interface EventRelayStats {
  readonly published: number;
  readonly batches: number;
  readonly failedSends: number;
  readonly checkpoint: number;
}

class RelayStopping extends Error {
  constructor() {
    super('relay stopping');
  }
}

class SendTimedOut extends Error {
  constructor(timeoutMs: number) {
    super(`the broker did not acknowledge within ${timeoutMs} ms`);
  }
}

/** A stored event as it goes out on `credit.events.v1`: keyed by account, position in the headers. */
export function eventMessage(e: RecordedEvent): OutgoingMessage {
  const accountId = accountIdOfStream(e.streamId) ?? e.streamId;
  return {
    key: accountId,
    value: JSON.stringify({
      position: e.position,
      accountId,
      streamId: e.streamId,
      revision: e.revision,
      eventId: e.eventId,
      type: e.type,
      data: e.data,
      metadata: e.metadata,
    }),
    headers: {
      [EVENT_HEADERS.eventId]: e.eventId,
      [EVENT_HEADERS.type]: e.type,
      [EVENT_HEADERS.schemaVersion]: String(e.metadata.schemaVersion),
      [EVENT_HEADERS.position]: String(e.position),
      [EVENT_HEADERS.accountId]: accountId,
      [EVENT_HEADERS.correlationId]: e.metadata.correlationId,
    },
  };
}

/**
 * Committed events out: the store's global log is the outbox. The relay subscribes to it from
 * its durable checkpoint, produces each batch with the idempotent producer (acks from all
 * in-sync replicas) and only then saves the batch's last position. Batches never overlap and a
 * batch is retried until the broker acknowledges it, so every event goes out, in store order
 * (hence in order per account), at least once. A crash between the acknowledgement and the
 * checkpoint re-sends that batch: downstream de-duplicates by `eventId` or by `position`, which
 * only grows per account.
 *
 * Nothing in the command path knows about Kafka (no dual writes): an event is published because
 * it is in the store, never because a handler asked for it.
 */
export class EventRelay {
  private readonly batchSize: number;
  private readonly sendTimeoutMs: number;
  private readonly logger: MessagingLogger;
  private producer: MessagingProducer | undefined;
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly wakeSleepers = new Set<() => void>();
  private consecutiveFailures = 0;
  private counters = { published: 0, batches: 0, failedSends: 0 };
  private checkpoint = 0;

  constructor(
    private readonly store: EventStore,
    private readonly newProducer: () => MessagingProducer,
    private readonly checkpoints: RelayCheckpoints,
    private readonly options: EventRelayOptions,
  ) {
    const batchSize = options.batchSize ?? DEFAULT_RELAY_BATCH_SIZE;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > MAX_RELAY_BATCH_SIZE) {
      throw new RangeError(`relay batch size must be 1..${MAX_RELAY_BATCH_SIZE}, got ${batchSize}`);
    }
    this.batchSize = batchSize;
    const sendTimeoutMs = options.sendTimeoutMs ?? RELAY_SEND_TIMEOUT_MS;
    if (!Number.isSafeInteger(sendTimeoutMs) || sendTimeoutMs < MIN_RELAY_SEND_TIMEOUT_MS || sendTimeoutMs > MAX_RELAY_SEND_TIMEOUT_MS) {
      throw new RangeError(`relay send timeout must be ${MIN_RELAY_SEND_TIMEOUT_MS}..${MAX_RELAY_SEND_TIMEOUT_MS} ms, got ${sendTimeoutMs}`);
    }
    this.sendTimeoutMs = sendTimeoutMs;
    this.logger = options.logger ?? SILENT_LOGGER;
  }

  stats(): EventRelayStats {
    return { ...this.counters, checkpoint: this.checkpoint };
  }

  /** Starts relaying in the background (a broker that is down is waited for, not an error). */
  start(): void {
    if (this.loop) throw new Error('the relay is already started');
    this.loop = this.run();
  }

  /** Stops after the batch in hand (acknowledged and checkpointed, or abandoned and re-sent next time). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakeSleepers) wake();
    await this.subscription?.stop();
    await this.loop;
    await this.dropProducer();
  }

  private async run(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        this.checkpoint = await this.checkpoints.load(this.options.name);
        this.logger.info({ relay: this.options.name, topic: this.options.topic, after: this.checkpoint }, 'event relay subscribing');
        if (this.stopping) return;
        this.subscription = this.store.subscribeToAll({ after: this.checkpoint, batchSize: this.batchSize }, (events) => this.publish(events));
        await this.subscription.done;
        return;
      } catch (e) {
        if (this.stopping) return;
        // The store failed to read (or the checkpoint to load or save): start over from the durable checkpoint.
        const delay = backoffMs(attempt, RELAY_RETRY_INITIAL_BACKOFF_MS, RELAY_RETRY_MAX_BACKOFF_MS);
        this.logger.error(
          { relay: this.options.name, err: e instanceof Error ? e.message : String(e), delayMs: delay },
          'event relay subscription failed; resubscribing',
        );
        await sleep(delay, this.wakeSleepers);
      }
    }
  }

  private async publish(events: readonly RecordedEvent[]): Promise<void> {
    const messages = events.map(eventMessage);
    for (;;) {
      if (this.stopping) throw new RelayStopping();
      try {
        const producer = await this.connectedProducer();
        await this.interruptible(producer.send(this.options.topic, messages));
        break;
      } catch (e) {
        if (e instanceof RelayStopping) throw e;
        if (e instanceof SendTimedOut) await this.dropProducer();
        this.counters.failedSends++;
        this.consecutiveFailures++;
        const delay = backoffMs(this.consecutiveFailures, RELAY_RETRY_INITIAL_BACKOFF_MS, RELAY_RETRY_MAX_BACKOFF_MS);
        this.logger.warn(
          {
            relay: this.options.name,
            fromPosition: events[0].position,
            failures: this.consecutiveFailures,
            delayMs: delay,
            err: e instanceof Error ? e.message : String(e),
          },
          'could not publish events; retrying',
        );
        if (this.consecutiveFailures % RELAY_RECREATE_PRODUCER_AFTER_FAILURES === 0) await this.dropProducer();
        await sleep(delay, this.wakeSleepers);
      }
    }
    this.consecutiveFailures = 0;
    const last = events[events.length - 1].position;
    await this.checkpoints.save(this.options.name, last); // only after the broker acknowledged the whole batch
    this.checkpoint = last;
    this.counters.published += events.length;
    this.counters.batches++;
  }

  /** The send (or connect), unless it outlives the send timeout, or RELAY_STOP_GRACE_MS after a stop. */
  private interruptible(send: Promise<void>): Promise<void> {
    send.catch(() => undefined); // abandoned sends fail when their producer disconnects
    return new Promise<void>((resolve, reject) => {
      let grace: NodeJS.Timeout | undefined;
      // A clean stop lets the send finish, so that what the broker acknowledged is checkpointed.
      const stop = () => (grace ??= setTimeout(() => finish(() => reject(new RelayStopping())), RELAY_STOP_GRACE_MS));
      const timer = setTimeout(() => finish(() => reject(new SendTimedOut(this.sendTimeoutMs))), this.sendTimeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        clearTimeout(grace);
        this.wakeSleepers.delete(stop);
        settle();
      };
      if (this.stopping) stop();
      this.wakeSleepers.add(stop);
      send.then(
        () => finish(resolve),
        (e) => finish(() => reject(e)),
      );
    });
  }

  private async connectedProducer(): Promise<MessagingProducer> {
    if (this.producer) return this.producer;
    const producer = this.newProducer();
    try {
      await this.interruptible(producer.connect());
    } catch (e) {
      await producer.disconnect().catch(() => undefined);
      throw e;
    }
    this.producer = producer;
    return producer;
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }
}
