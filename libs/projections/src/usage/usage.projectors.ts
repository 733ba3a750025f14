import { inKeyOrder, ProjectedEvent, Projector } from '../projector';
import { bigint, insertRows, positional, text } from '../postgres/pg-sql';
import { aggregate, UsageDelta, usageDelta } from './usage-delta';

const deltasOf = (batch: readonly ProjectedEvent[]): UsageDelta[] => batch.map(usageDelta).filter((d): d is UsageDelta => d !== undefined);

const SEP = '\u0000';
const ADD_SUMS = 'consumed = cur.consumed + excluded.consumed, refunded = cur.refunded + excluded.refunded, count = cur.count + excluded.count';

/**
 * A read model of sums per (account, time slot, user, credit type, feature, action): consumed,
 * refunded, count (net = consumed - refunded). Per UTC day and per UTC hour share this shape.
 */
function sumsPerSlotProjector(name: string, slot: { column: string; sqlType: 'TEXT' | 'INTEGER'; of: (d: UsageDelta) => string | number }): Projector {
  const key = ['account_id', slot.column, 'user_id', 'credit_type', 'feature', 'action'];
  const addSums = `ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${ADD_SUMS}`;
  const columns = [
    text('account_id'),
    slot.sqlType === 'TEXT' ? text(slot.column) : bigint(slot.column),
    ...['user_id', 'credit_type', 'feature', 'action'].map(text),
    ...['consumed', 'refunded', 'count'].map(bigint),
  ];
  /** Sums of a batch by key, so that hot keys cost one upsert per batch instead of one per event. */
  const sumRows = (batch: readonly ProjectedEvent[]) =>
    inKeyOrder(aggregate(deltasOf(batch), (d) => [d.accountId, slot.of(d), d.userId, d.creditType, d.feature, d.action].join(SEP))).map(
      ({ sample: d, consumed, refunded, count }) => [d.accountId, slot.of(d), d.userId, d.creditType, d.feature, d.action, consumed, refunded, count],
    );
  return {
    name,
    version: 1,
    schema: (t) => `
      CREATE TABLE IF NOT EXISTS ${t(name)} (
        account_id  TEXT    NOT NULL,
        ${slot.column} ${slot.sqlType} NOT NULL,
        user_id     TEXT    NOT NULL,
        credit_type TEXT    NOT NULL,
        feature     TEXT    NOT NULL,
        action      TEXT    NOT NULL,
        consumed    INTEGER NOT NULL,
        refunded    INTEGER NOT NULL,
        count       INTEGER NOT NULL,
        PRIMARY KEY (${key.join(', ')})
      ) WITHOUT ROWID;`,
    tables: (t) => [t(name)],
    prepare(db, t) {
      const upsert = db.prepare(`INSERT INTO ${t(name)} AS cur VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ${addSums}`);
      return (batch) => {
        for (const row of sumRows(batch)) upsert.run(row);
      };
    },
    applyPostgres: (client, t, batch) => insertRows(client, t(name), columns, sumRows(batch), addSums),
  };
}

/** Per account, UTC day, user, credit type, feature and action. */
export const usageByUserProjector = sumsPerSlotProjector('usage_by_user', { column: 'day', sqlType: 'TEXT', of: (d) => d.day });

const FEATURE_KEY = ['account_id', 'day', 'feature', 'action', 'credit_type'];
const featureSums = (batch: readonly ProjectedEvent[]) =>
  inKeyOrder(aggregate(deltasOf(batch), (d) => [d.accountId, d.day, d.feature, d.action, d.creditType].join(SEP)));

/**
 * Per account, UTC day, feature, action and credit type: consumed, refunded, count, distinct users.
 * The distinct users of a day are kept in a side table, so a user counts once however often they act.
 */
