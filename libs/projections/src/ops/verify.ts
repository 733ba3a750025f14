import { AccountState, evolve, initialState, OpenAccountState } from '@credit-ledger/domain';
import { EventStore, MAX_READ_PAGE_SIZE, RecordedEvent } from '@credit-ledger/event-store';
import { accountStream } from '@credit-ledger/ledger';
import { accountRows } from '../accounts/accounts.projector';
import { balanceRows } from '../balances/balances.projector';
import { dataKeyRows } from '../history/data-keys.projector';
import { historyRows } from '../history/history.projector';
import { toProjected } from '../projection-runner';
import { ReadModelStore } from '../read-model-store';
import { UsageDelta, usageDelta } from '../usage/usage-delta';

export interface Difference {
  readonly readModel: string;
  readonly key: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

export interface VerifyReport {
  readonly eventsChecked: number;
  readonly accountsChecked: number;
  readonly differences: Difference[];
  /** Differences found in all (only the first MAX_REPORTED_DIFFERENCES are kept). */
  readonly differenceCount: number;
}

export const MAX_REPORTED_DIFFERENCES = 100;

type Sums = { consumed: number; refunded: number; count: number };

/**
 * The auditors' tool: re-derives every read model from the events (and every balance by folding
 * with the domain's own evolve) and compares with what the read models hold, up to each read
 * model's checkpoint. Read-model rows are streamed, so memory holds the aggregates, not the log.
 */
export async function verifyReadModels(
  store: Pick<EventStore, 'readAll' | 'readStream'>,
  readModels: ReadModelStore,
  options: { accountId?: string; onProgress?: (events: number) => void } = {},
): Promise<VerifyReport> {
  const differences: Difference[] = [];
  let differenceCount = 0;
  const differ = (readModel: string, key: string, expected: unknown, actual: unknown) => {
    differenceCount++;
    if (differences.length < MAX_REPORTED_DIFFERENCES) differences.push({ readModel, key, expected, actual });
  };
  const checkpoints = new Map((await readModels.states()).map((s) => [`${s.name}`, s.checkpoint]));
  const upTo = (name: string) => checkpoints.get(name) ?? 0;
  const accountFilter = options.accountId === undefined ? '' : ' WHERE account_id = ?';
  const accountParams = options.accountId === undefined ? [] : [options.accountId];

  const expectedHistory = new Map<number, Record<string, unknown>>();
  const byUser = new Map<string, Sums>();
  const byFeature = new Map<string, Sums & { users: Set<string> }>();
  const hourly = new Map<string, Sums>();
  const balances = new Map<string, Record<string, unknown>>();
  const catalog = new Set<string>();
  const accounts = new Map<string, { name: string; openedAt: string }>();
  const dataKeys = new Set<string>();
  const folded = new Map<string, AccountState>();
  let events = 0;
  let lastPosition = 0;

  const consider = (r: RecordedEvent) => {
    const p = toProjected(r);
    if (!p) return;
    if (options.accountId !== undefined && p.accountId !== options.accountId) return;
    events++;
    lastPosition = r.position;
    folded.set(p.accountId, evolve(folded.get(p.accountId) ?? initialState(), p.event));
    if (r.position <= upTo('history')) for (const row of historyRows(p)) expectedHistory.set(row.rowId, row as unknown as Record<string, unknown>);
    const d: UsageDelta | undefined = usageDelta(p);
    if (d) {
      const add = <T extends Sums>(map: Map<string, T>, key: string, init: () => T) => {
        const s = map.get(key) ?? map.set(key, init()).get(key)!;
        s.consumed += d.consumed;
        s.refunded += d.refunded;
        s.count += d.count;
        return s;
      };
      if (r.position <= upTo('usage_by_user'))
        add(byUser, [d.accountId, d.day, d.userId, d.creditType, d.feature, d.action].join('|'), () => ({ consumed: 0, refunded: 0, count: 0 }));
      if (r.position <= upTo('usage_by_feature'))
        add(byFeature, [d.accountId, d.day, d.feature, d.action, d.creditType].join('|'), () => ({
          consumed: 0,
          refunded: 0,
          count: 0,
          users: new Set<string>(),
        })).users.add(d.userId);
      if (r.position <= upTo('usage_hourly'))
        add(hourly, [d.accountId, d.hour, d.userId, d.creditType, d.feature, d.action].join('|'), () => ({ consumed: 0, refunded: 0, count: 0 }));
    }
    if (r.position <= upTo('balances'))
      for (const b of balanceRows(p)) balances.set([b.accountId, b.creditType, b.cycleId].join('|'), b as unknown as Record<string, unknown>);
    if (r.position <= upTo('accounts')) for (const a of accountRows([p])) accounts.set(a.accountId, { name: a.name, openedAt: a.openedAt });
    if (r.position <= upTo('history_data_keys')) for (const k of dataKeyRows([p])) dataKeys.add([k.accountId, k.dataKey, k.rowId].join('|'));
    if (r.position <= upTo('filter_catalog') && p.event.type === 'CreditConsumed') {
      const e = p.event.data;
      catalog.add([p.accountId, 'feature', e.feature, ''].join('|'));
      catalog.add([p.accountId, 'action', e.action, e.feature].join('|'));
      catalog.add([p.accountId, 'user', e.userId, ''].join('|'));
      catalog.add([p.accountId, 'creditType', e.creditType, ''].join('|'));
    }
  };

  if (options.accountId !== undefined) {
    for (let from = 0; ; from += MAX_READ_PAGE_SIZE) {
      const page = await store.readStream(accountStream(options.accountId), { fromRevision: from, limit: MAX_READ_PAGE_SIZE });
      page.forEach(consider);
      options.onProgress?.(events);
      if (page.length < MAX_READ_PAGE_SIZE) break;
    }
  } else {
    for (let after = 0; ;) {
      const page = await store.readAll({ after, limit: MAX_READ_PAGE_SIZE });
      if (page.length === 0) break;
      page.forEach(consider);
      after = page[page.length - 1].position;
      options.onProgress?.(events);
    }
  }

  // History: stream the table and tick off expected rows.
  const historyColumns: [string, string][] = [
    ['position', 'position'],
    ['account_id', 'accountId'],
    ['occurred_at', 'occurredAt'],
    ['recorded_at', 'recordedAt'],
    ['kind', 'kind'],
    ['credit_type', 'creditType'],
    ['feature', 'feature'],
    ['action', 'action'],
    ['description', 'description'],
    ['credits', 'credits'],
    ['data_requested', 'dataRequested'],
    ['user_id', 'userId'],
    ['consumption_id', 'consumptionId'],
    ['refund_id', 'refundId'],
    ['grant_id', 'grantId'],
    ['cycle_id', 'cycleId'],
    ['already_purchased', 'alreadyPurchased'],
    ['event_id', 'eventId'],
    ['units', 'units'],
    ['rate', 'rate'],
    ['priced_by', 'pricedBy'],
  ];
  const table = (name: string, base = name) => readModels.activeTable(name, base);
  for await (const row of readModels.iterate<Record<string, unknown>>(`SELECT * FROM ${await table('history')}${accountFilter}`, accountParams)) {
    const key = row.row_id as number;
    const want = expectedHistory.get(key);
    if (!want) {
      differ('history', `row ${key}`, undefined, row);
      continue;
    }
    expectedHistory.delete(key);
    for (const [column, field] of historyColumns) if (row[column] !== want[field]) differ('history', `row ${key} ${column}`, want[field], row[column]);
  }
  for (const [key, want] of expectedHistory) differ('history', `row ${key}`, want, undefined);

  const compareSums = async (readModel: string, keyColumns: string[], expected: Map<string, Sums & { users?: Set<string> }>) => {
    for await (const row of readModels.iterate<Record<string, unknown>>(`SELECT * FROM ${await table(readModel)}${accountFilter}`, accountParams)) {
      const key = keyColumns.map((c) => row[c]).join('|');
      const want = expected.get(key);
      expected.delete(key);
      const got = {
        consumed: row.consumed,
        refunded: row.refunded,
        count: row.count,
        ...(row.distinct_users === undefined ? {} : { distinctUsers: row.distinct_users }),
      };
      const exp = want
        ? { consumed: want.consumed, refunded: want.refunded, count: want.count, ...(want.users ? { distinctUsers: want.users.size } : {}) }
        : undefined;
      if (JSON.stringify(got) !== JSON.stringify(exp)) differ(readModel, key, exp, got);
    }
    for (const [key, want] of expected) differ(readModel, key, want, undefined);
  };
  await compareSums('usage_by_user', ['account_id', 'day', 'user_id', 'credit_type', 'feature', 'action'], byUser);
  await compareSums('usage_by_feature', ['account_id', 'day', 'feature', 'action', 'credit_type'], byFeature);
  await compareSums('usage_hourly', ['account_id', 'hour', 'user_id', 'credit_type', 'feature', 'action'], hourly);

  const figures = ['allocated', 'rolledIn', 'granted', 'used', 'refunded', 'expired', 'remaining'] as const;
  for await (const row of readModels.iterate<Record<string, unknown>>(`SELECT * FROM ${await table('balances')}${accountFilter}`, accountParams)) {
    const key = [row.account_id, row.credit_type, row.cycle_id].join('|');
    const want = balances.get(key);
    balances.delete(key);
    for (const f of figures) {
      const column = f === 'rolledIn' ? 'rolled_in' : f;
      if (!want || row[column] !== want[f]) differ('balances', `${key} ${f}`, want?.[f], row[column]);
    }
  }
  for (const [key, want] of balances) differ('balances', key, want, undefined);

  // The current cycle's balances in the read model must equal the domain's own fold.
  if (upTo('balances') >= lastPosition) {
    const currentSql = `SELECT * FROM ${await table('balances')} WHERE account_id = ? AND cycle_id = ? AND credit_type = ?`;
    for (const [accountId, state] of folded) {
      if (state.status !== 'open') continue;
      const s = state as OpenAccountState;
      for (const [creditType, ct] of Object.entries(s.creditTypes)) {
        const [row] = await readModels.all<Record<string, unknown>>(currentSql, [accountId, s.cycleId, creditType]);
        for (const f of figures)
          if (row?.[f === 'rolledIn' ? 'rolled_in' : f] !== ct.figures[f])
            differ('balances (fold)', `${accountId}|${creditType}|${s.cycleId} ${f}`, ct.figures[f], row?.[f]);
      }
    }
  }

  for await (const row of readModels.iterate<Record<string, unknown>>(`SELECT * FROM ${await table('filter_catalog')}${accountFilter}`, accountParams)) {
    const key = [row.account_id, row.kind, row.value, row.parent].join('|');
    if (!catalog.delete(key)) differ('filter_catalog', key, undefined, row);
  }
  for (const key of catalog) differ('filter_catalog', key, 'present', undefined);

  for await (const row of readModels.iterate<Record<string, unknown>>(`SELECT * FROM ${await table('accounts')}${accountFilter}`, accountParams)) {
    const key = String(row.account_id);
    const want = accounts.get(key);
    accounts.delete(key);
    const got = { name: row.name, openedAt: row.opened_at };
    if (JSON.stringify(got) !== JSON.stringify(want)) differ('accounts', key, want, got);
  }
  for (const [key, want] of accounts) differ('accounts', key, want, undefined);

  for await (const row of readModels.iterate<Record<string, unknown>>(`SELECT * FROM ${await table('history_data_keys')}${accountFilter}`, accountParams)) {
    const key = [row.account_id, row.data_key, row.row_id].join('|');
    if (!dataKeys.delete(key)) differ('history_data_keys', key, undefined, row);
  }
  for (const key of dataKeys) differ('history_data_keys', key, 'present', undefined);

  return { eventsChecked: events, accountsChecked: folded.size, differences, differenceCount };
}
