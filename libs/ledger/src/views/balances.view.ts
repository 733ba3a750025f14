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

/** The balances with each credit type's depletion forecast at `nowMs` (GET …/balances). */
export function balancesWithForecastView(s: OpenAccountState, nowMs: number) {
  const view = balancesView(s);
  return {
    ...view,
    balances: view.balances.map((balance): BalanceView & { forecast: DepletionForecast } => ({
      ...balance,
      forecast: forecastCreditType(s, balance.creditType, nowMs),
    })),
  };
}
