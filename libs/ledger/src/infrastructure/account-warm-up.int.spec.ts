import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consume, grant, open, planOf, T0 } from '@credit-ledger/domain/testing';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { loadConfig } from '../config/ledger-config';
import { createMetricsRegistry, LedgerMetrics } from '../metrics/ledger-metrics';
import { AccountRepository } from './account-repository';
import { AccountWarmUp, WARM_UP_MIN_ACCOUNT_EVENTS } from './account-warm-up';
import { SystemClock } from './clock';
import { CommandExecutor } from './command-executor';

const ctx = { actor: 'test', correlationId: 'corr', recordedAt: T0 };

describe('AccountWarmUp', () => {
  let dataDir: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'account-warm-up-'));
    store = SqliteEventStore.open(dataDir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Writes an account of about `events` events (open, a grant, 1-credit consumptions, the thresholds they cross) in one append; returns its size. */
  async function account(accountId: string, events: number): Promise<number> {
    const writer = new AccountRepository(store);
    const session = await writer.load(accountId, true);
    session.decide(`open-${accountId}`, { ...open(T0, planOf({ email: 10 })), data: { ...open(T0, planOf({ email: 10 })).data, accountId } });
    session.decide('g1', grant('g1', events));
    for (let index = 0; index < events - 2; index++) session.decide(`c${index}`, consume(`c${index}`, 1));
    await writer.commit(session, ctx);
    return session.revision + 1;
  }

  async function warmUp(warmUpEvents: number, stopAtOnce = false) {
    const repository = new AccountRepository(store);
    const registry = createMetricsRegistry();
    const metrics = new LedgerMetrics(registry, 'sqlite');
    const warm = new AccountWarmUp({ ...loadConfig({}), warmUpEvents }, store, new CommandExecutor(repository, new SystemClock()), metrics);
    warm.onApplicationBootstrap();
    await (stopAtOnce ? warm.beforeApplicationShutdown() : warm.done());
    const metricValue = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;
    return { repository, metricValue };
  }

  it('folds the largest accounts in use into the cache, within its budget of events', async () => {
    const big = await account('big', WARM_UP_MIN_ACCOUNT_EVENTS + 500);
    await account('small', 100);
    const medium = await account('medium', WARM_UP_MIN_ACCOUNT_EVENTS + 100);
    expect(medium).toBeGreaterThanOrEqual(WARM_UP_MIN_ACCOUNT_EVENTS);

    const all = await warmUp(10_000);
    expect(all.repository.cached('big')?.revision).toBe(big - 1);
    expect(all.repository.cached('medium')?.revision).toBe(medium - 1);
    expect(all.repository.cached('small')).toBeUndefined(); // folds on demand quickly enough
    expect(await all.metricValue('ledger_account_warm_up_accounts_total')).toBe(2);
    expect(await all.metricValue('ledger_account_warm_up_events_total')).toBe(big + medium);
    expect(await all.metricValue('ledger_account_warm_up_running')).toBe(0);

    // A budget for one of them: the largest.
    const one = await warmUp(big + 100);
    expect(one.repository.cached('big')).toBeDefined();
    expect(one.repository.cached('medium')).toBeUndefined();
  });

  it('does nothing when turned off (LEDGER_WARM_UP_EVENTS=0), and stops at shutdown', async () => {
    await account('big', WARM_UP_MIN_ACCOUNT_EVENTS + 10);
    const off = await warmUp(0);
    expect(off.repository.cached('big')).toBeUndefined();
    expect(await off.metricValue('ledger_account_warm_up_accounts_total')).toBe(0);
    const stopped = await warmUp(10_000, true);
    expect(stopped.repository.cached('big')).toBeUndefined();
    expect(await stopped.metricValue('ledger_account_warm_up_running')).toBe(0);
  });
});
