import { Client, ClientConfig, Pool } from 'pg';
import { catchUpSubscription } from '../catch-up-subscription';
import { decodeRows } from '../decode-rows';
import {
  AppendResult,
  BatchHandler,
  EventStore,
  EventToAppend,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  clampPageSize,
  StreamLength,
} from '../event-store.port';
import { ChainHeadRecord, HashChainedStore } from '../chain/verify-chain';
import { EventStoreObserver, observedAppend } from '../store-observer';
import { isTransientPostgresError } from './postgres-errors';
import { PG_CHAIN_MIGRATIONS, PG_CHAIN_MIGRATION_COMPONENT, fillPostgresHashChain } from './postgres-hash-chain';
import { GroupCommitStats, PostgresGroupCommit, StreamAppend } from './postgres-group-commit';
import { PG_MAX_POLL_INTERVAL_MS, PG_NOTIFY_SAFETY_POLL_MS, PostgresLiveNotifications } from './postgres-live-notifications';
import { MigrationReport, migratePostgres } from './postgres-migrations';
import {
  CHAIN_HEAD_STATEMENT,
  EventRow,
  HEAD_STATEMENT,
  PG_EVENT_STORE_MIGRATIONS,
  PG_MIGRATION_COMPONENT,
  READ_ALL_STATEMENT,
  READ_STREAM_AFTER_STATEMENT,
  READ_STREAM_STATEMENT,
  assertSchemaCurrent,
  toStored,
} from './postgres-sql';

export const PG_DEFAULT_READ_POOL_SIZE = 8;
export const PG_MAX_READ_POOL_SIZE = 64;
export const PG_CONNECT_TIMEOUT_MS = 10_000;
/** No statement of ours may run longer; a stuck server surfaces as an error, not a hang. */
export const PG_STATEMENT_TIMEOUT_MS = 60_000;
/** Lower bound of a configured safety-net poll. */
export const PG_MIN_NOTIFY_SAFETY_POLL_MS = 100;

export interface PostgresEventStoreOptions {
  readonly readPoolSize?: number;
  /** Apply pending migrations on connect (default true); false = refuse to start on an old schema. */
  readonly migrate?: boolean;
  readonly applicationName?: string;
  /** Safety-net poll while LISTEN is connected (default PG_NOTIFY_SAFETY_POLL_MS; 100..PG_MAX_POLL_INTERVAL_MS). */
  readonly notifySafetyPollMs?: number;
  /**
   * Bench only: write no hashes (the chains are broken from there on). Measures what the hash
   * chains cost on the command path; never set in production.
   */
  readonly disableHashChainForBenchmark?: boolean;
}

export type PostgresEventStoreStats = GroupCommitStats;

export interface PostgresDurability {
  readonly fsync: string;
  readonly synchronousCommit: string;
}

/**
 * PostgreSQL event store. Appends go through group commit (postgres-group-commit.ts): one
 * transaction and one WAL flush per group, synchronous_commit forced on, so nothing is
 * acknowledged before its commit is flushed. Reads use a pool. Live subscribers are woken by
 * NOTIFY, with polling as the fallback when the LISTEN connection is down
 * (postgres-live-notifications.ts).
 */
export class PostgresEventStore implements EventStore, HashChainedStore {
  private readonly reads: Pool;
  private readonly groupCommit: PostgresGroupCommit;
  private readonly notifications: PostgresLiveNotifications;
  private closed = false;
  private observer: EventStoreObserver | undefined;

  private constructor(
    clientConfig: ClientConfig,
    readPoolSize: number,
    readonly migration: MigrationReport | undefined,
    notifySafetyPollMs: number,
    hashing: boolean,
    /** The hash-chain migration, and how many events it filled in (a database written before the chains). */
    readonly hashChainMigration: (MigrationReport & { filled: number }) | undefined,
  ) {
    this.reads = new Pool({ ...clientConfig, max: readPoolSize });
    this.reads.on('error', () => undefined); // an idle client's lost connection; the pool replaces it
    this.notifications = new PostgresLiveNotifications(clientConfig, notifySafetyPollMs);
    this.groupCommit = new PostgresGroupCommit(
      clientConfig,
      (head) => this.notifications.noteHead(head),
      hashing,
      (group) => this.observer?.groupCommitted?.(group),
    );
  }

  static async connect(url: string, options: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
    const readPoolSize = options.readPoolSize ?? PG_DEFAULT_READ_POOL_SIZE;
    if (!Number.isSafeInteger(readPoolSize) || readPoolSize < 1 || readPoolSize > PG_MAX_READ_POOL_SIZE) {
      throw new RangeError(`readPoolSize must be 1..${PG_MAX_READ_POOL_SIZE}`);
    }
    const notifySafetyPollMs = options.notifySafetyPollMs ?? PG_NOTIFY_SAFETY_POLL_MS;
    if (!Number.isSafeInteger(notifySafetyPollMs) || notifySafetyPollMs < PG_MIN_NOTIFY_SAFETY_POLL_MS || notifySafetyPollMs > PG_MAX_POLL_INTERVAL_MS) {
      throw new RangeError(`notifySafetyPollMs must be ${PG_MIN_NOTIFY_SAFETY_POLL_MS}..${PG_MAX_POLL_INTERVAL_MS}`);
    }
    const clientConfig: ClientConfig = {
      connectionString: url,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
      statement_timeout: PG_STATEMENT_TIMEOUT_MS,
      application_name: options.applicationName ?? 'credit-ledger',
    };
    const { migration, hashChainMigration } = await prepareSchema(clientConfig, options.migrate ?? true);
    return new PostgresEventStore(clientConfig, readPoolSize, migration, notifySafetyPollMs, !options.disableHashChainForBenchmark, hashChainMigration);
  }

