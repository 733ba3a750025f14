import {
  AccountState,
  BalanceFigures,
  CreditTypePlan,
  DENY_OVERDRAFT,
  forecastCreditType,
  grantBucketId,
  LedgerEvent,
  memberBudget,
  OpenAccountState,
} from '@credit-ledger/domain';
import { DAY_MS } from '../limits';
import { WebhookPayload } from './event-types';

/** A notification derived from one ledger event; `onceKey`: sent at most once per key (forecasts: per credit type and cycle). */
export interface DerivedNotification {
  readonly payload: WebhookPayload;
  readonly onceKey?: string;
}

/** A grant with an expiry: the dispatcher keeps it to send grant.expiring ahead of time. */
export interface GrantTimer {
  readonly accountId: string;
  readonly grantId: string;
  readonly creditType: string;
  readonly expiresAt: string;
  /** Position of the CreditsGranted event. */
  readonly position: number;
}

export interface DerivationInput {
  readonly accountId: string;
  readonly position: number;
  /** When the ledger recorded the event: the instant the forecast is made at. */
  readonly recordedAt: string;
  readonly event: LedgerEvent;
  readonly before: AccountState;
  readonly after: AccountState;
  readonly forecastHorizonDays: number;
}

export interface Derivation {
  readonly notifications: DerivedNotification[];
  readonly grantTimersAdded: GrantTimer[];
  /** `${accountId}\u0000${grantId}` of grants that expired (their timer is done). */
  readonly grantTimersDone: string[];
  /** Credit types whose forecast is to be looked at again at the next UTC midnight. */
  readonly forecastWatches: ForecastWatch[];
}

export function grantTimerKey(accountId: string, grantId: string): string {
  return `${accountId}\u0000${grantId}`;
}

/** The stable id of the `index`-th notification derived from the event at `position`. */
export function notificationId(position: number, suffix: string | number): string {
  return `evt_${position}_${suffix}`;
}

/**
 * Credits still usable before a credit type refuses: `remaining` under `deny` (and an unlimited
 * overdraft, where the included credits are what can run out), `remaining + limit` under a limited overdraft.
 */
export function available(figures: BalanceFigures, plan: CreditTypePlan | undefined): number {
  const overdraft = plan?.overdraft ?? DENY_OVERDRAFT;
  return overdraft.policy === 'allow' && overdraft.limit !== undefined ? figures.remaining + overdraft.limit : figures.remaining;
}

function payload(input: DerivationInput, suffix: string | number, type: WebhookPayload['type'], data: Record<string, unknown>): WebhookPayload {
  return { id: notificationId(input.position, suffix), type, accountId: input.accountId, position: input.position, occurredAt: input.event.occurredAt, data };
}

/** Event types that move credits down within a cycle: where depletion and forecasts are checked. */
const DRAINING = new Set<LedgerEvent['type']>(['CreditConsumed', 'CreditsExpired', 'PlanChanged']);

function depletions(input: DerivationInput, before: OpenAccountState, after: OpenAccountState): DerivedNotification[] {
  if (before.cycleId !== after.cycleId) return [];
  const out: DerivedNotification[] = [];
  for (const creditType of Object.keys(after.creditTypes).sort()) {
    const previous = before.creditTypes[creditType];
    if (!previous) continue;
    const figures = after.creditTypes[creditType].figures;
    const plan = after.plan.creditTypes[creditType];
    const availableNow = available(figures, plan);
    if (available(previous.figures, before.plan.creditTypes[creditType]) <= 0 || availableNow > 0) continue;
    const overdraft = plan?.overdraft ?? DENY_OVERDRAFT;
    out.push({
      payload: payload(input, `depleted:${creditType}`, 'credits.depleted', {
        creditType,
        cycleId: after.cycleId,
        available: availableNow,
        overdraft: { policy: overdraft.policy, limit: overdraft.limit ?? null },
        balance: figures,
      }),
    });
  }
  return out;
}

