import { randomBytes } from 'node:crypto';
import { ForecastWatch, forecastWatchKey, GrantTimer, grantTimerKey } from '../events/derive';
import { WebhookEventType, WebhookPayload } from '../events/event-types';
import { WEBHOOK_MAX_LOGGED_ATTEMPTS } from '../limits';
import { Row, SqlDb, SqlValue } from './sql-db';

export interface EndpointRecord {
  readonly id: string;
  /** null: an operator-wide endpoint (every account). */
  readonly accountId: string | null;
  readonly url: string;
  readonly description: string | null;
  readonly eventTypes: readonly WebhookEventType[];
  readonly enabled: boolean;
  readonly disabledReason: string | null;
  readonly disabledAt: number | null;
  readonly secret: string;
  readonly previousSecret: string | null;
  readonly previousSecretUntil: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The head of the ledger's log when it was registered: it receives what derives from later events. */
  readonly createdPosition: number;
  /** Start of the current run of failed attempts (null: the last attempt succeeded). */
  readonly failingSince: number | null;
}

export interface AttemptRecord {
  readonly at: string;
  readonly statusCode: number | null;
  readonly latencyMs: number;
  readonly error: string | null;
  readonly response: string | null;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';
export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'succeeded', 'failed'];

export interface DeliveryRecord {
  readonly id: string;
  readonly seq: number;
  readonly endpointId: string;
  readonly messageId: string;
  readonly accountId: string | null;
  readonly type: WebhookEventType;
  readonly position: number;
  /** `live`: derived as it happened; `replay`: re-sent by a replay. */
  readonly origin: 'live' | 'replay';
  readonly status: DeliveryStatus;
  /** When the next attempt is due; null when done, or while an earlier delivery of its lane is pending. */
  readonly nextAttemptAt: number | null;
  readonly firstAttemptAt: number | null;
  readonly attemptCount: number;
  readonly attempts: readonly AttemptRecord[];
  readonly createdAt: number;
  readonly completedAt: number | null;
}

/** A due delivery with what sending it needs. */
export interface ReadyDelivery extends DeliveryRecord {
  readonly body: string;
  readonly url: string;
  readonly secrets: readonly string[];
}

export interface AttemptOutcome {
  readonly status: DeliveryStatus;
  readonly nextAttemptAt: number | null;
  /** The attempt failed (a non-2xx answer, no answer, or a refused target). */
  readonly failed: boolean;
  /** 410 Gone: disable the endpoint at once. */
  readonly gone: boolean;
}

export interface FinishedAttempt {
  readonly delivery: DeliveryRecord;
  readonly attempt: AttemptRecord;
  readonly outcome: AttemptOutcome;
}

export interface DerivedItem {
  readonly payload: WebhookPayload;
  readonly onceKey?: string;
  readonly endpointIds: readonly string[];
}

const ACCOUNT_KEY_NONE = '';

function endpointOf(row: Row): EndpointRecord {
  return {
    id: row.id as string,
    accountId: (row.account_id as string | null) ?? null,
    url: row.url as string,
    description: (row.description as string | null) ?? null,
    eventTypes: JSON.parse(row.event_types as string) as WebhookEventType[],
    enabled: Number(row.enabled) === 1,
    disabledReason: (row.disabled_reason as string | null) ?? null,
    disabledAt: (row.disabled_at as number | null) ?? null,
    secret: row.secret as string,
    previousSecret: (row.previous_secret as string | null) ?? null,
    previousSecretUntil: (row.previous_secret_until as number | null) ?? null,
    createdAt: row.created_at as number,
    updatedAt: row.updated_at as number,
    createdPosition: row.created_position as number,
    failingSince: (row.failing_since as number | null) ?? null,
  };
}

