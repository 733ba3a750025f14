import { BalanceFigures, DepletionForecast, forecastCreditType, OpenAccountState } from '@credit-ledger/domain';

export interface BalanceView extends BalanceFigures {
  readonly creditType: string;
}

export function balanceView(creditType: string, f: BalanceFigures): BalanceView {
  return {
    creditType,
    allocated: f.allocated,
    rolledIn: f.rolledIn,
    granted: f.granted,
    used: f.used,
    refunded: f.refunded,
    expired: f.expired,
    remaining: f.remaining,
  };
}

export function balancesView(s: OpenAccountState) {
  return {
    accountId: s.accountId,
    cycleId: s.cycleId,
    cycleStartedAt: s.cycleStartedAt,
    cycleEndsAt: s.cycleEndsAt,
    balances: Object.keys(s.creditTypes)
      .sort()
      .map((t) => balanceView(t, s.creditTypes[t].figures)),
  };
}

/**
 * Credits of `creditType` held at `nowMs`: open reservations not yet past their expiry (one past it
 * holds nothing for any decision, even before its ReservationExpired is written).
 */
export function reservedAt(s: OpenAccountState, creditType: string, nowMs: number): number {
  const now = new Date(nowMs).toISOString();
  let held = 0;
  for (const hold of s.holds.open) if (hold.creditType === creditType && hold.expiresAt > now) held += hold.credits;
  return held;
}

/** The balances with what is held, what is available and each credit type's depletion forecast at `nowMs` (GET …/balances). */
export function balancesWithForecastView(s: OpenAccountState, nowMs: number) {
  const view = balancesView(s);
  return {
    ...view,
    balances: view.balances.map((balance): BalanceView & { reserved: number; available: number; forecast: DepletionForecast } => {
      const reserved = reservedAt(s, balance.creditType, nowMs);
      return { ...balance, reserved, available: balance.remaining - reserved, forecast: forecastCreditType(s, balance.creditType, nowMs) };
    }),
  };
}
