import { benchConsumption, nowMs, seededRandom } from './stats';

/**
 * The load generator for the HTTP batch scenario, run as a separate process (like a real client)
 * so that building requests and parsing answers does not share the server's event loop.
 */
export interface BatchClientJob {
  readonly port: number;
  readonly adminKey: string;
  readonly accounts: number;
  readonly requests: number;
  readonly itemsPerRequest: number;
  readonly clients: number;
}

export interface BatchClientResult {
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly failures: number;
}

async function run(job: BatchClientJob): Promise<BatchClientResult> {
  const rnd = seededRandom(7);
  const bodies = Array.from({ length: job.requests }, (_, r) => ({
    account: `bench_${Math.floor(rnd() * job.accounts)}`,
    body: JSON.stringify({
      items: Array.from({ length: job.itemsPerRequest }, (_, i) => benchConsumption(`h${r}_${i}`, rnd)),
    }),
  }));
  const latenciesMs: number[] = [];
  let next = 0;
  let failures = 0;
  const start = nowMs();
  await Promise.all(
    Array.from({ length: job.clients }, async () => {
      for (;;) {
        const r = next++;
        if (r >= bodies.length) return;
        const t = nowMs();
        const res = await fetch(`http://127.0.0.1:${job.port}/v1/accounts/${bodies[r].account}/consumptions/batch`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${job.adminKey}`, 'Content-Type': 'application/json' },
          body: bodies[r].body,
        });
        const json = (await res.json()) as { summary?: { created: number } };
        if (res.status !== 200 || json.summary?.created !== job.itemsPerRequest) failures++;
        latenciesMs.push(nowMs() - t);
      }
    }),
  );
  return { seconds: (nowMs() - start) / 1000, latenciesMs, failures };
}

process.on('message', (job: BatchClientJob) => {
  void run(job).then(
    (result) => process.send!(result, () => process.exit(0)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
});
