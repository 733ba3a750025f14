import { resolve } from 'node:path';

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
  /** Run the billing job in the server every so many seconds; undefined = off (the default). */
  readonly cyclesIntervalSeconds?: number;
  /** Accounts the billing job works on at once. */
  readonly cyclesConcurrency?: number;
}

export const MIN_CYCLES_INTERVAL_SECONDS = 10;
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
  } else if (store !== 'sqlite') {
    problems.push(`LEDGER_STORE=${store} is not available in this version yet; use sqlite (the embedded store)`);
  }

  const adminKey = env.LEDGER_ADMIN_KEY === undefined || env.LEDGER_ADMIN_KEY === '' ? undefined : env.LEDGER_ADMIN_KEY;
  if (adminKey !== undefined && (adminKey.length < MIN_ADMIN_KEY_LENGTH || /\s/.test(adminKey))) {
    problems.push(`LEDGER_ADMIN_KEY must be at least ${MIN_ADMIN_KEY_LENGTH} characters without spaces`);
  }

  const logLevel = (env.LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);

  const projections = (env.LEDGER_PROJECTIONS ?? 'inline') as ProjectionMode;
  if (!PROJECTION_MODES.includes(projections)) problems.push(`LEDGER_PROJECTIONS must be one of ${PROJECTION_MODES.join(', ')}, got "${env.LEDGER_PROJECTIONS}"`);

  const dataDirText = env.LEDGER_DATA_DIR ?? './data';
  if (dataDirText.trim() === '') problems.push('LEDGER_DATA_DIR must not be empty');

  let cyclesIntervalSeconds: number | undefined;
  const intervalText = env.LEDGER_CYCLES_INTERVAL_SECONDS;
  if (intervalText !== undefined && intervalText !== '' && intervalText !== '0') {
    cyclesIntervalSeconds = Number(intervalText);
    if (!/^\d+$/.test(intervalText) || cyclesIntervalSeconds < MIN_CYCLES_INTERVAL_SECONDS || cyclesIntervalSeconds > MAX_CYCLES_INTERVAL_SECONDS) {
      problems.push(`LEDGER_CYCLES_INTERVAL_SECONDS must be 0 (off) or an integer ${MIN_CYCLES_INTERVAL_SECONDS}..${MAX_CYCLES_INTERVAL_SECONDS}, got "${intervalText}"`);
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

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    dataDir: resolve(dataDirText),
    store,
    adminKey,
    logLevel,
    projections,
    ...(cyclesIntervalSeconds !== undefined ? { cyclesIntervalSeconds } : {}),
    ...(cyclesConcurrency !== undefined ? { cyclesConcurrency } : {}),
  };
}
