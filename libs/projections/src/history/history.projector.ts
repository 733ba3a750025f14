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
    const insertOf = (rows: number) =>
      db.prepare(`INSERT OR IGNORE INTO ${t('history')} (${HISTORY_COLUMNS.map((c) => c.name).join(', ')})
        VALUES ${Array.from({ length: rows }, () => `(${HISTORY_COLUMNS.map(() => '?').join(', ')})`).join(', ')}`);
    const insertOne = insertOf(1);
    const insertMany = insertOf(HISTORY_ROWS_PER_INSERT);
    // Positional binding (several times cheaper than named parameters), HISTORY_ROWS_PER_INSERT
    // rows per statement: a replay's cost per row is mostly the statement's, not the row's.
    const values: unknown[] = new Array(HISTORY_ROWS_PER_INSERT * HISTORY_COLUMNS.length);
    return (batch) => {
      let pending = 0;
      for (const p of batch) {
        for (const r of historyRows(p)) {
          historyValuesInto(r, values, pending * HISTORY_COLUMNS.length);
          if (++pending < HISTORY_ROWS_PER_INSERT) continue;
          insertMany.run(values);
          pending = 0;
        }
      }
      for (let i = 0; i < pending; i++) insertOne.run(values.slice(i * HISTORY_COLUMNS.length, (i + 1) * HISTORY_COLUMNS.length));
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

/** Rows per multi-row INSERT of the SQLite history table (23 parameters each, far below SQLite's limit). */
const HISTORY_ROWS_PER_INSERT = 16;

/** A history row's values in HISTORY_COLUMNS order. */
function historyValues(r: HistoryRow): unknown[] {
  return historyValuesInto(r, new Array(HISTORY_COLUMNS.length), 0);
}

/** Writes a history row's values in HISTORY_COLUMNS order into `out` from `offset` (no array per row). */
function historyValuesInto(r: HistoryRow, out: unknown[], offset: number): unknown[] {
  out[offset] = r.rowId;
  out[offset + 1] = r.position;
  out[offset + 2] = r.accountId;
  out[offset + 3] = r.occurredAt;
  out[offset + 4] = r.recordedAt;
  out[offset + 5] = r.kind;
  out[offset + 6] = r.creditType;
  out[offset + 7] = r.feature;
  out[offset + 8] = r.action;
  out[offset + 9] = r.description;
  out[offset + 10] = r.credits;
  out[offset + 11] = r.dataRequested;
  out[offset + 12] = r.userId;
  out[offset + 13] = r.consumptionId;
  out[offset + 14] = r.refundId;
  out[offset + 15] = r.grantId;
  out[offset + 16] = r.cycleId;
  out[offset + 17] = r.alreadyPurchased;
  out[offset + 18] = r.eventId;
  out[offset + 19] = r.units;
  out[offset + 20] = r.rate;
  out[offset + 21] = r.pricedBy;
  out[offset + 22] = r.reservationId;
  return out;
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

/** The id of an event's `index`th history row: position * 64 + index. */
export function historyRowId(position: number, index: number): number {
  return position * ROW_SLOTS_PER_EVENT + index;
}

/**
 * A row with every field in one fixed order, the event's own fields set and the rest empty; the
 * cases below fill in theirs. One object shape for every row keeps a replay's millions of rows
 * cheap to build (spreading a shared base into each row cost more than inserting it).
 */
function blankRow(p: ProjectedEvent, index: number, kind: HistoryKind, creditType: string | null, credits: number, description: string | null): HistoryRow {
  return {
    rowId: historyRowId(p.position, index),
    position: p.position,
    accountId: p.accountId,
    occurredAt: p.event.occurredAt,
    recordedAt: p.recordedAt,
    kind,
    creditType,
    feature: null,
    action: null,
    description,
    credits,
    dataRequested: null,
    userId: null,
    consumptionId: null,
    refundId: null,
    grantId: null,
    cycleId: null,
    alreadyPurchased: 0,
    eventId: p.eventId,
    units: null,
    rate: null,
    pricedBy: null,
    reservationId: null,
  };
}

/** The history rows of one event (pure: also used by `verify`). Row ids are position * 64 + index. */
export function historyRows(p: ProjectedEvent): HistoryRow[] {
  const e = p.event;
  switch (e.type) {
    case 'AccountOpened':
    case 'ScheduleChanged':
    case 'ThresholdsSet':
      return [];
    case 'CreditConsumed':
      return [consumptionRow(p, e)];
    case 'CreditRefunded': {
      const r = blankRow(p, 0, 'refund', e.data.creditType, -e.data.credits, e.data.reason);
      r.feature = e.data.feature;
      r.action = e.data.action;
      r.userId = e.data.userId;
      r.consumptionId = e.data.consumptionId;
      r.refundId = e.data.refundId;
      r.cycleId = e.data.cycleId;
      return [r];
    }
    case 'CreditsGranted': {
      const r = blankRow(p, 0, 'grant', e.data.creditType, e.data.credits, e.data.reason);
      r.grantId = e.data.grantId;
      r.cycleId = e.data.cycleId;
      return [r];
    }
    case 'CreditsExpired': {
      const what = e.data.grantId === null ? e.data.bucketId : `grant ${e.data.grantId}`;
      const r = blankRow(p, 0, 'expiry', e.data.creditType, e.data.credits, `${what} expired`);
      r.grantId = e.data.grantId;
      r.cycleId = e.data.cycleId;
      return [r];
    }
    case 'CycleReset':
      return cycleResetRows(p, e);
    case 'PlanChanged':
      return planChangeRows(p, e);
    case 'CreditThresholdCrossed': {
      const used = e.data.percentUsed === null ? '' : ` (${e.data.percentUsed}% used)`;
      const r = blankRow(
        p,
        0,
        'threshold_alert',
        e.data.creditType,
        0,
        `threshold ${e.data.thresholdId} crossed${used}, ${e.data.balanceAfter.remaining} remaining`,
      );
      r.cycleId = e.data.cycleId;
      return [r];
    }
    case 'MemberLimitsSet':
      return memberLimitRows(p, e);
    case 'CreditsReserved':
      return [holdRow(p, e)];
    case 'ReservationCaptured':
    case 'ReservationReleased':
    case 'ReservationExpired':
      return [holdEndRow(p, e)];
    default: {
      const unknown: never = e;
      throw new Error(`history: unknown event ${(unknown as { type: string }).type}`);
    }
  }
}

type EventOf<T extends ProjectedEvent['event']['type']> = Extract<ProjectedEvent['event'], { type: T }>;

/** What a consumption and a hold both record: what it was for, who, in which cycle, and how it was priced. */
function withSpendFields(r: HistoryRow, data: EventOf<'CreditConsumed'>['data'] | EventOf<'CreditsReserved'>['data']): HistoryRow {
  r.feature = data.feature;
  r.action = data.action;
  r.userId = data.userId;
  r.cycleId = data.cycleId;
  r.alreadyPurchased = data.alreadyPurchased ? 1 : 0;
  r.units = data.units;
  r.rate = data.rate === null ? null : data.rate.credits;
  r.pricedBy = data.pricedBy;
  r.reservationId = data.reservationId;
  return r;
}

function consumptionRow(p: ProjectedEvent, e: EventOf<'CreditConsumed'>): HistoryRow {
  const r = withSpendFields(blankRow(p, 0, 'consumption', e.data.creditType, e.data.creditsCharged, e.data.description), e.data);
  r.dataRequested = e.data.dataRequested;
  r.consumptionId = e.data.consumptionId;
  return r;
}

/** A reservation's hold: credits 0 (a hold moves nothing in or out of the balance), the amount in the description. */
function holdRow(p: ProjectedEvent, e: EventOf<'CreditsReserved'>): HistoryRow {
  const held = `${e.data.credits} held until ${e.data.expiresAt}${e.data.description === null ? '' : `: ${e.data.description}`}`;
  return withSpendFields(blankRow(p, 0, 'hold', e.data.creditType, 0, held), e.data);
}

/** One row per credit type of the new cycle, with the previous cycle's closing figures in the description. */
function cycleResetRows(p: ProjectedEvent, e: EventOf<'CycleReset'>): HistoryRow[] {
  return Object.keys(e.data.allocations)
    .sort()
    .map((creditType, i) => {
      const closing = e.data.closing.find((c) => c.creditType === creditType);
      const r = blankRow(
        p,
        i,
        'cycle_reset',
        creditType,
        e.data.allocations[creditType],
        `cycle ${e.data.cycleId} opened (previous ${e.data.previousCycleId}: used ${closing?.used ?? 0}, expired ${closing?.expiredAtReset ?? 0}, rolled over ${closing?.rolledOver ?? 0}, carried over ${closing?.carriedOver ?? 0})`,
      );
      r.cycleId = e.data.cycleId;
      return r;
    });
}

/** A plan change from the next cycle is one row at 0; effective now, a prorated row per credit type. */
function planChangeRows(p: ProjectedEvent, e: EventOf<'PlanChanged'>): HistoryRow[] {
  if (e.data.adjustments.length === 0) {
    const r = blankRow(p, 0, 'plan_change', null, 0, `plan ${e.data.planId} from the next cycle`);
    r.cycleId = e.data.cycleId;
    return [r];
  }
  return e.data.adjustments.map((a, i) => {
    const r = blankRow(
      p,
      i,
      'plan_change',
      a.creditType,
      a.change,
      `plan ${e.data.planId}: allocation ${a.previousAllocation} → ${a.newAllocation}, ${a.change >= 0 ? '+' : ''}${a.change} this cycle (prorated)`,
    );
    r.cycleId = e.data.cycleId;
    return r;
  });
}

function memberLimitRows(p: ProjectedEvent, e: EventOf<'MemberLimitsSet'>): HistoryRow[] {
  const who = e.data.userId === null ? 'default member limit' : 'member limit';
  return Object.keys(e.data.creditTypes).map((creditType, i) => {
    const limit = e.data.creditTypes[creditType];
    const r = blankRow(p, i, 'member_limit', creditType, 0, limit === null ? `${who} removed` : `${who}: ${limit} credits per cycle`);
    r.userId = e.data.userId;
    r.cycleId = e.data.cycleId;
    return r;
  });
}

type HoldEnd = EventOf<'ReservationCaptured' | 'ReservationReleased' | 'ReservationExpired'>;

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

function holdEndRow(p: ProjectedEvent, e: HoldEnd): HistoryRow {
  const r = blankRow(p, 0, e.type === 'ReservationExpired' ? 'hold_expiry' : 'hold_release', e.data.creditType, 0, holdEndDescription(e));
  r.userId = e.data.userId;
  r.consumptionId = e.type === 'ReservationCaptured' ? e.data.consumptionId : null;
  r.cycleId = e.data.cycleId;
  r.reservationId = e.data.reservationId;
  return r;
}
