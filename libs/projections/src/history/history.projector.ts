import { ProjectedEvent, Projector } from '../projector';
import { bigint, insertRows, PgColumn, text } from '../postgres/pg-sql';

/** Kinds of history rows: every credit movement, plus the accesses charged 0 (already purchased). */
export type HistoryKind =
  'consumption' | 'refund' | 'grant' | 'expiry' | 'cycle_reset' | 'plan_change' | 'threshold_alert' | 'member_limit' | 'hold' | 'hold_release' | 'hold_expiry';

/** Rows of reservations' holds, releases and expiries: listed only when a query asks for them (includeHolds). */
export const HOLD_KINDS: readonly HistoryKind[] = ['hold', 'hold_release', 'hold_expiry'];

/**
 * History ledger: one row per credit movement. `credits` is what the row did to the balance from
 * the user's point of view: a consumption's charge (0 for an already-purchased access), a refund
 * negative, a grant or a new cycle's allocation positive, an expiry the credits that lapsed, a
 * plan change effective now its prorated allocation change. Threshold alerts and member limit
 * changes are non-credit rows (credits 0); schedule and threshold settings are configuration, not
 * movements, and stay in the audit trail (/events) only. Consumptions carry their units, the rate
 * they were priced at (credits per unit, null when client-priced) and how they were priced.
 * v2: units, rate and priced_by; member limit rows.
 * v3: reservations: the captured consumption carries its reservation_id; hold, hold_release
 * (the part a capture did not use, or a release) and hold_expiry rows (credits 0: a hold moves
 * no credit in or out of the balance; the description says what was held or given back).
 */
export const historyProjector: Projector = {
  name: 'history',
  version: 3,
  schema: (t) => `
    CREATE TABLE IF NOT EXISTS ${t('history')} (
      row_id            INTEGER PRIMARY KEY,
      position          INTEGER NOT NULL,
      account_id        TEXT    NOT NULL,
      occurred_at       TEXT    NOT NULL,
      recorded_at       TEXT    NOT NULL,
      kind              TEXT    NOT NULL,
      credit_type       TEXT,
      feature           TEXT,
      action            TEXT,
      description       TEXT,
      credits           INTEGER NOT NULL,
      data_requested    TEXT,
      user_id           TEXT,
      consumption_id    TEXT,
      refund_id         TEXT,
      grant_id          TEXT,
      cycle_id          TEXT,
      already_purchased INTEGER NOT NULL DEFAULT 0,
      event_id          TEXT    NOT NULL,
      units             INTEGER,
      rate              INTEGER,
      priced_by         TEXT,
      reservation_id    TEXT
    );`,
  indexes: (t) => `
    CREATE INDEX IF NOT EXISTS ${t('history')}_time    ON ${t('history')} (account_id, occurred_at, row_id);
    CREATE INDEX IF NOT EXISTS ${t('history')}_user    ON ${t('history')} (account_id, user_id, occurred_at, row_id);
    CREATE INDEX IF NOT EXISTS ${t('history')}_feature ON ${t('history')} (account_id, feature, action, occurred_at, row_id);
    CREATE INDEX IF NOT EXISTS ${t('history')}_consumption ON ${t('history')} (account_id, consumption_id);`,
  tables: (t) => [t('history')],
  prepare(db, t) {
    // A cycle reset yields one row per credit type: rows are keyed by position * 64 + index
    // (a plan has at most 32 credit types), so replaying an event inserts nothing new.
    const insert = db.prepare(`INSERT OR IGNORE INTO ${t('history')} (${HISTORY_COLUMNS.map((c) => c.name).join(', ')})
      VALUES (${HISTORY_COLUMNS.map(() => '?').join(', ')})`);
    return (batch) => {
      // Positional binding: several times cheaper than named parameters on this hot path.
      for (const p of batch) for (const r of historyRows(p)) insert.run(historyValues(r));
    };
  },
  applyPostgres: (client, t, batch) =>
    insertRows(client, t('history'), HISTORY_COLUMNS, batch.flatMap(historyRows).map(historyValues), 'ON CONFLICT (row_id) DO NOTHING'),
};

const HISTORY_COLUMNS: readonly PgColumn[] = [
  bigint('row_id'),
  bigint('position'),
  text('account_id'),
  text('occurred_at'),
  text('recorded_at'),
  text('kind'),
  text('credit_type'),
  text('feature'),
  text('action'),
  text('description'),
  bigint('credits'),
  text('data_requested'),
  text('user_id'),
  text('consumption_id'),
  text('refund_id'),
  text('grant_id'),
  text('cycle_id'),
  bigint('already_purchased'),
  text('event_id'),
  bigint('units'),
  bigint('rate'),
  text('priced_by'),
  text('reservation_id'),
];

