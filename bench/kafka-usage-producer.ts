import { performance } from 'node:perf_hooks';
import { KafkaJsMessaging, OutgoingMessage, usageMessageValue } from '@credit-ledger/messaging';
import { benchConsumption, seededRandom } from './stats';

/**
 * The usage producer of the Kafka benchmark, in its own process (like a product service): sends
 * `total` consumption messages keyed by account, as fast as it can (rate 0) or at `rate` per
 * second. Each consumption's description carries its send time (ms since the epoch, sub-ms), so
 * the ledger side can measure produce -> balance visible.
 */
export interface UsageProducerJob {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly accounts: number;
  readonly total: number;
  /** Messages per second; 0 = as fast as possible. */
  readonly rate: number;
  readonly idPrefix: string;
}

export interface UsageProducerResult {
  readonly seconds: number;
  readonly sent: number;
  /** When the first send started (ms since the epoch): process start and connection excluded. */
  readonly firstSendAtEpochMs: number;
}

/** Messages per send: 1,000 when draining as fast as possible, 1/100 s worth at a fixed rate. */
const FAST_BATCH = 1_000;
const FAST_SENDS_IN_FLIGHT = 4;

const nowEpochMs = () => performance.timeOrigin + performance.now();

async function run(job: UsageProducerJob): Promise<UsageProducerResult> {
  const messaging = new KafkaJsMessaging({ brokers: job.brokers, clientId: 'bench-usage-producer' });
  const producer = messaging.producer({ idempotent: true });
  await producer.connect();
  const rnd = seededRandom(11);
  const message = (i: number): OutgoingMessage => {
    const accountId = `bench_${Math.floor(rnd() * job.accounts)}`;
    const data = { ...benchConsumption(`${job.idPrefix}${i}`, rnd), description: `sent:${nowEpochMs().toFixed(3)}` };
    return { key: accountId, value: usageMessageValue('consume', accountId, data) };
  };
  const start = performance.now();
  const firstSendAtEpochMs = nowEpochMs();
  let next = 0;
  if (job.rate === 0) {
    await Promise.all(
      Array.from({ length: FAST_SENDS_IN_FLIGHT }, async () => {
        while (next < job.total) {
          const from = next;
          next = Math.min(job.total, next + FAST_BATCH);
          await producer.send(
            job.topic,
            Array.from({ length: next - from }, (_, k) => message(from + k)),
          );
        }
      }),
    );
  } else {
    const perTick = Math.max(1, Math.round(job.rate / 100));
    while (next < job.total) {
      const due = start + (next / job.rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const from = next;
      next = Math.min(job.total, next + perTick);
      await producer.send(
        job.topic,
        Array.from({ length: next - from }, (_, k) => message(from + k)),
      );
    }
  }
  const seconds = (performance.now() - start) / 1000;
  await producer.disconnect();
  return { seconds, sent: job.total, firstSendAtEpochMs };
}

process.on('message', (job: UsageProducerJob) => {
  void run(job).then(
    (result) => process.send!(result, () => process.exit(0)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
});
