/** Stable codes of domain refusals. Clients and integrations match on these strings. */
export const DomainErrorCode = {
  AccountNotFound: 'ACCOUNT_NOT_FOUND',
  InsufficientCredits: 'INSUFFICIENT_CREDITS',
  IdempotencyKeyReused: 'IDEMPOTENCY_KEY_REUSED',
  RefundExceedsConsumption: 'REFUND_EXCEEDS_CONSUMPTION',
  ConsumptionNotFound: 'CONSUMPTION_NOT_FOUND',
  UnknownCreditType: 'UNKNOWN_CREDIT_TYPE',
  GrantAlreadyExpired: 'GRANT_ALREADY_EXPIRED',
  CycleAlreadyClosed: 'CYCLE_ALREADY_CLOSED',
  CycleNotDue: 'CYCLE_NOT_DUE',
  CyclesBehind: 'CYCLES_BEHIND',
  PlanRemovesCreditType: 'PLAN_REMOVES_CREDIT_TYPE',
  InvalidSchedule: 'INVALID_SCHEDULE',
  NoRateForAction: 'NO_RATE_FOR_ACTION',
  ClientPriceNotAllowed: 'CLIENT_PRICE_NOT_ALLOWED',
  MemberLimitExceeded: 'MEMBER_LIMIT_EXCEEDED',
  ChargeTooLarge: 'CHARGE_TOO_LARGE',
  InvalidRates: 'INVALID_RATES',
  ReservationNotFound: 'RESERVATION_NOT_FOUND',
  ReservationNotOpen: 'RESERVATION_NOT_OPEN',
  ReservationExpired: 'RESERVATION_EXPIRED',
  CaptureExceedsReservation: 'CAPTURE_EXCEEDS_RESERVATION',
  TooManyOpenReservations: 'TOO_MANY_OPEN_RESERVATIONS',
} as const;
export type DomainErrorCode = (typeof DomainErrorCode)[keyof typeof DomainErrorCode];

/** A refusal decided by the domain: nothing is appended. Mapped to HTTP 409 (404 for ACCOUNT_NOT_FOUND). */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function refuse(code: DomainErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new DomainError(code, message, details);
}
