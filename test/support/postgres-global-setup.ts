// globalSetup runs outside jest's module mapper: the public entry by its path, not the alias.
import { ThrowawayPostgresCluster } from '../../libs/event-store/src/testing';

interface JestProjectConfig {
  readonly testPathIgnorePatterns?: readonly string[];
}

/** A unit-only run (integration and e2e suites ignored) must not pay for a database server. */
function serverSuitesSelected(projectConfig: JestProjectConfig): boolean {
  const ignore = (projectConfig.testPathIgnorePatterns ?? []).map((p) => new RegExp(p));
  return !['x.int.spec.ts', 'x.e2e.spec.ts'].every((f) => ignore.some((re) => re.test(f)));
}

/**
 * Unless DATABASE_URL names a server, starts a throwaway PostgreSQL cluster (initdb + pg_ctl on a
 * private port under a temp dir) for the whole run and hands its URL to the workers through
 * DATABASE_URL. Each test file creates its own database on it.
 */
export async function postgresGlobalSetup(projectConfig: JestProjectConfig): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.stdout.write(`\npostgres: using DATABASE_URL (${redact(process.env.DATABASE_URL)})\n`);
    return;
  }
  if (!serverSuitesSelected(projectConfig)) return;
  const cluster = await ThrowawayPostgresCluster.start((line) => process.stdout.write(`\npostgres: ${line}\n`));
  (globalThis as { __PG_CLUSTER__?: ThrowawayPostgresCluster }).__PG_CLUSTER__ = cluster;
  process.env.DATABASE_URL = cluster.url;
}

export async function postgresGlobalTeardown(): Promise<void> {
  const holder = globalThis as { __PG_CLUSTER__?: ThrowawayPostgresCluster };
  if (!holder.__PG_CLUSTER__) return;
  process.stdout.write(`\npostgres: stopping the throwaway cluster on port ${holder.__PG_CLUSTER__.port} and removing ${holder.__PG_CLUSTER__.dir}\n`);
  holder.__PG_CLUSTER__.destroy();
  holder.__PG_CLUSTER__ = undefined;
  delete process.env.DATABASE_URL;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