  stats(): PostgresEventStoreStats {
    return this.groupCommit.stats();
  }

  /** The server's durability settings as the writer connection sees them. */
  async durability(): Promise<PostgresDurability> {
    const writer = await this.groupCommit.writerClient(0);
    const fsync = await writer.query<{ fsync: string }>('SHOW fsync');
    const sync = await writer.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
    return { fsync: fsync.rows[0].fsync, synchronousCommit: sync.rows[0].synchronous_commit };
  }

  /** `notify` while the LISTEN connection is up, `polling` otherwise (and before any subscription). */
  liveMode(): 'notify' | 'polling' {
    return this.notifications.liveMode();
  }

  /** Backend pid of the LISTEN connection (tests cut it with pg_terminate_backend). */
  listenerProcessId(): number | undefined {
    return this.notifications.listenerProcessId();
  }

  append(streamId: string, expectedRevision: number, events: readonly EventToAppend[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    return observedAppend(this.observer, events.length, () => this.groupCommit.append(streamId, expectedRevision, events));
  }

  observe(observer: EventStoreObserver): void {
    this.observer = observer;
  }

  /**
   * Appends to several streams in ONE transaction, in the order given: all are written or none
   * (the first conflict fails the whole batch). Used by `store copy`, so an interrupted copy always
   * leaves the target holding an exact prefix of the source.
   */
  appendAtomically(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    return this.groupCommit.appendAtomically(appends);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const limit = clampPageSize(options.limit);
    const from = options.fromRevision ?? 0;
    const { rows } =
      options.afterPosition === undefined
        ? await this.reads.query<EventRow>({ ...READ_STREAM_STATEMENT, values: [streamId, from, limit] })
        : await this.reads.query<EventRow>({ ...READ_STREAM_AFTER_STATEMENT, values: [streamId, from, options.afterPosition, limit] });
    return decodeRows(rows.map(toStored));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const { rows } = await this.reads.query<EventRow>({ ...READ_ALL_STATEMENT, values: [options.after ?? 0, clampPageSize(options.limit)] });
    return decodeRows(rows.map(toStored));
  }

  /** The head row: the last position and its hash (moved by every group commit, under its lock). */
  async chainHead(): Promise<ChainHeadRecord> {
    const { rows } = await this.reads.query<{ position: string; hash: string | null }>(CHAIN_HEAD_STATEMENT);
    return { position: Number(rows[0].position), hash: rows[0].hash };
  }

  async headPosition(): Promise<number> {
    const { rows } = await this.reads.query<{ position: string }>(HEAD_STATEMENT);
    return Number(rows[0].position);
  }

  async longestStreams(prefix: string, limit: number): Promise<StreamLength[]> {
    const { rows } = await this.reads.query<{ stream_id: string; events: string }>(
      'SELECT stream_id, MAX(revision) + 1 AS events FROM ledger_events WHERE starts_with(stream_id, $1) GROUP BY stream_id ORDER BY events DESC LIMIT $2',
      [prefix, limit],
    );
    return rows.map((row) => ({ streamId: row.stream_id, events: Number(row.events) }));
  }

  subscribeToAll(options: SubscribeOptions, handler: BatchHandler): Subscription {
    this.notifications.startListening();
    return catchUpSubscription(
      (after, limit) => this.readAll({ after, limit }),
      {
        waitForEventsAfter: (position, stopped) => this.notifications.waitForEventsAfter(position, stopped),
        isTransient: isTransientPostgresError,
      },
      options,
      handler,
    );
  }

  /** A lost or refused connection, a server shutting down or starting, a pool timeout. */
  isTransientError(error: unknown): boolean {
    return isTransientPostgresError(error);
  }

  async ping(): Promise<void> {
    await this.reads.query('SELECT 1');
  }

  /** Answers queued appends, then closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.groupCommit.drain();
    await Promise.allSettled([this.groupCommit.close(), this.notifications.close(), this.reads.end()]);
  }
}

/**
 * Migrates the schema (or checks it is current) on a connection of its own: the event store's
 * component, then the hash chains' (its own component), then the hashes of events stored before
 * them (resumable, a batch per transaction).
 */
async function prepareSchema(
  clientConfig: ClientConfig,
  migrate: boolean,
): Promise<{ migration?: MigrationReport; hashChainMigration?: MigrationReport & { filled: number } }> {
  const setup = new Client(clientConfig);
  await setup.connect();
  try {
    if (!migrate) {
      await assertSchemaCurrent(setup);
      await assertSchemaCurrent(setup, PG_CHAIN_MIGRATION_COMPONENT, PG_CHAIN_MIGRATIONS.length);
      return {};
    }
    const migration = await migratePostgres(setup, PG_MIGRATION_COMPONENT, PG_EVENT_STORE_MIGRATIONS);
    const chain = await migratePostgres(setup, PG_CHAIN_MIGRATION_COMPONENT, PG_CHAIN_MIGRATIONS);
    const { filled } = await fillPostgresHashChain(setup);
    return { migration, hashChainMigration: { ...chain, filled } };
  } finally {
    await setup.end();
  }
}