/** A history row's values in HISTORY_COLUMNS order. */
function historyValues(r: HistoryRow): unknown[] {
  return [
    r.rowId,
    r.position,
    r.accountId,
    r.occurredAt,
    r.recordedAt,
    r.kind,
    r.creditType,
    r.feature,
    r.action,
    r.description,
    r.credits,
    r.dataRequested,
    r.userId,
    r.consumptionId,
    r.refundId,
    r.grantId,
    r.cycleId,
    r.alreadyPurchased,
    r.eventId,
    r.units,
    r.rate,
    r.pricedBy,
    r.reservationId,
  ];
}

export interface HistoryRow {
  rowId: number;
  position: number;
  accountId: string;
  occurredAt: string;
  recordedAt: string;
  kind: HistoryKind;
  creditType: string | null;
  feature: string | null;
  action: string | null;
  description: string | null;
  credits: number;
  dataRequested: string | null;
  userId: string | null;
  consumptionId: string | null;
  refundId: string | null;
  grantId: string | null;
  cycleId: string | null;
  alreadyPurchased: number;
  eventId: string;
  /** Consumptions only: units of the action, the rate card's credits per unit (null when client-priced), how it was priced. */
  units: number | null;
  rate: number | null;
  pricedBy: string | null;
  /** The reservation a consumption captured, or the reservation of a hold row. */
  reservationId: string | null;
}

const ROW_SLOTS_PER_EVENT = 64;

/** The history rows of one event (pure: also used by `verify`). Row ids are position * 64 + index. */
export function historyRows(p: ProjectedEvent): HistoryRow[] {
  const base = {
    position: p.position,
    accountId: p.accountId,
    occurredAt: p.event.occurredAt,
    recordedAt: p.recordedAt,
    eventId: p.eventId,
    feature: null,
    action: null,
    description: null,
    dataRequested: null,
    userId: null,
    consumptionId: null,
    refundId: null,
    grantId: null,
    cycleId: null,
    alreadyPurchased: 0,
    units: null,
    rate: null,
    pricedBy: null,
    reservationId: null,
  };
  const key = (i: number) => p.position * ROW_SLOTS_PER_EVENT + i;
  const e = p.event;
  switch (e.type) {
    case 'AccountOpened':
      return [];
    case 'CreditConsumed':
      return [
        {
          ...base,
          rowId: key(0),
          kind: 'consumption',
          creditType: e.data.creditType,
          feature: e.data.feature,
          action: e.data.action,
          description: e.data.description,
          credits: e.data.creditsCharged,
          dataRequested: e.data.dataRequested,
          userId: e.data.userId,
          consumptionId: e.data.consumptionId,
          cycleId: e.data.cycleId,
          alreadyPurchased: e.data.alreadyPurchased ? 1 : 0,
          units: e.data.units,
          rate: e.data.rate === null ? null : e.data.rate.credits,
          pricedBy: e.data.pricedBy,
          reservationId: e.data.reservationId,
        },
      ];
    case 'CreditRefunded':
      return [
        {
          ...base,
          rowId: key(0),
          kind: 'refund',
          creditType: e.data.creditType,
          feature: e.data.feature,
          action: e.data.action,
          description: e.data.reason,
          credits: -e.data.credits,
          userId: e.data.userId,
          consumptionId: e.data.consumptionId,
          refundId: e.data.refundId,
          cycleId: e.data.cycleId,
        },
      ];
    case 'CreditsGranted':
      return [
        {
          ...base,
          rowId: key(0),
          kind: 'grant',
          creditType: e.data.creditType,
          description: e.data.reason,
          credits: e.data.credits,
          grantId: e.data.grantId,
          cycleId: e.data.cycleId,
        },
      ];
    case 'CreditsExpired':
      return [
        {
          ...base,
          rowId: key(0),
          kind: 'expiry',
          creditType: e.data.creditType,
          description: `${e.data.grantId === null ? e.data.bucketId : `grant ${e.data.grantId}`} expired`,
          credits: e.data.credits,
          grantId: e.data.grantId,
          cycleId: e.data.cycleId,
        },
      ];
    case 'CycleReset':
      return Object.keys(e.data.allocations)
        .sort()
        .map((creditType, i) => {
          const closing = e.data.closing.find((c) => c.creditType === creditType);
          return {
            ...base,
            rowId: key(i),
            kind: 'cycle_reset' as const,
            creditType,
            description: `cycle ${e.data.cycleId} opened (previous ${e.data.previousCycleId}: used ${closing?.used ?? 0}, expired ${closing?.expiredAtReset ?? 0}, rolled over ${closing?.rolledOver ?? 0}, carried over ${closing?.carriedOver ?? 0})`,
            credits: e.data.allocations[creditType],
            cycleId: e.data.cycleId,
          };
        });
    case 'PlanChanged':
      if (e.data.adjustments.length === 0) {
        return [
          {
            ...base,
            rowId: key(0),
            kind: 'plan_change',
            creditType: null,
            description: `plan ${e.data.planId} from the next cycle`,
            credits: 0,
            cycleId: e.data.cycleId,
          },
        ];
      }
      return e.data.adjustments.map((a, i) => ({
        ...base,
        rowId: key(i),
        kind: 'plan_change' as const,
        creditType: a.creditType,
        description: `plan ${e.data.planId}: allocation ${a.previousAllocation} → ${a.newAllocation}, ${a.change >= 0 ? '+' : ''}${a.change} this cycle (prorated)`,
        credits: a.change,
        cycleId: e.data.cycleId,
      }));
    case 'CreditThresholdCrossed':
      return [
        {
          ...base,
          rowId: key(0),
          kind: 'threshold_alert',
          creditType: e.data.creditType,
          description: `threshold ${e.data.thresholdId} crossed${e.data.percentUsed === null ? '' : ` (${e.data.percentUsed}% used)`}, ${e.data.balanceAfter.remaining} remaining`,
          credits: 0,
          cycleId: e.data.cycleId,
        },
      ];
    case 'MemberLimitsSet':
      return Object.keys(e.data.creditTypes).map((creditType, i) => {
        const limit = e.data.creditTypes[creditType];
        const who = e.data.userId === null ? 'default member limit' : 'member limit';
        return {
          ...base,
          rowId: key(i),
          kind: 'member_limit' as const,
          creditType,
          description: limit === null ? `${who} removed` : `${who}: ${limit} credits per cycle`,
          credits: 0,
          userId: e.data.userId,
          cycleId: e.data.cycleId,
        };
      });
    case 'CreditsReserved':
      return [
        {
          ...base,
          rowId: key(0),
          kind: 'hold',
          creditType: e.data.creditType,
          feature: e.data.feature,
          action: e.data.action,
          description: `${e.data.credits} held until ${e.data.expiresAt}${e.data.description === null ? '' : `: ${e.data.description}`}`,
          credits: 0,
          userId: e.data.userId,
          cycleId: e.data.cycleId,
          alreadyPurchased: e.data.alreadyPurchased ? 1 : 0,
          units: e.data.units,
          rate: e.data.rate === null ? null : e.data.rate.credits,
          pricedBy: e.data.pricedBy,
          reservationId: e.data.reservationId,
        },
      ];
    case 'ReservationCaptured':
    case 'ReservationReleased':
    case 'ReservationExpired':
      return [holdEndRow(e, base, key(0))];
    case 'ScheduleChanged':
    case 'ThresholdsSet':
      return [];
    default: {
      const unknown: never = e;
      throw new Error(`history: unknown event ${(unknown as { type: string }).type}`);
    }
  }
}

