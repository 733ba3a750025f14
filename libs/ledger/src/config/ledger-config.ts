import { resolve } from 'node:path';
import { AuditKeyring, loadAuditKeyring } from '../audit/audit-keys';

/** Events folded at most by the warm-up after a start (LEDGER_WARM_UP_EVENTS; 0 turns it off). */
export const DEFAULT_WARM_UP_EVENTS = 1_000_000;
export const MAX_WARM_UP_EVENTS = 100_000_000;

export const LEDGER_STORES = ['sqlite', 'postgres', 'eventstoredb'] as const;
export type LedgerStoreKind = (typeof LEDGER_STORES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const MIN_ADMIN_KEY_LENGTH = 24;
export const PROJECTION_MODES = ['inline', 'off'] as const;
export type ProjectionMode = (typeof PROJECTION_MODES)[number];

export interface LedgerConfig {
  readonly port: number;
  readonly dataDir: string;
  readonly store: LedgerStoreKind;
  /** Superuser key across accounts; absent = no superuser (keys come from the CLI). */
  readonly adminKey: string | undefined;
  readonly logLevel: LogLevel;
  /** `inline`: this process keeps the read models up to date; `off`: another process (`credit-ledger project`) does. */
  readonly projections: ProjectionMode;
  /** With the embedded store, apply the read models in a thread of their own (LEDGER_PROJECTIONS_THREAD, default true); false: on the event loop. */
  readonly projectionsThread?: boolean;
  /** Run the billing job in the server every so many seconds; undefined = off (the default). */
  readonly cyclesIntervalSeconds?: number;
  /** Accounts the billing job works on at once. */
  readonly cyclesConcurrency?: number;
  /** PostgreSQL connection URL (LEDGER_STORE=postgres). */
  readonly databaseUrl?: string;
  /** EventStoreDB / KurrentDB connection string (LEDGER_STORE=eventstoredb). */
  readonly eventStoreConnectionString?: string;
  /** Apply pending store migrations at start (LEDGER_MIGRATE_ON_START, default true); false = `credit-ledger migrate` does. */
  readonly migrateOnStart?: boolean;
  /** Requests per API key per minute (LEDGER_RATE_LIMIT_PER_KEY_PER_MINUTE); absent = no per-key limit (the default). */
  readonly rateLimitPerKeyPerMinute?: number;
  /** Audit signing keys (LEDGER_AUDIT_SIGNING_KEY, LEDGER_AUDIT_SIGNING_KEY_SINCE, LEDGER_AUDIT_RETIRED_KEYS); absent = signing off. */
  readonly audit?: AuditKeyring;
  /** SIGTERM: seconds the server stays up, answering but not ready, before it stops accepting connections (LEDGER_SHUTDOWN_GRACE_SECONDS, default 5). */
  readonly shutdownGraceSeconds?: number;
  /** Events the warm-up folds at most after a start (LEDGER_WARM_UP_EVENTS, 0 = off); absent = DEFAULT_WARM_UP_EVENTS. */
  readonly warmUpEvents?: number;
}

export const MAX_RATE_LIMIT_PER_KEY_PER_MINUTE = 1_000_000;

export const MIN_CYCLES_INTERVAL_SECONDS = 10;
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 5;
export const MAX_SHUTDOWN_GRACE_SECONDS = 300;
export const MAX_CYCLES_INTERVAL_SECONDS = 86_400;
export const CYCLES_CONCURRENCY_RANGE = [1, 256] as const;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment; every problem is reported at once, with the variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LedgerConfig {
  const problems: string[] = [];
  const portText = env.PORT ?? '3000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65_535) problems.push(`PORT must be an integer 0..65535, got "${portText}"`);

  const store = (env.LEDGER_STORE ?? 'sqlite') as LedgerStoreKind;
  if (!LEDGER_STORES.includes(store)) {
    problems.push(`LEDGER_STORE must be one of ${LEDGER_STORES.join(', ')}, got "${env.LEDGER_STORE}"`);
  }
  const databaseUrl = nonEmpty(env.DATABASE_URL);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  } else if (store === 'postgres' && databaseUrl === undefined) {
    problems.push('LEDGER_STORE=postgres needs DATABASE_URL (postgresql://user:password@host:5432/database)');
  }
  const eventStoreConnectionString = nonEmpty(env.EVENTSTORE_CONNECTION_STRING);
  if (eventStoreConnectionString !== undefined && !/^(esdb|kurrentdb|kdb)(\+discover)?:\/\//.test(eventStoreConnectionString)) {
    problems.push('EVENTSTORE_CONNECTION_STRING must be an esdb:// (or kurrentdb://) connection string');
  } else if (store === 'eventstoredb' && eventStoreConnectionString === undefined) {
    problems.push('LEDGER_STORE=eventstoredb needs EVENTSTORE_CONNECTION_STRING (esdb://host:2113?tls=false)');
  }
  if (store === 'eventstoredb' && databaseUrl === undefined) {
    problems.push(
      'LEDGER_STORE=eventstoredb needs DATABASE_URL (postgresql://user:password@host:5432/database): the read models, API keys, billing lease and relay checkpoints live in PostgreSQL',
    );
  }
  const migrateText = env.LEDGER_MIGRATE_ON_START ?? 'true';
  if (!['true', 'false'].includes(migrateText)) problems.push(`LEDGER_MIGRATE_ON_START must be true or false, got "${migrateText}"`);

  const adminKey = env.LEDGER_ADMIN_KEY === undefined || env.LEDGER_ADMIN_KEY === '' ? undefined : env.LEDGER_ADMIN_KEY;
  if (adminKey !== undefined && (adminKey.length < MIN_ADMIN_KEY_LENGTH || /\s/.test(adminKey))) {
    problems.push(`LEDGER_ADMIN_KEY must be at least ${MIN_ADMIN_KEY_LENGTH} characters without spaces`);
  }

  const logLevel = (env.LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);

  const projections = (env.LEDGER_PROJECTIONS ?? 'inline') as ProjectionMode;
  if (!PROJECTION_MODES.includes(projections))
    problems.push(`LEDGER_PROJECTIONS must be one of ${PROJECTION_MODES.join(', ')}, got "${env.LEDGER_PROJECTIONS}"`);

  const threadText = env.LEDGER_PROJECTIONS_THREAD ?? '';
  if (!['', 'true', 'false'].includes(threadText)) problems.push(`LEDGER_PROJECTIONS_THREAD must be true or false, got "${threadText}"`);

  const dataDirText = env.LEDGER_DATA_DIR ?? './data';
  if (dataDirText.trim() === '') problems.push('LEDGER_DATA_DIR must not be empty');

  let cyclesIntervalSeconds: number | undefined;
  const intervalText = env.LEDGER_CYCLES_INTERVAL_SECONDS;
  if (intervalText !== undefined && intervalText !== '' && intervalText !== '0') {
    cyclesIntervalSeconds = Number(intervalText);
    if (!/^\d+$/.test(intervalText) || cyclesIntervalSeconds < MIN_CYCLES_INTERVAL_SECONDS || cyclesIntervalSeconds > MAX_CYCLES_INTERVAL_SECONDS) {
      problems.push(
        `LEDGER_CYCLES_INTERVAL_SECONDS must be 0 (off) or an integer ${MIN_CYCLES_INTERVAL_SECONDS}..${MAX_CYCLES_INTERVAL_SECONDS}, got "${intervalText}"`,
      );
    }
  }
  let cyclesConcurrency: number | undefined;
  const concurrencyText = env.LEDGER_CYCLES_CONCURRENCY;
  if (concurrencyText !== undefined && concurrencyText !== '') {
    cyclesConcurrency = Number(concurrencyText);
    if (!/^\d+$/.test(concurrencyText) || cyclesConcurrency < CYCLES_CONCURRENCY_RANGE[0] || cyclesConcurrency > CYCLES_CONCURRENCY_RANGE[1]) {
      problems.push(`LEDGER_CYCLES_CONCURRENCY must be an integer ${CYCLES_CONCURRENCY_RANGE[0]}..${CYCLES_CONCURRENCY_RANGE[1]}, got "${concurrencyText}"`);
    }
  }

  let rateLimitPerKeyPerMinute: number | undefined;
  const rateText = env.LEDGER_RATE_LIMIT_PER_KEY_PER_MINUTE;
  if (rateText !== undefined && rateText !== '' && rateText !== '0') {
    rateLimitPerKeyPerMinute = Number(rateText);
    if (!/^\d+$/.test(rateText) || rateLimitPerKeyPerMinute > MAX_RATE_LIMIT_PER_KEY_PER_MINUTE) {
      problems.push(`LEDGER_RATE_LIMIT_PER_KEY_PER_MINUTE must be 0 (off) or an integer 1..${MAX_RATE_LIMIT_PER_KEY_PER_MINUTE}, got "${rateText}"`);
    }
  }
  const audit = loadAuditKeyring(env, problems);
  const graceText = env.LEDGER_SHUTDOWN_GRACE_SECONDS ?? '';
  const shutdownGraceSeconds = graceText === '' ? DEFAULT_SHUTDOWN_GRACE_SECONDS : Number(graceText);
  if (graceText !== '' && (!/^\d+$/.test(graceText) || shutdownGraceSeconds > MAX_SHUTDOWN_GRACE_SECONDS)) {
    problems.push(`LEDGER_SHUTDOWN_GRACE_SECONDS must be an integer 0..${MAX_SHUTDOWN_GRACE_SECONDS}, got "${graceText}"`);
  }

  const warmUpText = env.LEDGER_WARM_UP_EVENTS ?? '';
  const warmUpEvents = warmUpText === '' ? undefined : Number(warmUpText);
  if (warmUpEvents !== undefined && (!/^\d+$/.test(warmUpText) || warmUpEvents > MAX_WARM_UP_EVENTS)) {
    problems.push(`LEDGER_WARM_UP_EVENTS must be 0 (off) or an integer 1..${MAX_WARM_UP_EVENTS}, got "${warmUpText}"`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    dataDir: resolve(dataDirText),
    store,
    adminKey,
    logLevel,
    projections,
    projectionsThread: threadText !== 'false',
    ...(cyclesIntervalSeconds !== undefined ? { cyclesIntervalSeconds } : {}),
    ...(cyclesConcurrency !== undefined ? { cyclesConcurrency } : {}),
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    ...(eventStoreConnectionString !== undefined ? { eventStoreConnectionString } : {}),
    migrateOnStart: migrateText !== 'false',
    ...(rateLimitPerKeyPerMinute !== undefined ? { rateLimitPerKeyPerMinute } : {}),
    audit,
    shutdownGraceSeconds,
    ...(warmUpEvents !== undefined ? { warmUpEvents } : {}),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
