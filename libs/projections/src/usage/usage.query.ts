import { ReadModelStore } from '../read-model-store';
import { UsageDelta } from './usage-delta';
import { HistoryQueries } from '../history/history.query';
import { Bucket, bucketBoundaries, bucketIndex, localDate } from './time-buckets';

export const MAX_SERIES_BUCKETS = 800;
export const SERIES_GROUPS = ['feature', 'user', 'creditType', 'action'] as const;
export type SeriesGroup = (typeof SERIES_GROUPS)[number];
/** What each grouping keys its series by: a usage_hourly column, and the same value in a history item. */
const SERIES_KEYS: Record<SeriesGroup, { readonly column: string; readonly field: 'feature' | 'userId' | 'creditType' | 'action' }> = {
  feature: { column: 'feature', field: 'feature' },
  user: { column: 'user_id', field: 'userId' },
  creditType: { column: 'credit_type', field: 'creditType' },
  action: { column: 'action', field: 'action' },
};

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface UsageRange {
  readonly accountId: string;
  readonly from: number; // ms, inclusive
  readonly to: number; // ms, exclusive
  readonly creditType?: string;
  /** Members see only their own usage. */
  readonly userId?: string;
  readonly feature?: string;
  readonly action?: string;
}

/** The range's credit type, feature and action as SQL conditions on a usage table. */
function dimensionWhere(r: UsageRange, where: string[], params: unknown[]): void {
  for (const [column, value] of [
    ['credit_type', r.creditType],
    ['feature', r.feature],
    ['action', r.action],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
}

/** Whether a history row is within the range's credit type, feature and action. */
function inDimensions(r: UsageRange, m: { creditType: string | null; feature: string | null; action: string | null }): boolean {
  return (
    (r.creditType === undefined || m.creditType === r.creditType) &&
    (r.feature === undefined || m.feature === r.feature) &&
    (r.action === undefined || m.action === r.action)
  );
}

export interface Totals {
  consumed: number;
  refunded: number;
  net: number;
  count: number;
}

type FeatureSums = { feature: string; action: string; consumed: number; refunded: number; count: number };

/** One movement at the edges of a range: a usage delta with its exact instant. */
type Movement = Omit<UsageDelta, 'accountId' | 'day' | 'hour'> & { readonly at: number };

const iso = (ms: number) => new Date(ms).toISOString();
const dayText = (ms: number) => iso(ms).slice(0, 10);
const zero = (): Totals => ({ consumed: 0, refunded: 0, net: 0, count: 0 });
function add(t: Totals, consumed: number, refunded: number, count: number): void {
  t.consumed += consumed;
  t.refunded += refunded;
  t.net += consumed - refunded;
  t.count += count;
}

/**
 * Usage over any [from, to): whole UTC days come from the per-day read models, the partial days
 * at the edges from the history rows, so the figures are exact for any instants.
 */
export class UsageQueries {
  private readonly history: HistoryQueries;

  constructor(private readonly store: ReadModelStore) {
    this.history = new HistoryQueries(store);
  }

  private async edges(r: UsageRange): Promise<{ fullFrom: number; fullTo: number; movements: Movement[] }> {
    const fullFrom = Math.ceil(r.from / DAY_MS) * DAY_MS;
    const fullTo = Math.floor(r.to / DAY_MS) * DAY_MS;
    const spans: [number, number][] =
      fullFrom < fullTo
        ? [
            [r.from, fullFrom],
            [fullTo, r.to],
          ]
        : [[r.from, r.to]];
    const movements: Movement[] = [];
    for (const [a, b] of spans) {
      if (a >= b) continue;
      for (const m of await this.history.movements(r.accountId, iso(a), iso(b), r.userId)) {
        if (!inDimensions(r, m)) continue;
        movements.push({
          userId: m.userId ?? '',
          creditType: m.creditType ?? '',
          feature: m.feature ?? '',
          action: m.action ?? '',
          consumed: m.kind === 'consumption' ? m.credits : 0,
          refunded: m.kind === 'refund' ? -m.credits : 0,
          count: m.kind === 'consumption' ? 1 : 0,
          at: Date.parse(m.occurredAt),
        });
      }
    }
    return { fullFrom: fullFrom < fullTo ? fullFrom : 0, fullTo: fullFrom < fullTo ? fullTo : 0, movements };
  }

  async byUser(r: UsageRange) {
    const { fullFrom, fullTo, movements } = await this.edges(r);
    const perUser = new Map<string, Totals>();
    const bucket = (userId: string) => perUser.get(userId) ?? perUser.set(userId, zero()).get(userId)!;
    if (fullFrom < fullTo) {
      const table = await this.store.activeTable('usage_by_user', 'usage_by_user');
      const where = ['account_id = ?', 'day >= ?', 'day < ?'];
      const params: unknown[] = [r.accountId, dayText(fullFrom), dayText(fullTo)];
      dimensionWhere(r, where, params);
      if (r.userId !== undefined) {
        where.push('user_id = ?');
        params.push(r.userId);
      }
      const rows = await this.store.all<{ user_id: string; consumed: number; refunded: number; count: number }>(
        `SELECT user_id, SUM(consumed) AS consumed, SUM(refunded) AS refunded, SUM(count) AS count FROM ${table} WHERE ${where.join(' AND ')} GROUP BY user_id`,
        params,
      );
      for (const row of rows) add(bucket(row.user_id), row.consumed, row.refunded, row.count);
    }
    for (const m of movements) add(bucket(m.userId), m.consumed, m.refunded, m.count);
    const items = [...perUser.entries()].map(([userId, t]) => ({ userId, ...t })).sort((a, b) => b.net - a.net || (a.userId < b.userId ? -1 : 1));
    const totals = zero();
    for (const i of items) add(totals, i.consumed, i.refunded, i.count);
    return { items, totals };
  }

  async byFeature(r: UsageRange) {
    const { fullFrom, fullTo, movements } = await this.edges(r);
    const perFeature = new Map<string, Totals & { feature: string; action: string; users: Set<string> }>();
    const bucket = (feature: string, action: string) => {
      const k = `${feature}\u0000${action}`;
      let b = perFeature.get(k);
      if (!b) perFeature.set(k, (b = { feature, action, users: new Set(), ...zero() }));
      return b;
    };
    if (fullFrom < fullTo) {
      // Members: their own rows of the per-user model; everyone else: the per-feature model and its user sets.
      const byUserTable = await this.store.activeTable('usage_by_user', 'usage_by_user');
      const featureTable = await this.store.activeTable('usage_by_feature', 'usage_by_feature');
      const usersTable = await this.store.activeTable('usage_by_feature', 'usage_feature_users');
      const where = ['account_id = ?', 'day >= ?', 'day < ?'];
      const params: unknown[] = [r.accountId, dayText(fullFrom), dayText(fullTo)];
      dimensionWhere(r, where, params);
      if (r.userId !== undefined) {
        const rows = await this.store.all<FeatureSums>(
          `SELECT feature, action, SUM(consumed) AS consumed, SUM(refunded) AS refunded, SUM(count) AS count FROM ${byUserTable} WHERE ${where.join(' AND ')} AND user_id = ? GROUP BY feature, action`,
          [...params, r.userId],
        );
        for (const row of rows) {
          const b = bucket(row.feature, row.action);
          add(b, row.consumed, row.refunded, row.count);
          b.users.add(r.userId);
        }
      } else {
        const rows = await this.store.all<FeatureSums>(
          `SELECT feature, action, SUM(consumed) AS consumed, SUM(refunded) AS refunded, SUM(count) AS count FROM ${featureTable} WHERE ${where.join(' AND ')} GROUP BY feature, action`,
          params,
        );
        for (const row of rows) add(bucket(row.feature, row.action), row.consumed, row.refunded, row.count);
        const users = await this.store.all<{ feature: string; action: string; user_id: string }>(
          `SELECT DISTINCT feature, action, user_id FROM ${usersTable} WHERE ${where.join(' AND ')}`,
          params,
        );
        for (const u of users) bucket(u.feature, u.action).users.add(u.user_id);
      }
    }
    for (const m of movements) {
      const b = bucket(m.feature, m.action);
      add(b, m.consumed, m.refunded, m.count);
      if (m.count > 0) b.users.add(m.userId);
    }
    const items = [...perFeature.values()]
      .map(({ users, ...t }) => ({ ...t, distinctUsers: users.size }))
      .sort((a, b) => b.net - a.net || (a.feature + a.action < b.feature + b.action ? -1 : 1));
    const totals = zero();
    for (const i of items) add(totals, i.consumed, i.refunded, i.count);
    return { items, totals };
  }

  /**
   * Trend points per calendar bucket in `timeZone`, one series per group, empty buckets as zeros.
   * Whole hours come from the hourly model; an hour cut by a bucket boundary (zones with :30/:45
   * offsets) or by from/to is taken from the history rows, so every point is exact.
   */
  async series(r: UsageRange & { bucket: Bucket; groupBy: SeriesGroup; timeZone: string }) {
    const boundaries = bucketBoundaries(r.from, r.to, r.bucket, r.timeZone, MAX_SERIES_BUCKETS);
    if (!boundaries) return null;
    const n = boundaries.length - 1;
    const cuts = [r.from, r.to, ...boundaries.filter((b) => b > r.from && b < r.to)];
    const splitHours = new Set(cuts.filter((c) => c % HOUR_MS !== 0).map((c) => Math.floor(c / HOUR_MS)));
    const groups = new Map<string, Totals[]>();
    const pointsOf = (key: string) => groups.get(key) ?? groups.set(key, Array.from({ length: n }, zero)).get(key)!;
    const { column, field } = SERIES_KEYS[r.groupBy];

    const table = await this.store.activeTable('usage_hourly', 'usage_hourly');
    const where = ['account_id = ?', 'hour >= ?', 'hour < ?'];
    const params: unknown[] = [r.accountId, Math.floor(r.from / HOUR_MS), Math.ceil(r.to / HOUR_MS)];
    dimensionWhere(r, where, params);
    if (r.userId !== undefined) {
      where.push('user_id = ?');
      params.push(r.userId);
    }
    // Summed per hour and series key in the database: only those sums cross from the reader thread
    // (as arrays), not every hourly row of every user, credit type, feature and action.
    const rows = await this.store.allArrays<[hour: number, key: string, consumed: number | string, refunded: number | string, count: number | string]>(
      `SELECT hour, ${column}, SUM(consumed), SUM(refunded), SUM(count) FROM ${table} WHERE ${where.join(' AND ')} GROUP BY hour, ${column}`,
      params,
    );
    for (const [hour, key, consumed, refunded, count] of rows) {
      if (splitHours.has(hour)) continue;
      const start = hour * HOUR_MS;
      if (start < r.from || start >= r.to) continue;
      add(pointsOf(key)[bucketIndex(boundaries, start)], Number(consumed), Number(refunded), Number(count));
    }
    for (const hour of splitHours) {
      const a = Math.max(hour * HOUR_MS, r.from);
      const b = Math.min((hour + 1) * HOUR_MS, r.to);
      if (a >= b) continue;
      for (const m of await this.history.movements(r.accountId, iso(a), iso(b), r.userId)) {
        if (!inDimensions(r, m)) continue;
        const i = bucketIndex(boundaries, Date.parse(m.occurredAt));
        const key = m[field] ?? '';
        add(pointsOf(key)[i], m.kind === 'consumption' ? m.credits : 0, m.kind === 'refund' ? -m.credits : 0, m.kind === 'consumption' ? 1 : 0);
      }
    }
    const buckets = boundaries
      .slice(0, n)
      .map((start, i) => ({ start: iso(Math.max(start, r.from)), end: iso(Math.min(boundaries[i + 1], r.to)), label: localDate(start, r.timeZone) }));
    const series = [...groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, points]) => ({ key, points: points.map((p, i) => ({ bucket: buckets[i].label, ...p })) }));
    const totals = zero();
    for (const s of series) for (const p of s.points) add(totals, p.consumed, p.refunded, p.count);
    return { buckets, series, totals };
  }

  async filters(accountId: string, userId?: string) {
    if (userId !== undefined) {
      const table = await this.store.activeTable('usage_by_user', 'usage_by_user');
      const rows = await this.store.all<{ feature: string; action: string; credit_type: string }>(
        `SELECT DISTINCT feature, action, credit_type FROM ${table} WHERE account_id = ? AND user_id = ? AND count > 0`,
        [accountId, userId],
      );
      return catalog(
        rows
          .flatMap((r) => [
            { kind: 'feature', value: r.feature, parent: '' },
            { kind: 'action', value: r.action, parent: r.feature },
            { kind: 'creditType', value: r.credit_type, parent: '' },
          ])
          .concat(rows.length ? [{ kind: 'user', value: userId, parent: '' }] : []),
      );
    }
    const table = await this.store.activeTable('filter_catalog', 'filter_catalog');
    return catalog(
      await this.store.all<{ kind: string; value: string; parent: string }>(`SELECT kind, value, parent FROM ${table} WHERE account_id = ?`, [accountId]),
    );
  }
}

function catalog(rows: { kind: string; value: string; parent: string }[]) {
  const uniq = (kind: string) => [...new Set(rows.filter((r) => r.kind === kind).map((r) => r.value))].sort();
  const features = uniq('feature').map((feature) => ({
    feature,
    actions: [...new Set(rows.filter((r) => r.kind === 'action' && r.parent === feature).map((r) => r.value))].sort(),
  }));
  return { features, actions: uniq('action'), users: uniq('user'), creditTypes: uniq('creditType') };
}