function deliveryOf(row: Row): DeliveryRecord {
  return {
    id: row.id as string,
    seq: row.seq as number,
    endpointId: row.endpoint_id as string,
    messageId: row.message_id as string,
    accountId: row.account_key === ACCOUNT_KEY_NONE ? null : (row.account_key as string),
    type: row.type as WebhookEventType,
    position: row.position as number,
    origin: row.origin as 'live' | 'replay',
    status: row.status as DeliveryStatus,
    nextAttemptAt: (row.next_attempt_at as number | null) ?? null,
    firstAttemptAt: (row.first_attempt_at as number | null) ?? null,
    attemptCount: Number(row.attempt_count),
    attempts: JSON.parse(row.attempts as string) as AttemptRecord[],
    createdAt: row.created_at as number,
    completedAt: (row.completed_at as number | null) ?? null,
  };
}

const DELIVERY_COLUMNS = `d.seq, d.id, d.endpoint_id, d.message_id, d.account_key, d.origin, d.status, d.next_attempt_at, d.first_attempt_at,
  d.attempt_count, d.attempts, d.created_at, d.completed_at, m.type, m.position`;

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/**
 * Endpoints, the messages derived from the log, deliveries per (endpoint, account) lane, the
 * dispatcher's checkpoint, once-only keys, grant timers and the dispatcher lease: one database,
 * so that a batch of the log, its deliveries and the checkpoint commit together.
 */
export class WebhookStore {
  constructor(
    readonly db: SqlDb,
    private readonly release: () => Promise<void> = async () => undefined,
  ) {}

  // Endpoints

