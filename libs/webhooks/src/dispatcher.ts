import { randomBytes } from 'node:crypto';
import { EventStore, RecordedEvent, Subscription } from '@credit-ledger/event-store';
import { accountIdOfStream, decodeEvent } from '@credit-ledger/ledger';
import { AccountStates, StreamSource } from './events/account-states';
import {
  deriveNotifications,
  expiringNotification,
  forecastNotification,
  ForecastWatch,
  forecastWatchAfter,
  forecastWatchKey,
  GrantTimer,
} from './events/derive';
import { OPERATOR_EVENT_TYPES, WebhookPayload } from './events/event-types';
import { nextAttemptAt } from './delivery/retry-schedule';
import { WebhookSender } from './delivery/sender';
import { signedHeaders } from './delivery/signing';
import { resolveTarget, UrlNotAllowedError } from './delivery/url-safety';
import {
  DAY_MS,
  DISPATCH_POLL_MS,
  MAX_IN_FLIGHT,
  MAX_IN_FLIGHT_PER_ENDPOINT,
  WEBHOOK_DISABLE_AFTER_MS,
  WEBHOOK_LEASE_RENEW_MS,
  WEBHOOK_LEASE_TTL_MS,
} from './limits';
import { AttemptOutcome, AttemptRecord, DerivedItem, EndpointRecord, FinishedAttempt, ReadyDelivery, WebhookStore } from './store/webhook-store';
import { WebhooksConfig } from './webhooks-config';

export const DISPATCHER_NAME = 'webhooks';
/** Forecast watches whose last written due instant a dispatcher remembers (oldest forgotten first; forgetting only costs a rewrite). */
const MAX_ARMED_WATCHES_REMEMBERED = 100_000;
const LOG_BATCH_SIZE = 1_000;
const TIMERS_PER_TICK = 200;
/** Grant timers are looked at this often. */
const TIMER_CHECK_MS = 1_000;
/** A checkpoint that moved over events deriving nothing is saved at most this often. */
const CHECKPOINT_IDLE_SAVE_MS = 1_000;
/** Wakes this close together (attempts finishing, batches derived) share one query for due deliveries. */
const PUMP_COALESCE_MS = 2;

export interface WebhookLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export const SILENT_WEBHOOK_LOGGER: WebhookLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** What the dispatcher reads of the ledger's log: committed events in order, and an account's stream (its states). */
export type DispatcherLog = Pick<EventStore, 'subscribeToAll'> & StreamSource;

/** The dispatcher as the app holds it, whether it runs on the event loop (WebhookDispatcher) or in a thread of its own. */
export interface WebhookDispatching {
  /** Takes the lease when free and keeps renewing it; leads while it holds it. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Looks for due deliveries now (the clock moved, a delivery became due). */
  wake(): void;
  isLeading(): boolean;
  stats(): DispatcherStats;
}

export interface DispatcherStats {
  readonly leading: boolean;
  readonly checkpoint: number;
  readonly derived: number;
  readonly attempts: number;
  readonly succeeded: number;
  readonly failedAttempts: number;
  readonly inFlight: number;
}