/** member.limit_reached: this consumption took the member from below their limit to it (once per crossing; a refund below it re-arms). */
function memberLimitsReached(input: DerivationInput, userId: string, creditType: string): DerivedNotification[] {
  if (input.before.status !== 'open' || input.after.status !== 'open' || input.before.cycleId !== input.after.cycleId) return [];
  const before = memberBudget(input.before, userId, creditType);
  const after = memberBudget(input.after, userId, creditType);
  if (after.limit === null || after.used < after.limit || (before.limit !== null && before.used >= before.limit)) return [];
  return [
    {
      payload: payload(input, `member-limit:${creditType}`, 'member.limit_reached', {
        userId,
        creditType,
        cycleId: input.after.cycleId,
        limit: after.limit,
        limitSource: after.limitSource,
        used: after.used,
      }),
    },
  ];
}

/**
 * An account's credit type to look at again: its forecast can move inside the horizon with no
 * movement at all, when a UTC day leaves the burn window (the burn is averaged over fewer days).
 */
export interface ForecastWatch {
  readonly accountId: string;
  readonly creditType: string;
  /** The movement the state it is looked at with derives from. */
  readonly position: number;
  readonly dueAtMs: number;
}

export function forecastWatchKey(accountId: string, creditType: string): string {
  return `${accountId}\u0000${creditType}`;
}

/** The start of the UTC day after `atMs`: when the burn window next drops a day. */
export function nextUtcMidnightMs(atMs: number): number {
  return (Math.floor(atMs / DAY_MS) + 1) * DAY_MS;
}

/** credits.depletion_forecast for one credit type at `atMs`, or null while the projection lies beyond the horizon. */
export function forecastNotification(
  accountId: string,
  position: number,
  occurredAt: string,
  state: OpenAccountState,
  creditType: string,
  atMs: number,
  horizonDays: number,
): DerivedNotification | null {
  const figures = state.creditTypes[creditType].figures;
  if (available(figures, state.plan.creditTypes[creditType]) <= 0) return null; // depleted already: credits.depleted says so
  const forecast = forecastCreditType(state, creditType, atMs);
  if (forecast.projectedDepletionAt === null || Date.parse(forecast.projectedDepletionAt) - atMs > horizonDays * DAY_MS) return null;
  return {
    onceKey: `forecast\u0000${accountId}\u0000${creditType}\u0000${state.cycleId}`,
    payload: {
      id: notificationId(position, `forecast:${creditType}`),
      type: 'credits.depletion_forecast',
      accountId,
      position,
      occurredAt,
      data: {
        creditType,
        cycleId: state.cycleId,
        projectedDepletionAt: forecast.projectedDepletionAt,
        dailyBurn: forecast.dailyBurn,
        remaining: figures.remaining,
        horizonDays,
        cycleEndsAt: state.cycleEndsAt,
        balance: figures,
      },
    },
  };
}

/** A watch for the next UTC midnight while the credit type burns and the cycle is still open then. */
export function forecastWatchAfter(accountId: string, position: number, state: OpenAccountState, creditType: string, atMs: number): ForecastWatch | null {
  const dueAtMs = nextUtcMidnightMs(atMs);
  if (dueAtMs >= Date.parse(state.cycleEndsAt) || forecastCreditType(state, creditType, atMs).dailyBurn <= 0) return null;
  return { accountId, creditType, position, dueAtMs };
}

function forecasts(input: DerivationInput, after: OpenAccountState, derivation: Derivation): void {
  const atMs = Date.parse(input.recordedAt);
  for (const creditType of Object.keys(after.creditTypes).sort()) {
    const notification = forecastNotification(input.accountId, input.position, input.event.occurredAt, after, creditType, atMs, input.forecastHorizonDays);
    if (notification) derivation.notifications.push(notification);
    else {
      const watch = forecastWatchAfter(input.accountId, input.position, after, creditType, atMs);
      if (watch) derivation.forecastWatches.push(watch);
    }
  }
}

/**
 * The notifications one committed ledger event gives rise to, from the account state just before
 * and just after it. Pure: the same event and states always give the same notifications and ids.
 */
