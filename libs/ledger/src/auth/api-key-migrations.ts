import { StateMigrations } from '../state/state-database';

export const API_KEYS_COMPONENT = 'api_keys';

/** Frozen once released: a change is a new entry in both lists. */
export const API_KEY_MIGRATIONS: StateMigrations = {
  sqlite: [
    `CREATE TABLE api_keys (
       key_id     TEXT PRIMARY KEY,
       key_hash   TEXT NOT NULL UNIQUE,
       role       TEXT NOT NULL,
       account_id TEXT NOT NULL,
       user_id    TEXT,
       created_at TEXT NOT NULL,
       revoked_at TEXT
     );
     CREATE INDEX api_keys_account ON api_keys (account_id);`,
  ],
  postgres: [
    `CREATE TABLE api_keys (
       key_id     text PRIMARY KEY,
       key_hash   text NOT NULL UNIQUE,
       role       text NOT NULL,
       account_id text NOT NULL,
       user_id    text,
       created_at text NOT NULL,
       revoked_at text
     );
     CREATE INDEX api_keys_account ON api_keys (account_id);`,
  ],
};
