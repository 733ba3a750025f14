import { BalanceFigures, OpenAccountState } from '../../../domain/src';

export interface BalanceView extends BalanceFigures {
  readonly creditType: string;
}

export function balanceView(creditType: string, f: BalanceFigures): BalanceView {
  return { creditType, allocated: f.allocated, rolledIn: f.rolledIn, granted: f.granted, used: f.used, refunded: f.refunded, expired: f.expired, remaining: f.remaining };
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

import type { Response } from 'express';
import type { Outcome } from '../infrastructure/command-executor';

export type { Outcome };

/** Sets the outcome's status (201 new, 200 idempotent retry) and returns its body. */
export function answer<B>(res: Response, outcome: Outcome<B>): B {
  res.status(outcome.status);
  return outcome.body;
}
