import { ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { ADMIN_KEY, PLAN, tempDataDir } from '../support/ledger-harness';
import { SERVER_ENTRY, exited, freePort, get, post, startServer } from '../support/server-process';

/**
 * A server SIGKILLed between a reservation and its capture: after the restart the reservation is
 * still open with its expiry, still holds its credits, and the capture succeeds exactly once.
 */
describe('reservations survive SIGKILL between reserve and capture', () => {
  let dataDir: string;
  let server: ChildProcess | undefined;

  beforeAll(() => {
    if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run npm run build (npm test does it first)`);
    dataDir = tempDataDir();
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGKILL');
      await exited(server);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the reservation and its expiry; the capture then succeeds once', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const headers = { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' };
    const env = { ...process.env, LEDGER_DATA_DIR: dataDir, LEDGER_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'error' };
    server = await startServer(env, port);
    expect((await post(base, headers, '/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN })).status).toBe(201);
    const hold = { reservationId: 'job-1', userId: 'ana', creditType: 'email', feature: 'research', action: 'run', credits: 40, expiresInSeconds: 3600 };
    const reserved = await post(base, headers, '/v1/accounts/acme/reservations', hold);
    expect(reserved.status).toBe(201);
    server.kill('SIGKILL');
    await exited(server);

    server = await startServer(env, port);
    const after = await get(base, headers, '/v1/accounts/acme/reservations/job-1');
    expect(after.body).toMatchObject({ status: 'open', credits: 40, expiresAt: reserved.body.expiresAt });
    const email = (await get(base, headers, '/v1/accounts/acme/balances')).body.balances.find((b: { creditType: string }) => b.creditType === 'email');
    expect(email).toMatchObject({ remaining: 100, reserved: 40, available: 60 });
    expect((await post(base, headers, '/v1/accounts/acme/reservations', hold)).status).toBe(200);

    const capture = { consumptionId: 'job-1-charge', credits: 25 };
    const first = await post(base, headers, '/v1/accounts/acme/reservations/job-1/capture', capture);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'captured', captured: 25, released: 15 });
    const retry = await post(base, headers, '/v1/accounts/acme/reservations/job-1/capture', capture);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect((await post(base, headers, '/v1/accounts/acme/reservations/job-1/capture', { consumptionId: 'other' })).body.error).toBe('RESERVATION_NOT_OPEN');
    const events = (await get(base, headers, '/v1/accounts/acme/events?limit=1000')).body.items.map((e: { type: string }) => e.type);
    expect(events.filter((type: string) => type === 'CreditConsumed')).toHaveLength(1);
    expect(events.filter((type: string) => type === 'ReservationCaptured')).toHaveLength(1);
    const final = (await get(base, headers, '/v1/accounts/acme/balances')).body.balances.find((b: { creditType: string }) => b.creditType === 'email');
    expect(final).toMatchObject({ used: 25, remaining: 75, reserved: 0, available: 75 });
  });
});
