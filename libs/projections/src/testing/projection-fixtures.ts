import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerCommand, LedgerEvent } from '@credit-ledger/domain';
import { run } from '@credit-ledger/domain/testing';
import { EventStore, RecordedEvent } from '@credit-ledger/event-store';
import { createTestDatabase, dropTestDatabase } from '@credit-ledger/event-store/testing';
import { accountStream, encodeEvents } from '@credit-ledger/ledger';
import { seedHistory, SeedOptions } from '../ops/seed';
import { ProjectionRunner } from '../projection-runner';
import { PostgresReadModelStore } from '../postgres/postgres-read-model-store';
import { ReadModelStore } from '../read-model-store';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';

/** Stored events as the log would hand them over, from domain events of one account. */
export function recordedFrom(events: readonly LedgerEvent[], accountId = 'acme', firstPosition = 1): RecordedEvent[] {
  const stream = accountStream(accountId);
  return events.map((e, i) => {
    const [x] = encodeEvents(`cmd:${firstPosition + i}`, [e], { actor: 'test', correlationId: 'c', recordedAt: e.occurredAt });
    return { ...x, streamId: stream, revision: i, position: firstPosition + i };
  });
}

/** Opens empty read-model stores of one kind for tests, and cleans them all up. */
export interface ReadModelStoreFactory {
  readonly kind: 'sqlite' | 'postgres';
  /** A fresh, empty store (a new SQLite file, or a new PostgreSQL database). */
  open(): Promise<ReadModelStore>;
  /** A second connection to the last store opened (another process's view of the same database). */
  reopen(): Promise<ReadModelStore>;
  closeAll(): Promise<void>;
}

export function readModelStoreFactory(kind: 'sqlite' | 'postgres'): ReadModelStoreFactory {
  const opened: ReadModelStore[] = [];
  const databases: string[] = [];
  let last: string | undefined;
  const connect = async (where: string) => {
    const store = kind === 'sqlite' ? SqliteReadModelStore.open(where) : await PostgresReadModelStore.connect(where);
    opened.push(store);
    return store;
  };
  return {
    kind,
    async open() {
      last = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'ledger-rm-')) : await createTestDatabase(undefined, 'readmodels');
      if (kind === 'postgres') databases.push(last);
      return connect(last);
    },
    reopen() {
      if (last === undefined) throw new Error('open a store first');
      return connect(last);
    },
    async closeAll() {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      for (const url of databases.splice(0)) await dropTestDatabase(url);
    },
  };
}

/** Given these commands (run through the real deciders), when projected: a runner on a fresh store. */
export async function givenProjected(
  stores: ReadModelStoreFactory,
  commands: LedgerCommand[],
): Promise<{ store: ReadModelStore; runner: ProjectionRunner; records: RecordedEvent[] }> {
  const store = await stores.open();
  const runner = await ProjectionRunner.create(store);
  const records = recordedFrom(run(commands).events);
  await runner.applyBatch(records);
  return { store, runner, records };
}

/**
 * Seeds `log` with a history, projects it into a fresh store of `stores`, and names its busiest
 * account and that account's busiest member (the rows the history specs read).
 */
export async function projectedSeed(
  stores: ReadModelStoreFactory,
  log: EventStore,
  seed: SeedOptions,
): Promise<{ readModels: ReadModelStore; account: string; member: string }> {
  await seedHistory(log, seed);
  const readModels = await stores.open();
  await (await ProjectionRunner.create(readModels)).catchUp(log);
  const history = await readModels.activeTable('history', 'history');
  const [{ account }] = await readModels.all<{ account: string }>(
    `SELECT account_id AS account FROM ${history} GROUP BY account_id ORDER BY COUNT(*) DESC LIMIT 1`,
  );
  const [{ member }] = await readModels.all<{ member: string }>(
    `SELECT user_id AS member FROM ${history} WHERE account_id = ? AND user_id IS NOT NULL GROUP BY user_id ORDER BY COUNT(*) DESC LIMIT 1`,
    [account],
  );
  return { readModels, account, member };
}
