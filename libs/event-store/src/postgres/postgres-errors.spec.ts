import { createServer } from 'node:net';
import { Client } from 'pg';
import { isTransientPostgresError, isUniqueViolation } from './postgres-errors';

/** A local port nothing listens on: a connection there is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('PostgreSQL error classification', () => {
  it('calls a refused connection transient, as node-postgres raises it', async () => {
    const client = new Client({ connectionString: `postgresql://nobody@127.0.0.1:${await closedPort()}/none`, connectionTimeoutMillis: 5_000 });
    const refused = await client.connect().catch((error: unknown) => error);
    expect((refused as { code?: string }).code).toBe('ECONNREFUSED');
    expect(isTransientPostgresError(refused)).toBe(true);
  });

  it('calls server shutdown, connection and resource SQLSTATEs and lost connections transient', () => {
    for (const code of ['57P01', '57P03', '08006', '53300', '40001', '40P01', 'ECONNRESET']) expect(isTransientPostgresError({ code })).toBe(true);
    expect(isTransientPostgresError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientPostgresError(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('calls answers about the request not transient', () => {
    for (const code of ['23505', '42P01', '22P02', '42501']) expect(isTransientPostgresError({ code })).toBe(false);
    expect(isTransientPostgresError(new Error('boom'))).toBe(false);
    expect(isTransientPostgresError(null)).toBe(false);
    expect(isTransientPostgresError('ECONNREFUSED')).toBe(false);
  });

  it('knows a unique violation (the retried fast-path race) apart', () => {
    expect(isUniqueViolation({ code: '23505' })).toBe(true);
    expect(isUniqueViolation({ code: '57P01' })).toBe(false);
    expect(isUniqueViolation(null)).toBe(false);
  });
});
