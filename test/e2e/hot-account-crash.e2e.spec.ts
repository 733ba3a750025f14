import { ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createTestDatabase, dropTestDatabase } from '@credit-ledger/event-store/testing';
import { prng } from '@credit-ledger/projections';
import { ADMIN_KEY, consumption, tempDataDir } from '../support/ledger-harness';
import { SERVER_ENTRY, exited, freePort, get, post, startServer } from '../support/server-process';

/**
 * A hot account (many clients, one account: its commands share appends) killed with SIGKILL at
 * random moments: every acknowledged consumption is stored exactly once, revisions stay
 * contiguous, the balance is the fold of the events and never goes below zero (the allocation is
 * small enough for the load to exhaust it, so refusals decided on top of pending ones happen too).
 */
const KILLS = 4;
const CLIENTS = 48;
const ACCOUNT = 'hotteam';
const ALLOCATION = 150;
/** Each round kills once this many more consumptions were answered (201 or 409), then 0..300 ms later. */
const ACKS_BEFORE_KILL = 30;
/** Kill moments: from a seed printed with the result (CRASH_SEED replays a run). */
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe.each(['sqlite', 'postgres'] as const)('hot account under SIGKILL: %s', (store) => {
  let dataDir: string;
  let databaseUrl: string | undefined;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run npm run build (npm test does it first)`);
    dataDir = tempDataDir();
    databaseUrl = store === 'postgres' ? await createTestDatabase(undefined, 'hotcrash') : undefined;
    env = {
      ...process.env,
      LEDGER_DATA_DIR: dataDir,
      LEDGER_ADMIN_KEY: ADMIN_KEY,
      LOG_LEVEL: 'error',
      LEDGER_STORE: store,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    };
  });
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    if (databaseUrl) await dropTestDatabase(databaseUrl);
  });

  it(`killed ${KILLS} times: acknowledged consumptions exactly once, contiguous revisions, balance = fold, never below zero`, async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const headers = { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' };
    const acknowledged = new Set<string>();
    let refusals = 0;
    let server: ChildProcess | undefined;
    let next = 0;
    const random = prng(SEED);
    const checkStore = async (): Promise<number> => {
      const events: { revision: number; type: string; data: { consumptionId?: string; creditsCharged?: number } }[] = [];
      for (let after = 0; ;) {
        const page = (await get(base, headers, `/v1/accounts/${ACCOUNT}/events?limit=1000&after=${after}`)).body;
        events.push(...page.items);
        if (page.nextAfter === null) break;
        after = page.nextAfter;
      }
      expect(events.map((event) => event.revision)).toEqual(events.map((_, index) => index));
      const ids = events.filter((event) => event.type === 'CreditConsumed').map((event) => event.data.consumptionId as string);
      expect(new Set(ids).size).toBe(ids.length);
      const stored = new Set(ids);
      expect([...acknowledged].filter((id) => !stored.has(id))).toEqual([]);
      const used = events.reduce((sum, event) => sum + (event.type === 'CreditConsumed' ? (event.data.creditsCharged as number) : 0), 0);
      expect(used).toBeLessThanOrEqual(ALLOCATION);
      const balance = (await get(base, headers, `/v1/accounts/${ACCOUNT}/balances`)).body.balances[0];
      expect(balance).toMatchObject({ allocated: ALLOCATION, used, remaining: ALLOCATION - used });
      return stored.size;
    };
    try {
      server = await startServer(env, port);
      const opened = await post(base, headers, '/v1/accounts', {
        accountId: ACCOUNT,
        name: ACCOUNT,
        plan: { creditTypes: { email: { allocation: ALLOCATION } } },
      });
      expect(opened.status).toBe(201);
      for (let round = 0; round < KILLS; round++) {
        if (round > 0) {
          server = await startServer(env, port);
          await checkStore();
        }
        let stop = false;
        const clients = Array.from({ length: CLIENTS }, async () => {
          while (!stop) {
            const id = `h${next++}`;
            try {
              const res = await post(base, headers, `/v1/accounts/${ACCOUNT}/consumptions`, consumption(id));
              if (res.status === 201) acknowledged.add(id);
              else if (res.status === 409) refusals++;
            } catch {
              return; // connection cut by the kill: the outcome is unknown to this client
            }
          }
        });
        // Under load for sure (however slow the machine), then at a random moment.
        const answered = () => acknowledged.size + refusals;
        const before = answered();
        for (let waited = 0; answered() < before + ACKS_BEFORE_KILL && waited < 30_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 300)));
        server.kill('SIGKILL');
        stop = true;
        await Promise.all(clients);
        await exited(server);
      }
      server = await startServer(env, port);
      const stored = await checkStore();
      expect(acknowledged.size + refusals).toBeGreaterThanOrEqual(KILLS * ACKS_BEFORE_KILL);
      expect(acknowledged.size).toBeGreaterThan(0);
      process.stdout.write(`hot account ${store}: seed ${SEED}, ${KILLS} kills, ${acknowledged.size} acknowledged, ${stored} stored, ${refusals} refused\n`);
    } finally {
      server?.kill('SIGKILL');
    }
  }, 120_000);
});