type HoldEnd = Extract<ProjectedEvent['event'], { type: 'ReservationCaptured' | 'ReservationReleased' | 'ReservationExpired' }>;

function holdEndDescription(e: HoldEnd): string {
  const lapsed = e.data.lapsed > 0 ? ` (${e.data.lapsed} of them lapsed with their bucket)` : '';
  switch (e.type) {
    case 'ReservationCaptured':
      return `captured ${e.data.captured} of ${e.data.held} held (consumption ${e.data.consumptionId}), ${e.data.released} released${lapsed}`;
    case 'ReservationReleased':
      return `${e.data.held} released${e.data.reason === null ? '' : `: ${e.data.reason}`}${lapsed}`;
    case 'ReservationExpired':
      return `${e.data.held} held expired at ${e.data.expiresAt}, released${lapsed}`;
    default: {
      const unknown: never = e;
      throw new Error(`history: unknown hold event ${(unknown as { type: string }).type}`);
    }
  }
}

function holdEndRow(e: HoldEnd, base: Omit<HistoryRow, 'rowId' | 'kind' | 'creditType' | 'credits'>, rowId: number): HistoryRow {
  return {
    ...base,
    rowId,
    kind: e.type === 'ReservationExpired' ? 'hold_expiry' : 'hold_release',
    creditType: e.data.creditType,
    description: holdEndDescription(e),
    credits: 0,
    userId: e.data.userId,
    consumptionId: e.type === 'ReservationCaptured' ? e.data.consumptionId : null,
    cycleId: e.data.cycleId,
    reservationId: e.data.reservationId,
  };
}
