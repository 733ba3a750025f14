import { OpenAccountState, ReservationRecord } from '@credit-ledger/domain';
import { AccountView } from '../infrastructure/account-repository';
import { balanceView } from './balances.view';

export const reservationKey = (reservationId: string) => `reserve:${reservationId}`;
export const captureKey = (reservationId: string) => `capture:${reservationId}`;
export const releaseKey = (reservationId: string) => `release:${reservationId}`;

/** A reservation as the API shows it. */
export function reservationView(record: ReservationRecord) {
  return {
    reservationId: record.reservationId,
    status: record.status,
    userId: record.userId,
    creditType: record.creditType,
    feature: record.feature,
    action: record.action,
    units: record.units,
    pricedBy: record.pricedBy,
    rate: record.rate,
    credits: record.credits,
    alreadyPurchased: record.alreadyPurchased,
    description: record.request.description,
    dataKey: record.request.dataKey,
    cycleId: record.cycleId,
    reservedAt: record.reservedAt,
    expiresAt: record.expiresAt,
    closedAt: record.closedAt,
    consumptionId: record.capture?.consumptionId ?? null,
    captured: record.captured,
    released: record.released,
    reason: record.reason,
  };
}

export function reservationRecord(session: AccountView, reservationId: string): ReservationRecord {
  const record = (session.state as OpenAccountState).index.reservations.get(reservationId);
  if (!record) throw new Error(`reservation ${reservationId} is not in the state`);
  return record;
}

/** The answer to a reservation: the same for the first call and every retry (the figures right after the hold). */
export function reservedView(session: AccountView, reservationId: string) {
  const record = reservationRecord(session, reservationId);
  const balance = {
    ...balanceView(record.creditType, record.balanceAfter),
    reserved: record.reservedAfter,
    available: record.balanceAfter.remaining - record.reservedAfter,
  };
  return { ...reservationView(record), balance, position: session.positionOf(reservationKey(reservationId)) };
}
