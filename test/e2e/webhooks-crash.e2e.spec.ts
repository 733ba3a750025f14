import Database from 'better-sqlite3';
import { ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { exited, freePort, startServer } from '../support/server-process';
import { ADMIN_KEY, PLAN, tempDataDir } from '../support/ledger-harness';
import { eventually, WebhookReceiver } from '../support/webhook-receiver';

const WORKER_ENTRY = join(__dirname, '../../dist/apps/ledger-worker/src/main.js');
const ACCOUNTS = ['a1', 'a2', 'a3', 'a4'];
const GRANTS_PER_ACCOUNT = 60;

/**
 * The API with LEDGER_WEBHOOKS=off and two `ledger-worker --role webhooks` processes: one holds the
 * lease and dispatches, the other stands by. The leader is SIGKILLed twice mid-stream; the standby
 * takes over from the durable checkpoint.
 */
describe('webhooks: a dispatcher SIGKILLed mid-stream (processes, embedded store)', () => {
  let dataDir: string;
  let receiver: WebhookReceiver;
  let api: ChildProcess;
  const workers: ChildProcess[] = [];
  let env: NodeJS.ProcessEnv;
  let base: string;

  const startWorker = (extraEnv: NodeJS.ProcessEnv = {}) => {
    const worker = spawn(process.execPath, [WORKER_ENTRY, '--role', 'webhooks'], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'ignore', 'inherit'] });
    workers.push(worker);
    return worker;
  };
  const leaderPid = (): number | undefined => {
    const db = new Database(join(dataDir, 'webhooks.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT owner, expires_at FROM webhook_lease WHERE name = ?').get('webhooks') as { owner: string; expires_at: number } | undefined;
      return row && row.expires_at > Date.now() ? Number(row.owner.split('-')[0]) : undefined;
    } finally {
      db.close();
    }
  };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(base + path, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return res.json();
  };

  beforeAll(async () => {
    dataDir = tempDataDir();
    receiver = await WebhookReceiver.start();
    receiver.reply = () => ({ status: 200, delayMs: 2 });
    env = {
      ...process.env,
      LEDGER_DATA_DIR: dataDir,
      LEDGER_ADMIN_KEY: ADMIN_KEY,
      LEDGER_WEBHOOKS: 'off',
      LEDGER_WEBHOOKS_ALLOW_HTTP: 'true',
      LEDGER_WEBHOOKS_ALLOW_PRIVATE: 'true',
      LOG_LEVEL: 'warn',
    };
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = await startServer(env, port);
  });
  afterAll(async () => {
    for (const child of [api, ...workers]) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all([api, ...workers].map(exited));
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('resumes with nothing lost; duplicates carry the same webhook-id and body; order per account holds', async () => {
    for (const accountId of ACCOUNTS) await post('/v1/accounts', { accountId, name: accountId, plan: PLAN });
    const { secret } = (await post('/v1/webhooks', { url: receiver.url, eventTypes: ['grant.created'] })) as { secret: string };
    startWorker();
    startWorker();
    await eventually(() => expect(leaderPid()).toBeDefined(), 30_000);

    let kills = 0;
    for (let round = 0; round < GRANTS_PER_ACCOUNT; round++) {
      await Promise.all(
        ACCOUNTS.map((accountId) => post(`/v1/accounts/${accountId}/grants`, { grantId: `g${round}`, creditType: 'email', credits: 1, reason: 'r' })),
      );
      if ((round === 20 || round === 40) && kills < 2) {
        await eventually(() => expect(receiver.received.length).toBeGreaterThan(0), 30_000);
        const pid = leaderPid()!;
        const leader = workers.find((worker) => worker.pid === pid)!;
        leader.kill('SIGKILL'); // mid-stream: deliveries in flight and grants still coming
        await exited(leader);
        kills++;
        startWorker(); // a new standby
      }
    }
    const expected = ACCOUNTS.length * GRANTS_PER_ACCOUNT;
    await eventually(() => expect(receiver.ids()).toHaveLength(expected), 60_000);

    const bodies = new Map<string, string>();
    for (const request of receiver.received) {
      const id = String(request.headers['webhook-id']);
      expect(bodies.get(id) ?? request.body).toBe(request.body); // a duplicate is the same message
      bodies.set(id, request.body);
      WebhookReceiver.verify(secret, request);
    }
    for (const accountId of ACCOUNTS) {
      const firstArrivals = receiver
        .ids()
        .map((id) => JSON.parse(bodies.get(id)!))
        .filter((payload) => payload.accountId === accountId);
      expect(firstArrivals.map((payload) => payload.data.grantId)).toEqual(Array.from({ length: GRANTS_PER_ACCOUNT }, (_, round) => `g${round}`));
    }
    expect(kills).toBe(2);

    // A webhooks worker serves the shared backlog and the dispatcher's lag on its metrics port, whichever process holds the lease.
    const metricsPort = await freePort();
    startWorker({ LEDGER_WORKER_METRICS_PORT: String(metricsPort) });
    await eventually(async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(text).toMatch(/^ledger_webhook_backlog_deliveries 0$/m);
      expect(text).toMatch(/^ledger_webhook_dispatcher_lag_events 0$/m);
      expect(text).toMatch(/^ledger_webhook_delivery_attempts_total\{outcome="succeeded"\} \d+$/m);
    }, 30_000);
  }, 180_000);
});
