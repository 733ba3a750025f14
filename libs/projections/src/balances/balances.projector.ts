import { BalanceFigures } from '@credit-ledger/domain';
import { inKeyOrder, ProjectedEvent, Projector } from '../projector';
import { bigint, insertRows, text } from '../postgres/pg-sql';

export interface BalanceRow extends BalanceFigures {
  readonly accountId: string;
  readonly creditType: string;
  readonly cycleId: string;
  readonly position: number;
}

/** The balance rows an event sets (pure: also used by `verify`): the figures after the event. */
export function balanceRows(p: ProjectedEvent): BalanceRow[] {
  const e = p.event;
  const row = (creditType: string, cycleId: string, f: BalanceFigures): BalanceRow => ({
    accountId: p.accountId,
    creditType,
    cycleId,
    position: p.position,
    allocated: f.allocated,
    rolledIn: f.rolledIn,
    granted: f.granted,
    used: f.used,
    refunded: f.refunded,
    expired: f.expired,
    remaining: f.remaining,
  });
  switch (e.type) {
    case 'AccountOpened':
      return Object.entries(e.data.plan.creditTypes).map(([type, plan]) =>
        row(type, e.data.cycleId, { allocated: plan.allocation, rolledIn: 0, granted: 0, used: 0, refunded: 0, expired: 0, remaining: plan.allocation }),
      );
    case 'CreditConsumed':
    case 'CreditRefunded':
    case 'CreditsGranted':
    case 'CreditsExpired':
    case 'CreditThresholdCrossed':
    case 'CreditsReserved':
    case 'ReservationCaptured':
    case 'ReservationReleased':
    case 'ReservationExpired':
      return [row(e.data.creditType, e.data.cycleId, e.data.balanceAfter)];
    case 'CycleReset':
      return [...e.data.closing.map((c) => row(c.creditType, e.data.previousCycleId, c)), ...e.data.opening.map((o) => row(o.creditType, e.data.cycleId, o))];
    case 'PlanChanged':
      return e.data.adjustments.map((a) => row(a.creditType, e.data.cycleId, a.balanceAfter));
    case 'ScheduleChanged':
    case 'ThresholdsSet':
    case 'MemberLimitsSet':
      return [];
    default: {
      const unknown: never = e;
      throw new Error(`balances: unknown event ${(unknown as { type: string }).type}`);
    }
  }
}

/** Balances per account, credit type and cycle (the closing figures stay on each past cycle's row). */
export const balancesProjector: Projector = {
  name: 'balances',
  version: 1,
  schema: (t) => `
    CREATE TABLE IF NOT EXISTS ${t('balances')} (
      account_id  TEXT    NOT NULL,
      credit_type TEXT    NOT NULL,
      cycle_id    TEXT    NOT NULL,
      allocated   INTEGER NOT NULL,
      rolled_in   INTEGER NOT NULL,
      granted     INTEGER NOT NULL,
      used        INTEGER NOT NULL,
      refunded    INTEGER NOT NULL,
      expired     INTEGER NOT NULL,
      remaining   INTEGER NOT NULL,
      position    INTEGER NOT NULL,
      PRIMARY KEY (account_id, credit_type, cycle_id)
    ) WITHOUT ROWID;`,
  tables: (t) => [t('balances')],
  prepare(db, t) {
    const upsert = db.prepare(`INSERT INTO ${t('balances')} AS cur VALUES (${BALANCE_FIELDS.map(() => '?').join(', ')}) ${KEEP_LATEST_FIGURES}`);
    return (batch) => {
      // Positional binding: several times cheaper than named parameters in a replay.
      for (const r of latestBalanceRows(batch))
        upsert.run(r.accountId, r.creditType, r.cycleId, r.allocated, r.rolledIn, r.granted, r.used, r.refunded, r.expired, r.remaining, r.position);
    };
  },
  applyPostgres: (client, t, batch) =>
    insertRows(
      client,
      t('balances'),
      BALANCE_COLUMNS,
      latestBalanceRows(batch).map((r) => BALANCE_FIELDS.map((f) => r[f])),
      KEEP_LATEST_FIGURES,
    ),
};

/** A replayed or out-of-order row never overwrites figures from a later position. */
const KEEP_LATEST_FIGURES = `ON CONFLICT (account_id, credit_type, cycle_id) DO UPDATE SET allocated = excluded.allocated, rolled_in = excluded.rolled_in,
  granted = excluded.granted, used = excluded.used, refunded = excluded.refunded, expired = excluded.expired, remaining = excluded.remaining,
  position = excluded.position
  WHERE excluded.position >= cur.position`;

const BALANCE_FIELDS = [
  'accountId',
  'creditType',
  'cycleId',
  'allocated',
  'rolledIn',
  'granted',
  'used',
  'refunded',
  'expired',
  'remaining',
  'position',
] as const;
const BALANCE_COLUMNS = [
  ...['account_id', 'credit_type', 'cycle_id'].map(text),
  ...['allocated', 'rolled_in', 'granted', 'used', 'refunded', 'expired', 'remaining', 'position'].map(bigint),
];

/** Only the last figures of each (account, type, cycle) in a batch matter: one write per key. */
function latestBalanceRows(batch: readonly ProjectedEvent[]): BalanceRow[] {
  const last = new Map<string, BalanceRow>();
  for (const p of batch) for (const r of balanceRows(p)) last.set(`${r.accountId}\u0000${r.creditType}\u0000${r.cycleId}`, r);
  return inKeyOrder(last);
}
