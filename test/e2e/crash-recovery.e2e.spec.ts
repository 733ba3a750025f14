import { ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createTestDatabase, ThrowawayPostgresCluster } from '@credit-ledger/event-store/testing';
import { prng } from '@credit-ledger/projections';
import { ADMIN_KEY, consumption, tempDataDir } from '../support/ledger-harness';
import { CLI_ENTRY, SERVER_ENTRY, exited, freePort, get, post, startServer } from '../support/server-process';

/**
 * Proof that nothing acknowledged is lost: a real server process serves consumptions (single and
 * batched) under load and is killed with SIGKILL at random moments, many times, on each store; on
 * PostgreSQL every other kill also crashes the database server itself (immediate stop: no
 * shutdown checkpoint, WAL replay on start), on a cluster of this test's own. After EVERY restart:
 * each acknowledged consumption is stored exactly once, every batch is all there or not at all,
 * revisions are contiguous, and balances equal the fold of the events; at the end the operator's
 * `verify` (which re-derives everything with the domain's evolve) finds no difference.
 */
const KILLS = 12;
const CLIENTS = 12;
const BATCH_SIZE = 5;
const ACCOUNTS = ['crasha', 'crashb', 'crashc'];
const ALLOCATION = 10_000_000;
/** Kill moments: 150..600 ms into each round, from a seed printed with the result (CRASH_SEED replays a run). */
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe.each(['sqlite', 'postgres'] as const)('crash recovery under SIGKILL: %s', (store) => {
  let dataDir: string;
  let databaseUrl: string | undefined;
  let cluster: ThrowawayPostgresCluster | undefined;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run npm run build (npm test does it first)`);
    dataDir = tempDataDir();
    // Its own cluster: this test crashes the database server, which a shared one must not see.
    cluster = store === 'postgres' ? await ThrowawayPostgresCluster.start() : undefined;
    databaseUrl = cluster ? await createTestDatabase(cluster.url, 'crash') : undefined;
    env = {
      ...process.env,
      LEDGER_DATA_DIR: dataDir,
      LEDGER_ADMIN_KEY: ADMIN_KEY,
      LOG_LEVEL: 'error',
      LEDGER_STORE: store,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    };
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    cluster?.destroy();
  });

  it(`killed ${KILLS} times under load: acknowledged movements exactly once, no partial batch, contiguous revisions, balances = fold`, async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const headers = { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' };
    const acknowledged = new Set<string>();
    const batches = new Map<string, string[]>(); // batch request -> its consumption ids (acknowledged or not)
    const acknowledgedBatches = new Set<string>();
    let server: ChildProcess | undefined;
    let next = 0;
    const random = prng(SEED);
    const rounds: string[] = [];
    /** Every invariant, read through the API of the restarted server. */
    const checkStore = async (): Promise<{ headPosition: number; stored: Set<string> }> => {
      let headPosition = 0;
      const storedEverywhere: string[] = [];
      for (const account of ACCOUNTS) {
        const events: { revision: number; position: number; type: string; data: { consumptionId?: string; creditsCharged?: number } }[] = [];
        for (let after = 0; ;) {
          const page = (await get(base, headers, `/v1/accounts/${account}/events?limit=1000&after=${after}`)).body;
          events.push(...page.items);
          if (page.nextAfter === null) break;
          after = page.nextAfter;
        }
        expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
        headPosition = Math.max(headPosition, ...events.map((e) => e.position));
        const consumed = events.filter((e) => e.type === 'CreditConsumed');
        const ids = consumed.map((e) => e.data.consumptionId as string);
        expect(new Set(ids).size).toBe(ids.length);
        storedEverywhere.push(...ids);
        // Balance = fold of the events (1 credit each; nothing else moves credits here).
        const used = consumed.reduce((sum, e) => sum + (e.data.creditsCharged as number), 0);
        const balance = (await get(base, headers, `/v1/accounts/${account}/balances`)).body.balances[0];
        expect(balance).toMatchObject({ allocated: ALLOCATION, used, remaining: ALLOCATION - used });
      }
      const stored = new Set(storedEverywhere);
      const lost = [...acknowledged].filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
      // A batch is one atomic append: all of its consumptions or none, acknowledged or not.
      for (const [batchId, ids] of batches) {
        const present = ids.filter((id) => stored.has(id)).length;
        expect([batchId, present === 0 || present === ids.length]).toEqual([batchId, true]);
        if (acknowledgedBatches.has(batchId)) expect(present).toBe(ids.length);
      }
      return { headPosition, stored };
    };
    try {
      server = await startServer(env, port);
      for (const a of ACCOUNTS) {
        expect(
          (await post(base, headers, '/v1/accounts', { accountId: a, name: a, plan: { creditTypes: { email: { allocation: ALLOCATION } } } })).status,
        ).toBe(201);
      }
      for (let round = 0; round < KILLS; round++) {
        if (round > 0) {
          server = await startServer(env, port);
          await checkStore(); // after each restart, not only at the end
        }
        let stop = false;
        const clients = Array.from({ length: CLIENTS }, async () => {
          while (!stop) {
            const n = next++;
            const account = ACCOUNTS[n % ACCOUNTS.length];
            try {
              if (n % 4 === 0) {
                const batchId = `b${n}`;
                const ids = Array.from({ length: BATCH_SIZE }, (_, i) => `${batchId}x${i}`);
                batches.set(batchId, ids);
                const res = await post(base, headers, `/v1/accounts/${account}/consumptions/batch`, { items: ids.map((id) => consumption(id)) });
                if (res.status === 200) {
                  expect(res.body.summary).toMatchObject({ created: BATCH_SIZE });
                  acknowledgedBatches.add(batchId);
                  ids.forEach((id) => acknowledged.add(id));
                }
              } else {
                const res = await post(base, headers, `/v1/accounts/${account}/consumptions`, consumption(`c${n}`));
                if (res.status === 201) acknowledged.add(`c${n}`);
              }
            } catch {
              return; // connection cut by the kill: the outcome is unknown to this client
            }
          }
        });
        const killAfterMs = 150 + Math.floor(random() * 450);
        await new Promise((r) => setTimeout(r, killAfterMs));
        const databaseCrash = cluster !== undefined && round % 2 === 1;
        // The database goes first, under load: the server sees its commits fail, then dies too.
        if (databaseCrash) cluster?.stop('immediate');
        server.kill('SIGKILL');
        stop = true;
        await Promise.all(clients);
        await exited(server);
        if (databaseCrash) cluster?.restart();
        rounds.push(`${killAfterMs} ms${databaseCrash ? ' + database crash' : ''}`);
      }

      server = await startServer(env, port);
      const { headPosition, stored } = await checkStore();
      expect(acknowledged.size).toBeGreaterThan(100);
      // Read models caught up, then the operator's verify re-derives every balance and read model.
      expect((await get(base, headers, `/v1/accounts/${ACCOUNTS[0]}/history?limit=1&minPosition=${headPosition}`)).status).toBe(200);
      server.kill('SIGTERM');
      await exited(server);
      server = undefined;
      const verify = spawnSync(process.execPath, [CLI_ENTRY, 'verify'], { env, encoding: 'utf8', timeout: 60_000 });
      expect(verify.stdout).toMatch(/^OK: /m);
      expect(verify.status).toBe(0);
      process.stdout.write(
        `crash ${store}: seed ${SEED}, ${KILLS} kills (${rounds.join(', ')}), ${acknowledged.size} acknowledged consumptions (${acknowledgedBatches.size} batches), ${stored.size} stored, checked after every restart\n`,
      );
    } finally {
      server?.kill('SIGKILL');
    }
  }, 180_000);
});
