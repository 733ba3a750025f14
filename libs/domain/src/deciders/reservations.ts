import { CaptureReservation, CaptureReservationData, ExpireReservations, ReleaseReservation, ReserveCredits, ReserveCreditsData } from '../commands';
import { DomainErrorCode, refuse } from '../errors';
import { CreditConsumed, CreditsReserved, ReservationCaptured, ReservationReleased } from '../events';
import { evolve } from '../evolve';
import { DEFAULT_RESERVATION_SECONDS, MAX_OPEN_RESERVATIONS_PER_ACCOUNT } from '../limits';
import { CaptureRequest, OpenAccountState, OpenHold, purchaseKey, ReservationRecord, ReservationRequest, sameReservationRequest } from '../state';
import { advance, applyAll, expireBuckets } from './cycles';
import { accepted, Decision, DUPLICATE } from './decision';
import { holdReturn, splitHold } from './holds';
import { Price } from './pricing';
import { assessSpend } from './spending';
import { alertsFor } from './thresholds';

function reservationRequest(data: ReserveCreditsData): ReservationRequest {
  return {
    userId: data.userId,
    creditType: data.creditType ?? null,
    feature: data.feature,
    action: data.action,
    creditsRequested: data.credits ?? null,
    units: data.units ?? 1,
    expiresInSeconds: data.expiresInSeconds ?? DEFAULT_RESERVATION_SECONDS,
    description: data.description ?? null,
    dataKey: data.dataKey ?? null,
  };
}

function requireReservation(state: OpenAccountState, reservationId: string): ReservationRecord {
  const record = state.index.reservations.get(reservationId);
  if (!record) refuse(DomainErrorCode.ReservationNotFound, `reservation ${reservationId} does not exist in this account`, { reservationId });
  return record;
}

function notOpen(record: ReservationRecord): never {
  if (record.status === 'expired') {
    refuse(DomainErrorCode.ReservationExpired, `reservation ${record.reservationId} expired at ${record.expiresAt}`, {
      reservationId: record.reservationId,
      expiresAt: record.expiresAt,
    });
  }
  refuse(DomainErrorCode.ReservationNotOpen, `reservation ${record.reservationId} is ${record.status}`, {
    reservationId: record.reservationId,
    status: record.status,
    ...(record.reason === null ? {} : { reason: record.reason }),
  });
}

/**
 * Holds credits for work whose cost is not known yet: priced and decided exactly like a
 * consumption (`assessSpend`: rate card, available balance, overdraft, member budget), drawn from
 * the buckets, but not used until a capture.
 */
export function reserveCredits(command: ReserveCredits, state: OpenAccountState): Decision {
  const data = command.data;
  const request = reservationRequest(data);
  const earlier = state.index.reservations.get(data.reservationId);
  if (earlier) {
    if (sameReservationRequest(earlier.request, request)) return DUPLICATE;
    refuse(DomainErrorCode.IdempotencyKeyReused, `reservationId ${data.reservationId} was already used with another payload`, {
      reservationId: data.reservationId,
    });
  }
  const { state: advanced, events: before } = advance(state, command.at);
  if (advanced.holds.open.length >= MAX_OPEN_RESERVATIONS_PER_ACCOUNT) {
    refuse(DomainErrorCode.TooManyOpenReservations, `the account already has ${MAX_OPEN_RESERVATIONS_PER_ACCOUNT} open reservations`, {
      max: MAX_OPEN_RESERVATIONS_PER_ACCOUNT,
    });
  }
  const assessed = assessSpend(advanced, data, command.at);
  if (assessed.refusal) throw assessed.refusal;
  const price = assessed.price as Price;
  const credits = assessed.charged as number;
  const reserved: CreditsReserved = {
    type: 'CreditsReserved',
    occurredAt: command.at,
    data: {
      reservationId: data.reservationId,
      userId: data.userId,
      creditType: price.creditType,
      feature: data.feature,
      action: data.action,
      description: request.description,
      dataKey: request.dataKey,
      creditsRequested: request.creditsRequested,
      units: price.units,
      pricedBy: price.pricedBy,
      rate: price.rate,
      credits,
      alreadyPurchased: assessed.paidBy !== null,
      expiresInSeconds: request.expiresInSeconds,
      expiresAt: new Date(Date.parse(command.at) + request.expiresInSeconds * 1000).toISOString(),
      cycleId: assessed.state.cycleId,
      heldFrom: assessed.drawnFrom,
      balanceAfter: assessed.figures as CreditsReserved['data']['balanceAfter'],
      reservedAfter: (assessed.reserved as number) + credits,
    },
  };
  return accepted([...before, ...assessed.expiries, reserved]);
}

function captureRequest(data: CaptureReservationData): CaptureRequest {
  return {
    consumptionId: data.consumptionId,
    creditsRequested: data.credits ?? null,
    description: data.description ?? null,
    dataRequested: data.dataRequested ?? null,
  };
}

function sameCapture(earlier: CaptureRequest, retry: CaptureRequest): boolean {
  return earlier.creditsRequested === retry.creditsRequested && earlier.description === retry.description && earlier.dataRequested === retry.dataRequested;
}