  async createEndpoint(endpoint: EndpointRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO webhook_endpoints (id, account_id, url, description, event_types, enabled, disabled_reason, disabled_at, secret, previous_secret,
         previous_secret_until, created_at, updated_at, created_position, failing_since) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, NULL, NULL, ?, ?, ?, NULL)`,
      [
        endpoint.id,
        endpoint.accountId,
        endpoint.url,
        endpoint.description,
        JSON.stringify(endpoint.eventTypes),
        endpoint.enabled ? 1 : 0,
        endpoint.secret,
        endpoint.createdAt,
        endpoint.updatedAt,
        endpoint.createdPosition,
      ],
    );
  }

  async endpoint(id: string): Promise<EndpointRecord | undefined> {
    const rows = await this.db.all('SELECT * FROM webhook_endpoints WHERE id = ?', [id]);
    return rows.length === 0 ? undefined : endpointOf(rows[0]);
  }

  /** Endpoints of an account, or the operator-wide ones (null), oldest first. */
  async endpoints(accountId: string | null): Promise<EndpointRecord[]> {
    const rows =
      accountId === null
        ? await this.db.all('SELECT * FROM webhook_endpoints WHERE account_id IS NULL ORDER BY created_at, id')
        : await this.db.all('SELECT * FROM webhook_endpoints WHERE account_id = ? ORDER BY created_at, id', [accountId]);
    return rows.map(endpointOf);
  }

  async enabledEndpoints(): Promise<EndpointRecord[]> {
    return (await this.db.all('SELECT * FROM webhook_endpoints WHERE enabled = 1')).map(endpointOf);
  }

  async updateEndpoint(
    id: string,
    patch: { url?: string; eventTypes?: readonly WebhookEventType[]; description?: string | null; enabled?: boolean },
    now: number,
  ): Promise<void> {
    const sets: string[] = ['updated_at = ?'];
    const params: SqlValue[] = [now];
    const set = (clause: string, ...values: SqlValue[]) => {
      sets.push(clause);
      params.push(...values);
    };
    if (patch.url !== undefined) set('url = ?', patch.url);
    if (patch.eventTypes !== undefined) set('event_types = ?', JSON.stringify(patch.eventTypes));
    if (patch.description !== undefined) set('description = ?', patch.description);
    if (patch.enabled === true) set('enabled = 1, disabled_reason = NULL, disabled_at = NULL, failing_since = NULL');
    if (patch.enabled === false) set(`enabled = 0, disabled_reason = 'by request', disabled_at = ?`, now);
    await this.db.run(`UPDATE webhook_endpoints SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
  }

  async rotateSecret(id: string, secret: string, previousUntil: number, now: number): Promise<void> {
    await this.db.run('UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = ?, secret = ?, updated_at = ? WHERE id = ?', [
      previousUntil,
      secret,
      now,
      id,
    ]);
  }

  async deleteEndpoint(id: string): Promise<void> {
    await this.db.tx(async (db) => {
      await db.run('DELETE FROM webhook_deliveries WHERE endpoint_id = ?', [id]);
      await db.run('DELETE FROM webhook_endpoints WHERE id = ?', [id]);
    });
  }

  // The dispatcher's side

  /** Deliveries not yet settled (waiting, retrying or held behind an earlier one of their lane). */
  async pendingDeliveries(): Promise<number> {
    const rows = await this.db.all<{ pending: number }>(`SELECT COUNT(*) AS pending FROM webhook_deliveries WHERE status = 'pending'`);
    return Number(rows[0]?.pending ?? 0);
  }

  async checkpoint(name: string): Promise<number> {
    const rows = await this.db.all<{ position: number }>('SELECT position FROM webhook_checkpoint WHERE name = ?', [name]);
    return rows.length === 0 ? 0 : Number(rows[0].position);
  }

  /**
   * One batch of the log, atomically: its messages (a message with a once-key already used is
   * dropped), a delivery per matching endpoint, the grant timers, and the checkpoint. Returns the
   * deliveries created.
   */
  async commitBatch(
    name: string,
    position: number,
    items: readonly DerivedItem[],
    timers: { added: readonly GrantTimer[]; done: readonly string[]; forecastWatches?: readonly ForecastWatch[] },
    now: number,
  ): Promise<number> {
    return this.db.tx(async (db) => {
      let created = 0;
      for (const item of items) created += await this.insertMessage(db, item, 'live', now);
      for (const watch of timers.forecastWatches ?? []) await this.upsertForecastWatch(db, watch);
      for (const timer of timers.added) {
        await db.run(
          `INSERT INTO webhook_grant_timers (key, account_id, grant_id, credit_type, expires_at, expires_at_ms, position, done)
           VALUES (?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT (key) DO NOTHING`,
          [
            grantTimerKey(timer.accountId, timer.grantId),
            timer.accountId,
            timer.grantId,
            timer.creditType,
            timer.expiresAt,
            Date.parse(timer.expiresAt),
            timer.position,
          ],
        );
      }
      for (const key of timers.done) await db.run('UPDATE webhook_grant_timers SET done = 1 WHERE key = ?', [key]);
      await db.run(
        `INSERT INTO webhook_checkpoint (name, position) VALUES (?, ?)
         ON CONFLICT (name) DO UPDATE SET position = excluded.position WHERE excluded.position > webhook_checkpoint.position`,
        [name, position],
      );
      return created;
    });
  }

  private async insertMessage(db: SqlDb, item: DerivedItem, origin: 'live' | 'replay', now: number): Promise<number> {
    if (item.onceKey !== undefined && (await db.run('INSERT INTO webhook_once (key) VALUES (?) ON CONFLICT (key) DO NOTHING', [item.onceKey])) === 0) return 0;
    const { payload } = item;
    await db.run('INSERT INTO webhook_messages (id, position, account_id, type, body, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING', [
      payload.id,
      payload.position,
      payload.accountId,
      payload.type,
      JSON.stringify(payload),
      now,
    ]);
    for (const endpointId of item.endpointIds) await this.enqueue(db, endpointId, payload.id, payload.accountId, origin, now);
    return item.endpointIds.length;
  }

  /** A new delivery at the end of its lane: due at once if the lane is idle, else after the ones before it. */
  private async enqueue(db: SqlDb, endpointId: string, messageId: string, accountId: string | null, origin: 'live' | 'replay', now: number): Promise<void> {
    const accountKey = accountId ?? ACCOUNT_KEY_NONE;
    const busy = await db.all(`SELECT 1 AS busy FROM webhook_deliveries WHERE endpoint_id = ? AND account_key = ? AND status = 'pending' LIMIT 1`, [
      endpointId,
      accountKey,
    ]);
    await db.run(
      `INSERT INTO webhook_deliveries (id, endpoint_id, message_id, account_key, origin, status, next_attempt_at, first_attempt_at, attempt_count, attempts, created_at, completed_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, NULL, 0, '[]', ?, NULL)`,
      [newId('dlv'), endpointId, messageId, accountKey, origin, busy.length > 0 ? null : now, now],
    );
  }

  /** Lane heads due by `now` on enabled endpoints, oldest due first, skipping `busyEndpoints` and the deliveries in flight (by seq). */
  async readyDeliveries(now: number, limit: number, busyEndpoints: readonly string[], inFlight: readonly number[]): Promise<ReadyDelivery[]> {
    const excludeEndpoints = busyEndpoints.length === 0 ? '' : `AND d.endpoint_id NOT IN (${busyEndpoints.map(() => '?').join(', ')})`;
    const excludeSeqs = inFlight.length === 0 ? '' : `AND d.seq NOT IN (${inFlight.map(() => '?').join(', ')})`;
    const rows = await this.db.all(
      `SELECT ${DELIVERY_COLUMNS}, m.body, e.url, e.secret, e.previous_secret, e.previous_secret_until
       FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= ? AND d.status = 'pending' AND e.enabled = 1 ${excludeEndpoints} ${excludeSeqs}
       ORDER BY d.next_attempt_at, d.seq LIMIT ?`,
      [now, ...busyEndpoints, ...inFlight, limit],
    );
    return rows.map((row) => {
      const previousUntil = (row.previous_secret_until as number | null) ?? null;
      const secrets = [row.secret as string];
      if (row.previous_secret && previousUntil !== null && previousUntil > now) secrets.push(row.previous_secret as string);
      return { ...deliveryOf(row), body: row.body as string, url: row.url as string, secrets };
    });
  }

  /**
   * Records attempts, in one transaction (the dispatcher groups those that finish together); a
   * finished delivery hands its lane to the next one. A failure starts (or extends) the endpoint's
   * run of failures, a success ends it; the endpoint is disabled on a 410, or once the run lasts
   * `disableAfterMs`. Returns, per attempt, the reason when it disabled its endpoint.
   */
  async finishAttempts(finished: readonly FinishedAttempt[], now: number, disableAfterMs: number): Promise<(string | null)[]> {
    return this.db.tx(async (db) => {
      const disabled: (string | null)[] = [];
      for (const item of finished) disabled.push(await this.finishOne(db, item, now, disableAfterMs));
      return disabled;
    });
  }

  private async finishOne(db: SqlDb, { delivery, attempt, outcome }: FinishedAttempt, now: number, disableAfterMs: number): Promise<string | null> {
    const attempts = [...delivery.attempts, attempt].slice(-WEBHOOK_MAX_LOGGED_ATTEMPTS);
    const changed = await db.run(
      `UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, first_attempt_at = COALESCE(first_attempt_at, ?), attempt_count = attempt_count + 1,
         attempts = ?, completed_at = ? WHERE id = ? AND status = 'pending'`,
      [outcome.status, outcome.nextAttemptAt, Date.parse(attempt.at), JSON.stringify(attempts), outcome.status === 'pending' ? null : now, delivery.id],
    );
    if (changed === 0) return null; // deleted with its endpoint meanwhile
    if (outcome.status !== 'pending') await this.promote(db, delivery.endpointId, delivery.accountId ?? ACCOUNT_KEY_NONE, now);
    if (!outcome.failed) {
      await db.run('UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL', [delivery.endpointId]);
      return null;
    }
    await db.run('UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?) WHERE id = ?', [now, delivery.endpointId]);
    const reason = outcome.gone ? 'the receiver answered 410 Gone' : `every attempt failed for ${Math.round(disableAfterMs / 86_400_000)} days`;
    const disabled = await db.run(
      `UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ? AND enabled = 1 AND (? = 1 OR failing_since <= ?)`,
      [reason, now, now, delivery.endpointId, outcome.gone ? 1 : 0, now - disableAfterMs],
    );
    return disabled === 1 ? reason : null;
  }

  /** The oldest waiting delivery of the lane becomes due, unless the lane already has a due head. */
  private async promote(db: SqlDb, endpointId: string, accountKey: string, now: number): Promise<void> {
    const head = await db.all(
      `SELECT 1 AS head FROM webhook_deliveries WHERE endpoint_id = ? AND account_key = ? AND status = 'pending' AND next_attempt_at IS NOT NULL LIMIT 1`,
      [endpointId, accountKey],
    );
    if (head.length > 0) return;
    await db.run(
      `UPDATE webhook_deliveries SET next_attempt_at = ? WHERE seq = (SELECT min(seq) FROM webhook_deliveries
         WHERE endpoint_id = ? AND account_key = ? AND status = 'pending' AND next_attempt_at IS NULL)`,
      [now, endpointId, accountKey],
    );
  }

  // The delivery log

  async deliveries(endpointId: string, status: DeliveryStatus | undefined, limit: number, beforeSeq?: number): Promise<DeliveryRecord[]> {
    const rows = await this.db.all(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id
       WHERE d.endpoint_id = ? ${status === undefined ? '' : 'AND d.status = ?'} ${beforeSeq === undefined ? '' : 'AND d.seq < ?'}
       ORDER BY d.seq DESC LIMIT ?`,
      [endpointId, ...(status === undefined ? [] : [status]), ...(beforeSeq === undefined ? [] : [beforeSeq]), limit],
    );
    return rows.map(deliveryOf);
  }

  async delivery(endpointId: string, id: string): Promise<DeliveryRecord | undefined> {
    const rows = await this.db.all(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id WHERE d.id = ? AND d.endpoint_id = ?`,
      [id, endpointId],
    );
    return rows.length === 0 ? undefined : deliveryOf(rows[0]);
  }

  /** A failed delivery goes back to its lane (due at once if the lane is idle); a pending head is due at once. */
  async retryDelivery(delivery: DeliveryRecord, now: number): Promise<void> {
    await this.db.tx(async (db) => {
      const accountKey = delivery.accountId ?? ACCOUNT_KEY_NONE;
      if (delivery.status === 'pending') {
        await db.run(`UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND next_attempt_at IS NOT NULL`, [now, delivery.id]);
        return;
      }
      await db.run(`UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = NULL, first_attempt_at = NULL, completed_at = NULL WHERE id = ?`, [
        delivery.id,
      ]);
      await this.promote(db, delivery.endpointId, accountKey, now);
    });
  }

  /** Re-sends the stored messages at or after `fromPosition` that the endpoint subscribes to, as new deliveries. */
  async replay(endpoint: EndpointRecord, fromPosition: number, limit: number, now: number): Promise<{ replayed: number; nextPosition: number | null }> {
    return this.db.tx(async (db) => {
      const types = endpoint.eventTypes;
      const rows = await db.all<{ id: string; position: number; account_id: string | null; body: string }>(
        `SELECT id, position, account_id, body FROM webhook_messages WHERE position >= ? ${endpoint.accountId === null ? '' : 'AND account_id = ?'}
         AND type IN (${types.map(() => '?').join(', ')}) ORDER BY position, id LIMIT ?`,
        [fromPosition, ...(endpoint.accountId === null ? [] : [endpoint.accountId]), ...types, limit + 1],
      );
      const page = rows.slice(0, limit);
      for (const row of page) await this.enqueue(db, endpoint.id, row.id, row.account_id, 'replay', now);
      // A page never ends inside a position: continue from the next one.
      let nextPosition: number | null = null;
      if (rows.length > limit) {
        const last = Number(page[page.length - 1].position);
        nextPosition = Number(rows[limit].position) === last ? last : Number(rows[limit].position);
      }
      return { replayed: page.length, nextPosition };
    });
  }

  /** Operator notices (endpoint.disabled) and timer messages (grant.expiring): a message and its deliveries. */
  async insertNotice(item: DerivedItem, now: number): Promise<void> {
    await this.db.tx((db) => this.insertMessage(db, item, 'live', now).then(() => undefined));
  }

  // Grant timers

  async dueGrantTimers(upToMs: number, limit: number): Promise<GrantTimer[]> {
    const rows = await this.db.all<{ account_id: string; grant_id: string; credit_type: string; expires_at: string; position: number }>(
      'SELECT account_id, grant_id, credit_type, expires_at, position FROM webhook_grant_timers WHERE done = 0 AND expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?',
      [upToMs, limit],
    );
    return rows.map((row) => ({
      accountId: row.account_id,
      grantId: row.grant_id,
      creditType: row.credit_type,
      expiresAt: row.expires_at,
      position: Number(row.position),
    }));
  }

  /** Marks the timer done and, with a notification, stores it and its deliveries, in one transaction. */
  async fireGrantTimer(timer: GrantTimer, item: DerivedItem | null, now: number): Promise<void> {
    await this.db.tx(async (db) => {
      const changed = await db.run('UPDATE webhook_grant_timers SET done = 1 WHERE key = ? AND done = 0', [grantTimerKey(timer.accountId, timer.grantId)]);
      if (changed === 1 && item !== null) await this.insertMessage(db, item, 'live', now);
    });
  }

  // Forecast watches

  private async upsertForecastWatch(db: SqlDb, watch: ForecastWatch): Promise<void> {
    await db.run(
      `INSERT INTO webhook_forecast_watches (key, account_id, credit_type, position, due_at_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET position = excluded.position, due_at_ms = excluded.due_at_ms`,
      [forecastWatchKey(watch.accountId, watch.creditType), watch.accountId, watch.creditType, watch.position, watch.dueAtMs],
    );
  }

  async dueForecastWatches(upToMs: number, limit: number): Promise<ForecastWatch[]> {
    const rows = await this.db.all<{ account_id: string; credit_type: string; position: number; due_at_ms: number }>(
      'SELECT account_id, credit_type, position, due_at_ms FROM webhook_forecast_watches WHERE due_at_ms <= ? ORDER BY due_at_ms LIMIT ?',
      [upToMs, limit],
    );
    return rows.map((row) => ({ accountId: row.account_id, creditType: row.credit_type, position: Number(row.position), dueAtMs: Number(row.due_at_ms) }));
  }

  /**
   * A due watch, looked at: its notification stored (once per credit type and cycle), and the watch
   * moved to `next` or dropped, in one transaction. A movement that re-armed it meanwhile wins.
   */
  async settleForecastWatch(watch: ForecastWatch, item: DerivedItem | null, next: ForecastWatch | null, now: number): Promise<void> {
    await this.db.tx(async (db) => {
      const key = forecastWatchKey(watch.accountId, watch.creditType);
      const current = await db.all<{ position: number }>('SELECT position FROM webhook_forecast_watches WHERE key = ? AND due_at_ms = ?', [key, watch.dueAtMs]);
      if (current.length === 0) return;
      if (item !== null) await this.insertMessage(db, item, 'live', now);
      if (next === null) await db.run('DELETE FROM webhook_forecast_watches WHERE key = ? AND due_at_ms = ?', [key, watch.dueAtMs]);
      else await this.upsertForecastWatch(db, next);
    });
  }

  // The lease: one dispatcher at a time across processes

  async tryLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO webhook_lease (name, owner, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE webhook_lease.expires_at < ? OR webhook_lease.owner = excluded.owner`,
      [name, owner, now + ttlMs, now],
    );
    return changed === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.db.run('DELETE FROM webhook_lease WHERE name = ? AND owner = ?', [name, owner]);
  }

  async close(): Promise<void> {
    await this.release();
  }
}
