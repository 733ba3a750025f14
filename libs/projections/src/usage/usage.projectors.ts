import { Projector } from '../projector';
import { aggregate, UsageDelta, usageDelta } from './usage-delta';

const deltasOf = (batch: Parameters<ReturnType<Projector['prepare']>>[0]): UsageDelta[] =>
  batch.map(usageDelta).filter((d): d is UsageDelta => d !== undefined);

const SEP = '\u0000';

/**
 * A read model of sums per (account, time slot, user, credit type, feature, action): consumed,
 * refunded, count (net = consumed - refunded). Per UTC day and per UTC hour share this shape.
 */
function sumsPerSlotProjector(name: string, slot: { column: string; sqlType: string; of: (d: UsageDelta) => string | number }): Projector {
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
        PRIMARY KEY (account_id, ${slot.column}, user_id, credit_type, feature, action)
      ) WITHOUT ROWID;`,
    tables: (t) => [t(name)],
    prepare(db, t) {
      const upsert = db.prepare(`INSERT INTO ${t(name)} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT DO UPDATE SET consumed = consumed + excluded.consumed, refunded = refunded + excluded.refunded, count = count + excluded.count`);
      return (batch) => {
        const sums = aggregate(deltasOf(batch), (d) => [d.accountId, slot.of(d), d.userId, d.creditType, d.feature, d.action].join(SEP));
        for (const { sample: d, consumed, refunded, count } of sums.values()) {
          upsert.run(d.accountId, slot.of(d), d.userId, d.creditType, d.feature, d.action, consumed, refunded, count);
        }
      };
    },
  };
}

/** Per account, UTC day, user, credit type, feature and action. */
export const usageByUserProjector = sumsPerSlotProjector('usage_by_user', { column: 'day', sqlType: 'TEXT', of: (d) => d.day });

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
    const upsert = db.prepare(`INSERT INTO ${t('usage_by_feature')} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET consumed = consumed + excluded.consumed, refunded = refunded + excluded.refunded,
        count = count + excluded.count, distinct_users = distinct_users + excluded.distinct_users`);
    return (batch) => {
      const sums = aggregate(deltasOf(batch), (d) => [d.accountId, d.day, d.feature, d.action, d.creditType].join(SEP));
      for (const { sample: d, consumed, refunded, count, users } of sums.values()) {
        let newUsers = 0;
        for (const u of users) newUsers += addUser.run(d.accountId, d.day, d.feature, d.action, d.creditType, u).changes;
        upsert.run(d.accountId, d.day, d.feature, d.action, d.creditType, consumed, refunded, count, newUsers);
      }
    };
  },
};

/** Per account and UTC hour (epoch hours), every dimension: the source of the trend graph in any time zone. */
export const usageHourlyProjector = sumsPerSlotProjector('usage_hourly', { column: 'hour', sqlType: 'INTEGER', of: (d) => d.hour });
