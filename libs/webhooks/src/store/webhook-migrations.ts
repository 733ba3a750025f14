import { StateMigrations } from '@credit-ledger/ledger';

export const WEBHOOKS_COMPONENT = 'webhooks';

const tables = (text: string, bigint: string, serial: string) => `
CREATE TABLE webhook_endpoints (
  id                    ${text} PRIMARY KEY,
  account_id            ${text},
  url                   ${text} NOT NULL,
  description           ${text},
  event_types           ${text} NOT NULL,
  enabled               INTEGER NOT NULL,
  disabled_reason       ${text},
  disabled_at           ${bigint},
  secret                ${text} NOT NULL,
  previous_secret       ${text},
  previous_secret_until ${bigint},
  created_at            ${bigint} NOT NULL,
  updated_at            ${bigint} NOT NULL,
  created_position      ${bigint} NOT NULL,
  failing_since         ${bigint}
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id);
CREATE TABLE webhook_messages (
  id         ${text} PRIMARY KEY,
  position   ${bigint} NOT NULL,
  account_id ${text},
  type       ${text} NOT NULL,
  body       ${text} NOT NULL,
  created_at ${bigint} NOT NULL
);
CREATE INDEX webhook_messages_position ON webhook_messages (position);
CREATE TABLE webhook_deliveries (
  seq              ${serial},
  id               ${text} NOT NULL UNIQUE,
  endpoint_id      ${text} NOT NULL,
  message_id       ${text} NOT NULL,
  account_key      ${text} NOT NULL,
  origin           ${text} NOT NULL,
  status           ${text} NOT NULL,
  next_attempt_at  ${bigint},
  first_attempt_at ${bigint},
  attempt_count    INTEGER NOT NULL,
  attempts         ${text} NOT NULL,
  created_at       ${bigint} NOT NULL,
  completed_at     ${bigint}
);
CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (endpoint_id, account_key, status, seq);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, seq);
CREATE TABLE webhook_once (key ${text} PRIMARY KEY);
CREATE TABLE webhook_grant_timers (
  key           ${text} PRIMARY KEY,
  account_id    ${text} NOT NULL,
  grant_id      ${text} NOT NULL,
  credit_type   ${text} NOT NULL,
  expires_at    ${text} NOT NULL,
  expires_at_ms ${bigint} NOT NULL,
  position      ${bigint} NOT NULL,
  done          INTEGER NOT NULL
);
CREATE INDEX webhook_grant_timers_due ON webhook_grant_timers (done, expires_at_ms);
CREATE TABLE webhook_checkpoint (name ${text} PRIMARY KEY, position ${bigint} NOT NULL);
CREATE TABLE webhook_lease (name ${text} PRIMARY KEY, owner ${text} NOT NULL, expires_at ${bigint} NOT NULL);
`;

/** Credit types whose depletion forecast is looked at again at a UTC midnight (one row per account and credit type). */
const forecastWatches = (text: string, bigint: string) => `
CREATE TABLE webhook_forecast_watches (
  key         ${text} PRIMARY KEY,
  account_id  ${text} NOT NULL,
  credit_type ${text} NOT NULL,
  position    ${bigint} NOT NULL,
  due_at_ms   ${bigint} NOT NULL
);
CREATE INDEX webhook_forecast_watches_due ON webhook_forecast_watches (due_at_ms);
`;

/** Frozen once released: a change is a new entry in both lists. */
export const WEBHOOK_MIGRATIONS: StateMigrations = {
  sqlite: [tables('TEXT', 'INTEGER', 'INTEGER PRIMARY KEY AUTOINCREMENT'), forecastWatches('TEXT', 'INTEGER')],
  postgres: [tables('text COLLATE "C"', 'bigint', 'bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY'), forecastWatches('text COLLATE "C"', 'bigint')],
};