/** The open hold a capture takes, after the events `advance` decided (an expiry or a reset may have ended it). */
function capturableHold(state: OpenAccountState, command: CaptureReservation): { record: ReservationRecord; hold: OpenHold } | 'duplicate' {
  const data = command.data;
  const record = requireReservation(state, data.reservationId);
  if (record.capture !== null && record.capture.consumptionId === data.consumptionId) {
    if (sameCapture(record.capture, captureRequest(data))) return 'duplicate';
    refuse(DomainErrorCode.IdempotencyKeyReused, `consumptionId ${data.consumptionId} was already used with another payload`, {
      consumptionId: data.consumptionId,
    });
  }
  if (state.index.consumptions.has(data.consumptionId)) {
    refuse(DomainErrorCode.IdempotencyKeyReused, `consumptionId ${data.consumptionId} was already used`, { consumptionId: data.consumptionId });
  }
  if (record.status !== 'open') notOpen(record);
  if (record.expiresAt <= command.at) notOpen({ ...record, status: 'expired' });
  const hold = state.holds.open.find((open) => open.reservationId === data.reservationId);
  if (!hold) throw new Error(`reservation ${data.reservationId} is open without a hold`);
  const credits = data.credits ?? hold.credits;
  if (credits > hold.credits) {
    refuse(DomainErrorCode.CaptureExceedsReservation, `capture of ${credits} exceeds the ${hold.credits} credits held by reservation ${data.reservationId}`, {
      reservationId: data.reservationId,
      requested: credits,
      held: hold.credits,
    });
  }
  return { record, hold };
}

/** The consumption a capture records: the held draws it keeps, no new draw. */
function capturedConsumption(
  state: OpenAccountState,
  command: CaptureReservation,
  record: ReservationRecord,
  charged: number,
  paidBy: string | null,
  drawnFrom: CreditConsumed['data']['drawnFrom'],
): CreditConsumed {
  const data = command.data;
  const figures = state.creditTypes[record.creditType].figures;
  return {
    type: 'CreditConsumed',
    occurredAt: command.at,
    data: {
      consumptionId: data.consumptionId,
      userId: record.userId,
      creditType: record.creditType,
      feature: record.feature,
      action: record.action,
      description: data.description ?? record.request.description,
      dataRequested: data.dataRequested ?? null,
      dataKey: record.request.dataKey,
      creditsRequested: data.credits ?? null,
      units: record.units,
      pricedBy: record.pricedBy,
      rate: record.rate,
      creditsCharged: charged,
      alreadyPurchased: paidBy !== null,
      paidByConsumptionId: paidBy,
      cycleId: state.cycleId,
      drawnFrom,
      reservationId: record.reservationId,
      balanceAfter: { ...figures, used: figures.used + charged, remaining: figures.remaining - charged },
    },
  };
}

/**
 * Captures a reservation: records the consumption of `credits` (at most what is held; default all;
 * 0 is a free "nothing found") and gives the rest back, in one decision. After it the reservation
 * is closed; the same consumptionId again is the first outcome.
 */
export function captureReservation(command: CaptureReservation, state: OpenAccountState): Decision {
  const first = capturableHold(state, command);
  if (first === 'duplicate') return DUPLICATE;
  const { state: advanced, events: before } = advance(state, command.at);
  // A reset between the hold and now released it (the hold was checked open and unexpired at `at`).
  const found = capturableHold(advanced, command);
  if (found === 'duplicate') return DUPLICATE;
  const { record, hold } = found;
  const expiries = expireBuckets(advanced, record.creditType, command.at);
  const current = applyAll(advanced, expiries);
  const credits = command.data.credits ?? hold.credits;
  const paidBy = record.request.dataKey === null ? null : (current.index.purchases.get(purchaseKey(record.creditType, record.request.dataKey)) ?? null);
  const charged = paidBy === null ? credits : 0;
  const split = splitHold(current, hold, charged);
  const consumed = capturedConsumption(current, command, record, charged, paidBy, split.kept);
  const afterConsumed = evolve(current, consumed) as OpenAccountState;
  const captured: ReservationCaptured = {
    type: 'ReservationCaptured',
    occurredAt: command.at,
    data: { ...holdReturn(afterConsumed, hold, split), consumptionId: command.data.consumptionId, captured: charged, released: hold.credits - charged },
  };
  const afterCaptured = evolve(afterConsumed, captured) as OpenAccountState;
  const alerts = charged > 0 || expiries.length > 0 ? alertsFor(afterCaptured, record.creditType, captured.data.balanceAfter, command.at) : [];
  // The capture's events are folded already (its figures come from them): the state after them goes with the decision.
  return accepted([...before, ...expiries, consumed, captured, ...alerts], applyAll(afterCaptured, alerts));
}

/**
 * Releases a reservation: the held credits go back. Releasing one already released or expired
 * changes nothing (idempotent); a captured one is RESERVATION_NOT_OPEN.
 */
export function releaseReservation(command: ReleaseReservation, state: OpenAccountState): Decision {
  const data = command.data;
  requireReservation(state, data.reservationId);
  const { state: advanced, events: before } = advance(state, command.at);
  const record = requireReservation(advanced, data.reservationId);
  if (record.status === 'captured') notOpen(record);
  if (record.status !== 'open') return before.length > 0 ? accepted(before) : DUPLICATE;
  const hold = advanced.holds.open.find((open) => open.reservationId === data.reservationId) as OpenHold;
  const released: ReservationReleased = {
    type: 'ReservationReleased',
    occurredAt: command.at,
    data: { ...holdReturn(advanced, hold, splitHold(advanced, hold, 0)), reason: data.reason ?? null },
  };
  return accepted([...before, released]);
}

/** The sweeper's command: what is due at `at` (hold expiries, and the resets of passed boundaries); nothing due is a duplicate. */
export function expireReservations(command: ExpireReservations, state: OpenAccountState): Decision {
  const { events } = advance(state, command.at);
  return events.length > 0 ? accepted(events) : DUPLICATE;
}