/** A lease owner of this process: its pid and a random tag. */
export function newDispatcherOwner(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Whether `endpoint` receives `payload`: its account (or every account), its types, and only what derives from events after it was registered. */
export function matches(endpoint: EndpointRecord, payload: WebhookPayload, live: boolean): boolean {
  if (!endpoint.eventTypes.includes(payload.type)) return false;
  if (OPERATOR_EVENT_TYPES.includes(payload.type)) return endpoint.accountId === null;
  if (endpoint.accountId !== null && endpoint.accountId !== payload.accountId) return false;
  return !live || payload.position > endpoint.createdPosition;
}

/**
 * Derives notifications from the ledger's global log (the outbox) and delivers them.
 *
 * - Following: from its durable checkpoint, each batch of committed events gives its messages and
 *   their deliveries, committed with the checkpoint in one transaction: nothing is sent for an
 *   uncommitted event, nothing is lost or derived twice across a crash.
 * - Delivering: one lane per (endpoint, account); a lane sends its oldest pending delivery and the
 *   next one only after it succeeded or failed for good, so a failing endpoint holds back itself only.
 *   Lanes run concurrently (MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_ENDPOINT).
 * - One process at a time does both: the lease in the shared store. Others wait to take over.
 */
export class WebhookDispatcher implements WebhookDispatching {
  private readonly states: AccountStates;
  private readonly sender = new WebhookSender();
  private subscription: Subscription | undefined;
  private leading = false;
  private stopped = false;
  private leaseTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private pumping = false;
  private wakeTimer: NodeJS.Timeout | undefined;
  private pumpAgain = false;
  private lastTimerCheck = 0;
  private readonly inFlight = new Map<string, number>(); // delivery id -> seq
  private readonly perEndpoint = new Map<string, number>();
  private settled: Promise<void>[] = [];
  private counters = { derived: 0, attempts: 0, succeeded: 0, failedAttempts: 0 };
  /** The due instant of each forecast watch this process last wrote (so that it is written once a day, not per movement). */
  private readonly armedWatches = new Map<string, number>();
  private checkpointPosition = 0;
  private lastSave = 0;
  private readonly toRecord: { finished: FinishedAttempt; resolve: (reason: string | null) => void }[] = [];
  private recording = false;
  private renewedAt = 0;

  constructor(
    private readonly store: WebhookStore,
    private readonly log: DispatcherLog,
    private readonly config: WebhooksConfig,
    /** The ledger's clock (scenario tests move it by hand): due times, retries, the failure window. */
    private readonly now: () => number = Date.now,
    private readonly logger: WebhookLogger = SILENT_WEBHOOK_LOGGER,
    private readonly random: () => number = Math.random,
    /** Who holds the lease: a dispatcher thread started again after a crash keeps its process's owner, and so the lease. */
    readonly owner = newDispatcherOwner(),
  ) {
    this.states = new AccountStates(log);
  }

  stats(): DispatcherStats {
    return { leading: this.leading, checkpoint: this.checkpointPosition, ...this.counters, inFlight: this.inFlight.size };
  }

  isLeading(): boolean {
    return this.leading;
  }

  /** Takes the lease when free and keeps renewing it; leads while it holds it. */
  async start(): Promise<void> {
    await this.renewLease();
    this.leaseTimer = setInterval(() => void this.renewLease(), WEBHOOK_LEASE_RENEW_MS);
    this.leaseTimer.unref();
  }

  private async renewLease(): Promise<void> {
    if (this.stopped) return;
    let held = false;
    try {
      held = await this.store.tryLease(DISPATCHER_NAME, this.owner, WEBHOOK_LEASE_TTL_MS, Date.now());
    } catch (e) {
      this.logger.warn({ err: String(e) }, 'webhooks: could not renew the dispatcher lease');
    }
    if (held) this.renewedAt = Date.now();
    if (held && !this.leading && !this.stopped) await this.lead();
    else if (!held && this.leading) await this.stepDown();
  }

  private async lead(): Promise<void> {
    this.leading = true;
    this.states.forget();
    this.checkpointPosition = await this.store.checkpoint(DISPATCHER_NAME);
    this.logger.info({ owner: this.owner, after: this.checkpointPosition }, 'webhooks: dispatching');
    this.subscription = this.log.subscribeToAll({ after: this.checkpointPosition, batchSize: LOG_BATCH_SIZE }, (events) => this.derive(events));
    this.subscription.done.catch((e) => {
      this.logger.error({ err: String(e) }, 'webhooks: following the log failed; starting over from the checkpoint');
      if (this.leading && !this.stopped) void this.stepDown().then(() => this.renewLease());
    });
    this.pollTimer = setInterval(() => this.wake(), DISPATCH_POLL_MS);
    this.pollTimer.unref();
    this.wake();
  }

  /** Stops leading (lease lost or stopping): no new attempts; those in flight finish; the checkpoint is saved. */
  private async stepDown(): Promise<void> {
    this.leading = false;
    clearInterval(this.pollTimer);
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.stop().catch(() => undefined);
    if (subscription) await this.store.commitBatch(DISPATCHER_NAME, this.checkpointPosition, [], { added: [], done: [] }, this.now()).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.leaseTimer);
    const wasLeading = this.leading;
    await this.stepDown();
    await Promise.allSettled(this.settled);
    if (wasLeading) await this.store.releaseLease(DISPATCHER_NAME, this.owner).catch(() => undefined);
    this.sender.close();
  }

  private async derive(events: readonly RecordedEvent[]): Promise<void> {
    const endpoints = await this.store.enabledEndpoints();
    const items: DerivedItem[] = [];
    const added: GrantTimer[] = [];
    const done: string[] = [];
    const watches: ForecastWatch[] = [];
    for (const recorded of events) {
      const accountId = accountIdOfStream(recorded.streamId);
      if (accountId === undefined) continue;
      const event = decodeEvent(recorded);
      const { before, after } = await this.states.around(accountId, recorded, event);
      const derivation = deriveNotifications({
        accountId,
        position: recorded.position,
        recordedAt: recorded.metadata.recordedAt,
        event,
        before,
        after,
        forecastHorizonDays: this.config.forecastHorizonDays,
      });
      for (const notification of derivation.notifications) {
        items.push({
          ...notification,
          endpointIds: endpoints.filter((endpoint) => matches(endpoint, notification.payload, true)).map((endpoint) => endpoint.id),
        });
      }
      added.push(...derivation.grantTimersAdded);
      done.push(...derivation.grantTimersDone);
      // One watch row per account and credit type and day: a busy account does not rewrite it at every consumption.
      for (const watch of derivation.forecastWatches) {
        const key = forecastWatchKey(watch.accountId, watch.creditType);
        if (this.armedWatches.get(key) === watch.dueAtMs) continue;
        this.armedWatches.set(key, watch.dueAtMs);
        if (this.armedWatches.size > MAX_ARMED_WATCHES_REMEMBERED) this.armedWatches.delete(this.armedWatches.keys().next().value as string);
        watches.push(watch);
      }
    }
    const last = events[events.length - 1].position;
    // A batch that derived nothing would derive nothing again: its checkpoint may wait (at most CHECKPOINT_IDLE_SAVE_MS).
    if (items.length === 0 && added.length === 0 && done.length === 0 && watches.length === 0 && Date.now() - this.lastSave < CHECKPOINT_IDLE_SAVE_MS) {
      this.checkpointPosition = last;
      return;
    }
    await this.store.commitBatch(DISPATCHER_NAME, last, items, { added, done, forecastWatches: watches }, this.now());
    this.checkpointPosition = last;
    this.lastSave = Date.now();
    this.counters.derived += items.length;
    if (items.length > 0) this.wake();
  }

  /** Looks for due deliveries (and grant timers) now: wakes within PUMP_COALESCE_MS share one look. */
  wake(): void {
    if (!this.leading || this.stopped || this.wakeTimer !== undefined) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.pumpNow();
    }, PUMP_COALESCE_MS);
  }

  private pumpNow(): void {
    if (!this.leading || this.stopped) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pump()
      .catch((e) => this.logger.error({ err: String(e) }, 'webhooks: could not read due deliveries'))
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.wake();
        }
      });
  }

  private async pump(): Promise<void> {
    // A leader that could not renew its lease in time may have lost it: it starts nothing more.
    if (Date.now() - this.renewedAt > WEBHOOK_LEASE_TTL_MS - WEBHOOK_LEASE_RENEW_MS) return;
    const now = this.now();
    if (Date.now() - this.lastTimerCheck >= TIMER_CHECK_MS) {
      this.lastTimerCheck = Date.now();
      await this.fireGrantTimers(now);
      await this.fireForecastWatches(now);
    }
    const room = MAX_IN_FLIGHT - this.inFlight.size;
    if (room <= 0) return;
    const busy = [...this.perEndpoint].filter(([, count]) => count >= MAX_IN_FLIGHT_PER_ENDPOINT).map(([id]) => id);
    const ready = await this.store.readyDeliveries(now, room, busy, [...this.inFlight.values()]);
    for (const delivery of ready) {
      if (!this.leading) return;
      if ((this.perEndpoint.get(delivery.endpointId) ?? 0) >= MAX_IN_FLIGHT_PER_ENDPOINT) continue;
      this.inFlight.set(delivery.id, delivery.seq);
      this.perEndpoint.set(delivery.endpointId, (this.perEndpoint.get(delivery.endpointId) ?? 0) + 1);
      const attempt = this.attempt(delivery).finally(() => {
        this.inFlight.delete(delivery.id);
        const left = (this.perEndpoint.get(delivery.endpointId) ?? 1) - 1;
        if (left === 0) this.perEndpoint.delete(delivery.endpointId);
        else this.perEndpoint.set(delivery.endpointId, left);
        this.settled = this.settled.filter((pending) => pending !== attempt);
        this.wake();
      });
      this.settled.push(attempt);
    }
  }

  private async attempt(delivery: ReadyDelivery): Promise<void> {
    const at = this.now();
    let record: AttemptRecord;
    try {
      const target = await resolveTarget(delivery.url, this.config);
      const headers = signedHeaders(delivery.secrets, delivery.messageId, Math.floor(Date.now() / 1000), delivery.body);
      const result = await this.sender.send(target, headers, delivery.body);
      record = { at: new Date(at).toISOString(), ...result };
    } catch (e) {
      const reason = e instanceof UrlNotAllowedError ? `refused: ${e.reason}` : e instanceof Error ? e.message : String(e);
      record = { at: new Date(at).toISOString(), statusCode: null, latencyMs: 0, error: reason, response: null };
    }
    this.counters.attempts++;
    const ok = record.statusCode !== null && record.statusCode >= 200 && record.statusCode < 300;
    const gone = record.statusCode === 410;
    let outcome: AttemptOutcome;
    if (ok) outcome = { status: 'succeeded', nextAttemptAt: null, failed: false, gone: false };
    else {
      const next = gone ? null : nextAttemptAt(delivery.attemptCount + 1, delivery.firstAttemptAt ?? at, at, this.random());
      outcome = { status: next === null ? 'failed' : 'pending', nextAttemptAt: next, failed: true, gone };
    }
    if (ok) this.counters.succeeded++;
    else this.counters.failedAttempts++;
    const disabled = await this.record({ delivery, attempt: record, outcome });
    if (disabled !== null)
      await this.announceDisabled(delivery.endpointId, disabled).catch((e) => this.logger.error({ err: String(e) }, 'webhooks: endpoint.disabled'));
  }

  /**
   * Attempts that finish while a write is in progress are written together by the next one (one
   * transaction, one sync), so recording keeps up with many lanes. Resolves with the disabling
   * reason, if the attempt disabled its endpoint. A write that fails leaves the deliveries due:
   * they are attempted again (same webhook-id).
   */
  private record(finished: FinishedAttempt): Promise<string | null> {
    return new Promise((resolve) => {
      this.toRecord.push({ finished, resolve });
      void this.flushRecords();
    });
  }

  private async flushRecords(): Promise<void> {
    if (this.recording) return;
    this.recording = true;
    try {
      while (this.toRecord.length > 0) {
        const batch = this.toRecord.splice(0, this.toRecord.length);
        try {
          const reasons = await this.store.finishAttempts(
            batch.map((entry) => entry.finished),
            this.now(),
            WEBHOOK_DISABLE_AFTER_MS,
          );
          batch.forEach((entry, index) => entry.resolve(reasons[index]));
        } catch (e) {
          this.logger.error({ attempts: batch.length, err: String(e) }, 'webhooks: could not record attempts');
          for (const entry of batch) entry.resolve(null);
        }
      }
    } finally {
      this.recording = false;
    }
  }

  /** endpoint.disabled: to the operator log, and to operator-wide endpoints that subscribe to it. */
  private async announceDisabled(endpointId: string, reason: string): Promise<void> {
    const endpoint = await this.store.endpoint(endpointId);
    if (!endpoint) return;
    const now = this.now();
    this.logger.warn({ event: 'endpoint.disabled', webhookId: endpoint.id, accountId: endpoint.accountId, url: endpoint.url, reason }, 'endpoint.disabled');
    const payload: WebhookPayload = {
      id: `evt_disabled_${endpoint.id}_${now}`,
      type: 'endpoint.disabled',
      accountId: endpoint.accountId,
      position: this.checkpointPosition,
      occurredAt: new Date(now).toISOString(),
      data: {
        webhookId: endpoint.id,
        url: endpoint.url,
        reason,
        failingSince: endpoint.failingSince === null ? null : new Date(endpoint.failingSince).toISOString(),
      },
    };
    const endpoints = await this.store.enabledEndpoints();
    await this.store.insertNotice({ payload, endpointIds: endpoints.filter((candidate) => matches(candidate, payload, false)).map((e) => e.id) }, now);
  }

  /** Due forecast watches: the forecast again at this instant, on the account's current state; armed again for the next midnight while it burns. */
  private async fireForecastWatches(now: number): Promise<void> {
    const due = await this.store.dueForecastWatches(now, TIMERS_PER_TICK);
    if (due.length === 0) return;
    const endpoints = await this.store.enabledEndpoints();
    let stored = false;
    for (const watch of due) {
      const state = await this.states.current(watch.accountId);
      if (state.status !== 'open' || !state.creditTypes[watch.creditType]) {
        await this.store.settleForecastWatch(watch, null, null, now);
        continue;
      }
      const notification = forecastNotification(
        watch.accountId,
        watch.position,
        new Date(now).toISOString(),
        state,
        watch.creditType,
        now,
        this.config.forecastHorizonDays,
      );
      const item = notification && {
        ...notification,
        endpointIds: endpoints.filter((endpoint) => matches(endpoint, notification.payload, true)).map((e) => e.id),
      };
      const next = notification ? null : forecastWatchAfter(watch.accountId, watch.position, state, watch.creditType, now);
      await this.store.settleForecastWatch(watch, item, next, now);
      if (item) stored = true;
    }
    if (stored) this.wake();
  }

  private async fireGrantTimers(now: number): Promise<void> {
    const leadMs = this.config.grantExpiringDays * DAY_MS;
    const due = await this.store.dueGrantTimers(now + leadMs, TIMERS_PER_TICK);
    if (due.length === 0) return;
    const endpoints = await this.store.enabledEndpoints();
    for (const timer of due) {
      const payload = expiringNotification(timer, await this.states.current(timer.accountId), this.config.grantExpiringDays);
      const item = payload === null ? null : { payload, endpointIds: endpoints.filter((endpoint) => matches(endpoint, payload, true)).map((e) => e.id) };
      await this.store.fireGrantTimer(timer, item, now);
    }
  }
}