export function deriveNotifications(input: DerivationInput): Derivation {
  const derivation: Derivation = { notifications: [], grantTimersAdded: [], grantTimersDone: [], forecastWatches: [] };
  const { event } = input;
  switch (event.type) {
    case 'CreditThresholdCrossed': {
      const data = event.data;
      derivation.notifications.push({
        payload: payload(input, 'threshold', 'credits.threshold_crossed', {
          creditType: data.creditType,
          cycleId: data.cycleId,
          thresholdId: data.thresholdId,
          threshold: data.threshold,
          percentUsed: data.percentUsed,
          balance: data.balanceAfter,
        }),
      });
      break;
    }
    case 'CycleReset': {
      const data = event.data;
      derivation.notifications.push({
        payload: payload(input, 'reset', 'cycle.reset', {
          cycleId: data.cycleId,
          previousCycleId: data.previousCycleId,
          startedAt: data.startedAt,
          endsAt: data.endsAt,
          trigger: data.trigger,
          closing: data.closing,
          opening: data.opening,
        }),
      });
      break;
    }
    case 'CreditsGranted': {
      const data = event.data;
      derivation.notifications.push({
        payload: payload(input, 'grant', 'grant.created', {
          grantId: data.grantId,
          creditType: data.creditType,
          credits: data.credits,
          reason: data.reason,
          expiresAt: data.expiresAt,
          priority: data.priority,
          cycleId: data.cycleId,
          balance: data.balanceAfter,
        }),
      });
      if (data.expiresAt !== null) {
        derivation.grantTimersAdded.push({
          accountId: input.accountId,
          grantId: data.grantId,
          creditType: data.creditType,
          expiresAt: data.expiresAt,
          position: input.position,
        });
      }
      break;
    }
    case 'CreditsExpired': {
      const data = event.data;
      if (data.grantId === null) break; // a rollover bucket lapsed: not a grant
      derivation.grantTimersDone.push(grantTimerKey(input.accountId, data.grantId));
      derivation.notifications.push({
        payload: payload(input, 'grant-expired', 'grant.expired', {
          grantId: data.grantId,
          creditType: data.creditType,
          credits: data.credits,
          expiredAt: data.expiredAt,
          cycleId: data.cycleId,
          balance: data.balanceAfter,
        }),
      });
      break;
    }
    case 'PlanChanged': {
      const data = event.data;
      derivation.notifications.push({
        payload: payload(input, 'plan', 'plan.changed', {
          planId: data.planId,
          previousPlanId: data.previousPlanId,
          effective: data.effective,
          effectiveAt: data.effectiveAt,
          cycleId: data.cycleId,
          creditTypes: data.creditTypes,
          adjustments: data.adjustments,
        }),
      });
      break;
    }
    case 'CreditConsumed':
      derivation.notifications.push(...memberLimitsReached(input, event.data.userId, event.data.creditType));
      break;
    case 'ReservationExpired': {
      const data = event.data;
      derivation.notifications.push({
        payload: payload(input, 'reservation-expired', 'reservation.expired', {
          reservationId: data.reservationId,
          userId: data.userId,
          creditType: data.creditType,
          credits: data.held,
          expiresAt: data.expiresAt,
          cycleId: data.cycleId,
          balance: data.balanceAfter,
          reserved: data.reservedAfter,
          available: data.balanceAfter.remaining - data.reservedAfter,
        }),
      });
      break;
    }
    case 'AccountOpened':
    case 'CreditRefunded':
    case 'MemberLimitsSet':
    case 'CreditsReserved':
    case 'ReservationCaptured':
    case 'ReservationReleased':
    case 'ScheduleChanged':
    case 'ThresholdsSet':
      break;
    default: {
      const unknownEvent: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknownEvent)}`);
    }
  }
  if (DRAINING.has(event.type) && input.before.status === 'open' && input.after.status === 'open') {
    derivation.notifications.push(...depletions(input, input.before, input.after));
    forecasts(input, input.after, derivation);
  }
  return derivation;
}

/** grant.expiring for a grant whose expiry is near, with what is left of it (null: nothing left to expire). */
export function expiringNotification(timer: GrantTimer, state: AccountState, leadDays: number): WebhookPayload | null {
  if (state.status !== 'open') return null;
  const bucket = state.creditTypes[timer.creditType]?.buckets.find((candidate) => candidate.id === grantBucketId(timer.grantId));
  if (!bucket || bucket.remaining <= 0) return null;
  return {
    id: notificationId(timer.position, 'grant-expiring'),
    type: 'grant.expiring',
    accountId: timer.accountId,
    position: timer.position,
    occurredAt: new Date(Date.parse(timer.expiresAt) - leadDays * DAY_MS).toISOString(),
    data: { grantId: timer.grantId, creditType: timer.creditType, expiresAt: timer.expiresAt, remainingCredits: bucket.remaining, noticeDays: leadDays },
  };
}
