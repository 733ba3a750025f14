import { DEFAULT_FORECAST_HORIZON_DAYS, DEFAULT_GRANT_EXPIRING_DAYS, MAX_NOTICE_DAYS } from './limits';

export const WEBHOOK_MODES = ['inline', 'off'] as const;
export type WebhookMode = (typeof WEBHOOK_MODES)[number];

export interface WebhooksConfig {
  /** `inline`: this process dispatches (the API by default); `off`: another process does (`ledger-worker --role webhooks`). */
  readonly mode: WebhookMode;
  /**
   * With the embedded store, `inline` dispatches in a thread of the server (LEDGER_WEBHOOKS_THREAD,
   * default true): following the log, folding account states and sending take no time from the
   * event loop that answers requests. false: on the event loop.
   */
  readonly thread?: boolean;
  /** Allow http:// targets (LEDGER_WEBHOOKS_ALLOW_HTTP). */
  readonly allowHttp: boolean;
  /** Allow loopback, private, link-local and metadata targets (LEDGER_WEBHOOKS_ALLOW_PRIVATE). */
  readonly allowPrivate: boolean;
  /** credits.depletion_forecast fires when the projected depletion falls within this many days. */
  readonly forecastHorizonDays: number;
  /** grant.expiring fires this many days before a grant expires. */
  readonly grantExpiringDays: number;
}

export const DEFAULT_WEBHOOKS_CONFIG: WebhooksConfig = {
  mode: 'inline',
  thread: true,
  allowHttp: false,
  allowPrivate: false,
  forecastHorizonDays: DEFAULT_FORECAST_HORIZON_DAYS,
  grantExpiringDays: DEFAULT_GRANT_EXPIRING_DAYS,
};

export class WebhooksConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'WebhooksConfigError';
  }
}

function flag(env: NodeJS.ProcessEnv, name: string, problems: string[], fallback = false): boolean {
  const text = env[name] ?? String(fallback);
  if (text === '') return fallback;
  if (!['true', 'false'].includes(text)) problems.push(`${name} must be true or false, got "${text}"`);
  return text === 'true';
}

function days(env: NodeJS.ProcessEnv, name: string, fallback: number, problems: string[]): number {
  const text = env[name] ?? '';
  if (text === '') return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > MAX_NOTICE_DAYS) problems.push(`${name} must be an integer 1..${MAX_NOTICE_DAYS}, got "${text}"`);
  return value;
}

/** LEDGER_WEBHOOKS*, every problem at once with the variable's name. */
export function loadWebhooksConfig(env: NodeJS.ProcessEnv = process.env): WebhooksConfig {
  const problems: string[] = [];
  const mode = (env.LEDGER_WEBHOOKS === undefined || env.LEDGER_WEBHOOKS === '' ? 'inline' : env.LEDGER_WEBHOOKS) as WebhookMode;
  if (!WEBHOOK_MODES.includes(mode)) problems.push(`LEDGER_WEBHOOKS must be one of ${WEBHOOK_MODES.join(', ')}, got "${env.LEDGER_WEBHOOKS}"`);
  const config: WebhooksConfig = {
    mode,
    thread: flag(env, 'LEDGER_WEBHOOKS_THREAD', problems, true),
    allowHttp: flag(env, 'LEDGER_WEBHOOKS_ALLOW_HTTP', problems),
    allowPrivate: flag(env, 'LEDGER_WEBHOOKS_ALLOW_PRIVATE', problems),
    forecastHorizonDays: days(env, 'LEDGER_WEBHOOKS_FORECAST_HORIZON_DAYS', DEFAULT_FORECAST_HORIZON_DAYS, problems),
    grantExpiringDays: days(env, 'LEDGER_WEBHOOKS_GRANT_EXPIRING_DAYS', DEFAULT_GRANT_EXPIRING_DAYS, problems),
  };
  if (problems.length > 0) throw new WebhooksConfigError(problems);
  return config;
}
