import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * Fresh databases for tests on the server DATABASE_URL names (the throwaway cluster jest's global
 * setup starts, or a server the user points at). Each test file gets its own database.
 */
export async function createTestDatabase(baseUrl = requireDatabaseUrl(), label = 'test'): Promise<string> {
  const name = `ledger_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropTestDatabase(url: string, baseUrl = requireDatabaseUrl()): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export function requireDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: jest's global setup starts a throwaway PostgreSQL cluster and sets it");
  return url;
}