export const usageByFeatureProjector: Projector = {
  name: 'usage_by_feature',
  version: 1,
  schema: (t) => `
    CREATE TABLE IF NOT EXISTS ${t('usage_by_feature')} (
      account_id     TEXT    NOT NULL,
      day            TEXT    NOT NULL,
      feature        TEXT    NOT NULL,
      action         TEXT    NOT NULL,
      credit_type    TEXT    NOT NULL,
      consumed       INTEGER NOT NULL,
      refunded       INTEGER NOT NULL,
      count          INTEGER NOT NULL,
      distinct_users INTEGER NOT NULL,
      PRIMARY KEY (account_id, day, feature, action, credit_type)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS ${t('usage_feature_users')} (
      account_id  TEXT NOT NULL,
      day         TEXT NOT NULL,
      feature     TEXT NOT NULL,
      action      TEXT NOT NULL,
      credit_type TEXT NOT NULL,
      user_id     TEXT NOT NULL,
      PRIMARY KEY (account_id, day, feature, action, credit_type, user_id)
    ) WITHOUT ROWID;`,
  tables: (t) => [t('usage_by_feature'), t('usage_feature_users')],
  prepare(db, t) {
    const addUser = db.prepare(`INSERT OR IGNORE INTO ${t('usage_feature_users')} VALUES (?, ?, ?, ?, ?, ?)`);
    const upsert = db.prepare(`INSERT INTO ${t('usage_by_feature')} AS cur VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ${ADD_FEATURE_SUMS}`);
    return (batch) => {
      for (const { sample: d, consumed, refunded, count, users } of featureSums(batch)) {
        let newUsers = 0;
        for (const u of [...users].sort()) newUsers += addUser.run(d.accountId, d.day, d.feature, d.action, d.creditType, u).changes;
        upsert.run(d.accountId, d.day, d.feature, d.action, d.creditType, consumed, refunded, count, newUsers);
      }
    };
  },
  async applyPostgres(client, t, batch) {
    const sums: unknown[][] = [];
    const users: unknown[][] = [];
    for (const { sample: d, consumed, refunded, count, users: ids } of featureSums(batch)) {
      sums.push([d.accountId, d.day, d.feature, d.action, d.creditType, consumed, refunded, count]);
      for (const u of ids) users.push([d.accountId, d.day, d.feature, d.action, d.creditType, u]);
    }
    if (sums.length === 0) return;
    const column = (rows: unknown[][], i: number) => rows.map((r) => r[i]);
    // One statement: the users new to a (day, feature, action, credit type) are those the side
    // table's insert really added (RETURNING), counted per key and added to distinct_users.
    await client.query(
      positional(`WITH added AS (
         INSERT INTO ${t('usage_feature_users')} (${FEATURE_KEY.join(', ')}, user_id)
         SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
         ON CONFLICT DO NOTHING
         RETURNING ${FEATURE_KEY.join(', ')}),
       new_users AS (SELECT ${FEATURE_KEY.join(', ')}, count(*) AS n FROM added GROUP BY ${FEATURE_KEY.join(', ')})
       INSERT INTO ${t('usage_by_feature')} AS cur
       SELECT s.*, coalesce(new_users.n, 0)
         FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[])
              AS s(${FEATURE_KEY.join(', ')}, consumed, refunded, count)
         LEFT JOIN new_users USING (${FEATURE_KEY.join(', ')})
       ${ADD_FEATURE_SUMS}`),
      [...[0, 1, 2, 3, 4, 5].map((i) => column(users, i)), ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => column(sums, i))],
    );
  },
};

const ADD_FEATURE_SUMS = `ON CONFLICT (${FEATURE_KEY.join(', ')}) DO UPDATE SET ${ADD_SUMS}, distinct_users = cur.distinct_users + excluded.distinct_users`;

/** Per account and UTC hour (epoch hours), every dimension: the source of the trend graph in any time zone. */
export const usageHourlyProjector = sumsPerSlotProjector('usage_hourly', { column: 'hour', sqlType: 'INTEGER', of: (d) => d.hour });
