import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EventStore } from '@credit-ledger/event-store';
import { ConsumeCreditsBatchCommand, EVENT_STORE, LedgerConfig, LedgerModule, OpenAccountCommand } from '@credit-ledger/ledger';
import {
  deadLetterTopicOf,
  DEFAULT_PARTITIONS_CONSUMED_CONCURRENTLY,
  EventRelay,
  KafkaJsMessaging,
  MessagingAdmin,
  resultsTopicOf,
  SqliteRelayCheckpoints,
  UsageIngestor,
} from '@credit-ledger/messaging';
import { KAFKA_VERSION, KafkaBroker } from '@credit-ledger/messaging/testing';
import { UsageProducerJob, UsageProducerResult } from './kafka-usage-producer';
import { freePort } from './processes';
import { benchConsumption, fmt, Measured, nowMs, percentile, seededRandom, summarize } from './stats';

const ACCOUNTS = 1_000;
const PARTITIONS = 12;
const THROUGHPUT_MESSAGES = Number(process.env.BENCH_KAFKA_MESSAGES ?? 300_000);
const LATENCY_RATE = 5_000;
const LATENCY_SECONDS = Number(process.env.BENCH_KAFKA_LATENCY_SECONDS ?? 20);
/** Seconds at the offered rate before latencies count (JIT warm-up of the worker and the producer). */
const LATENCY_WARMUP_SECONDS = Number(process.env.BENCH_KAFKA_WARMUP_SECONDS ?? 5);
/** Which Kafka scenarios run (profiling one at a time): default all. */
const SCENARIOS = new Set((process.env.BENCH_KAFKA_SCENARIOS ?? 'k1,k2,k3').split(','));
const CTX = { principal: { kind: 'superuser' as const }, actor: 'bench', correlationId: 'bench' };
const PLAN = {
  creditTypes: {
    email: { allocation: 1_000_000_000, overdraft: { policy: 'deny' as const } },
    mobile: { allocation: 1_000_000_000, overdraft: { policy: 'deny' as const } },
  },
  cycle: { period: 'month' as const, anchorDay: 1, timezone: 'UTC' as const },
};

export interface KafkaBenchResult {
  readonly broker: string;
  readonly brokerStartMs: number | undefined;
  readonly brokerRssMiB: number | undefined;
  readonly throughput?: Measured & { readonly producerPerSecond: number };
  readonly latency?: Measured & { readonly offeredRate: number; readonly warmupSeconds: number; readonly withWarmup: Measured };
  readonly relay?: Measured;
}

function produce(job: UsageProducerJob): Promise<UsageProducerResult> {
  const child = fork(join(__dirname, 'kafka-usage-producer.js'));
  return new Promise<UsageProducerResult>((resolve, reject) => {
    child.once('message', (m) => resolve(m as UsageProducerResult));
    child.once('exit', (code) => code !== 0 && reject(new Error(`usage producer exited with ${code}`)));
    child.send(job);
  });
}

async function caughtUp(admin: MessagingAdmin, groupId: string, topic: string): Promise<boolean> {
  const end = await admin.endOffsets(topic);
  const committed = new Map((await admin.committedOffsets(groupId, topic)).map((o) => [o.partition, o.offset]));
  return end.every((e) => e.offset === '0' || committed.get(e.partition) === e.offset);
}

interface LedgerContext {
  readonly app: INestApplicationContext;
  readonly store: EventStore;
  readonly dataDir: string;
}

/** A fresh ledger (command side, no HTTP) with ACCOUNTS open accounts; runs `scenario`. */
async function withLedger<T>(name: string, scenario: (ctx: LedgerContext) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), `ledger-bench-kafka-${name}-`));
  const config: LedgerConfig = { port: 0, dataDir, store: 'sqlite', adminKey: undefined, logLevel: 'silent', projections: 'off' };
  const app = await NestFactory.createApplicationContext(LedgerModule.forRoot({ config, http: false }), { logger: false, abortOnError: false });
  try {
    const bus = app.get(CommandBus);
    await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => bus.execute(new OpenAccountCommand(`bench_${i}`, `Bench ${i}`, PLAN, CTX))));
    return await scenario({ app, store: app.get<EventStore>(EVENT_STORE), dataDir });
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** One worker's ingestor in this process, on a fresh ledger, topics and group, already in the group; runs `scenario`. */
async function withIngestor<T>(
  messaging: KafkaJsMessaging,
  admin: MessagingAdmin,
  name: string,
  scenario: (ctx: LedgerContext & { topic: string; groupId: string }) => Promise<T>,
): Promise<T> {
  const topic = `bench.${name}.${Date.now()}`;
  const groupId = `bench-${name}-${Date.now()}`;
  const topics = [topic, deadLetterTopicOf(topic), resultsTopicOf(topic)];
  await admin.createTopics([
    { topic, partitions: PARTITIONS },
    { topic: topics[1], partitions: 1 },
    { topic: topics[2], partitions: PARTITIONS },
  ]);
  try {
    return await withLedger(name, async (ledger) => {
      const ingestor = new UsageIngestor(messaging, ledger.app.get(CommandBus), {
        usageTopic: topic,
        deadLetterTopic: topics[1],
        resultsTopic: topics[2],
        groupId,
        partitionsConsumedConcurrently: Number(process.env.BENCH_KAFKA_CONCURRENCY ?? DEFAULT_PARTITIONS_CONSUMED_CONCURRENTLY),
      });
      try {
        await ingestor.start();
        while (ingestor.assignedPartitions().length === 0) await new Promise((r) => setTimeout(r, 20));
        return await scenario({ ...ledger, topic, groupId });
      } finally {
        await ingestor.stop();
      }
    });
  } finally {
    await admin.deleteTopics(topics).catch(() => undefined);
  }
}

export async function kafkaBenchmark(log: (line: string) => void): Promise<KafkaBenchResult> {
  let broker: KafkaBroker | undefined;
  let brokers: string[];
  if (process.env.KAFKA_BROKERS) {
    brokers = process.env.KAFKA_BROKERS.split(',');
  } else {
    broker = await KafkaBroker.start(freePort, log);
    brokers = [broker.bootstrap];
    log(`Apache Kafka ${KAFKA_VERSION} (KRaft, single node, ${'-Xmx768m'}) started in ${broker.startMs} ms on ${broker.bootstrap}`);
  }
  const messaging = new KafkaJsMessaging({ brokers, clientId: 'bench' });
  const admin = await messaging.admin();
  try {
    // (k1) throughput: a separate producer process sends as fast as it can; one worker applies.
    if (SCENARIOS.has('k1')) log(`(k1) ${fmt(THROUGHPUT_MESSAGES)} usage messages over ${PARTITIONS} partitions, ${fmt(ACCOUNTS)} accounts, one worker…`);
    const throughput = !SCENARIOS.has('k1')
      ? undefined
      : await withIngestor(messaging, admin, 'throughput', async ({ topic, groupId, store }) => {
          const start = nowMs();
          const trace = process.env.BENCH_KAFKA_TRACE
            ? setInterval(() => void store.headPosition().then((h) => process.stderr.write(`${((nowMs() - start) / 1000).toFixed(1)}s head ${h}\n`)), 1000)
            : undefined;
          const produced = produce({ brokers, topic, accounts: ACCOUNTS, total: THROUGHPUT_MESSAGES, rate: 0, idPrefix: 'k1_' });
          const result = await produced;
          if (trace) process.stderr.write(`producer done at ${((nowMs() - start) / 1000).toFixed(1)}s\n`);
          while (!(await caughtUp(admin, groupId, topic))) await new Promise((r) => setTimeout(r, 20));
          // From the first message produced to the last offset committed (all events durable).
          const seconds = (performance.timeOrigin + performance.now() - result.firstSendAtEpochMs) / 1000;
          clearInterval(trace);
          return {
            ...summarize('(k1) usage in, one worker, producer process as fast as it can, first produced -> last committed', THROUGHPUT_MESSAGES, seconds, []),
            producerPerSecond: result.sent / result.seconds,
          };
        });

    // (k2) latency at a fixed offered rate: produce -> event durable in the store (balance visible).
    const warmup = LATENCY_RATE * LATENCY_WARMUP_SECONDS;
    const total = warmup + LATENCY_RATE * LATENCY_SECONDS;
    if (SCENARIOS.has('k2')) log(`(k2) ${fmt(LATENCY_RATE)} messages/s for ${LATENCY_WARMUP_SECONDS} + ${LATENCY_SECONDS} s, produce -> balance visible…`);
    const latency = !SCENARIOS.has('k2')
      ? undefined
      : await withIngestor(messaging, admin, 'latency', async ({ topic, groupId, store }) => {
          const latencies: number[] = new Array(total);
          let seen = 0;
          const after = await store.headPosition();
          const subscription = store.subscribeToAll({ after }, (events) => {
            const now = performance.timeOrigin + performance.now();
            for (const e of events) {
              const data = e.data as { consumptionId: string; description?: string };
              if (e.type !== 'CreditConsumed' || !data.description?.startsWith('sent:')) continue;
              latencies[Number(data.consumptionId.slice('k2_'.length))] = now - Number(data.description.slice(5));
              seen++;
            }
          });
          const start = nowMs();
          await produce({ brokers, topic, accounts: ACCOUNTS, total, rate: LATENCY_RATE, idPrefix: 'k2_' });
          while (!(await caughtUp(admin, groupId, topic)) || seen < total) await new Promise((r) => setTimeout(r, 20));
          const seconds = (nowMs() - start) / 1000;
          await subscription.stop();
          if (process.env.BENCH_KAFKA_TRACE) {
            // Latency per second of the run (in send order): where the tail comes from.
            for (let second = 0; second * LATENCY_RATE < total; second++) {
              const ls = latencies.slice(second * LATENCY_RATE, (second + 1) * LATENCY_RATE).sort((a, b) => a - b);
              process.stderr.write(
                `${second}s p50 ${percentile(ls, 50).toFixed(1)} p99 ${percentile(ls, 99).toFixed(1)} max ${ls[ls.length - 1].toFixed(1)}\n`,
              );
            }
          }
          const measured = latencies.slice(warmup);
          return {
            ...summarize(
              `(k2) usage in at ${fmt(LATENCY_RATE)} msg/s offered, produce -> balance visible (after ${LATENCY_WARMUP_SECONDS} s warm-up)`,
              measured.length,
              seconds,
              measured,
            ),
            perSecond: total / seconds, // the rate achieved over the whole run
            offeredRate: LATENCY_RATE,
            warmupSeconds: LATENCY_WARMUP_SECONDS,
            withWarmup: summarize('(k2) including the warm-up', total, seconds, latencies),
          };
        });

    // (k3) relay: a store with a backlog of events, published from checkpoint 0.
    if (SCENARIOS.has('k3')) log('(k3) relay: store backlog -> credit.events.v1…');
    const relay = !SCENARIOS.has('k3')
      ? undefined
      : await withLedger('relay', async ({ dataDir, app, store }) => {
          const bus = app.get(CommandBus);
          const rnd = seededRandom(3);
          // 200 accounts x 500 consumptions = 100,000 CreditConsumed events, written through the batch command.
          for (let a = 0; a < 200; a++) {
            await bus.execute(
              ConsumeCreditsBatchCommand.ofValidated(
                `bench_${a}`,
                Array.from({ length: 500 }, (_, i) => benchConsumption(`k3_${a}_${i}`, rnd)),
                CTX,
              ),
            );
          }
          const head = await store.headPosition();
          const eventsTopic = `bench.events.${Date.now()}`;
          await admin.createTopics([{ topic: eventsTopic, partitions: PARTITIONS }]);
          const checkpoints = SqliteRelayCheckpoints.open(dataDir);
          const relayer = new EventRelay(store, () => messaging.producer({ idempotent: true }), checkpoints, { name: 'bench', topic: eventsTopic });
          const start = nowMs();
          relayer.start();
          while (relayer.stats().checkpoint < head) await new Promise((r) => setTimeout(r, 10));
          const seconds = (nowMs() - start) / 1000;
          await relayer.stop();
          checkpoints.close();
          await admin.deleteTopics([eventsTopic]).catch(() => undefined);
          return summarize('(k3) relay out: store -> credit.events.v1 (idempotent producer, acks=all)', head, seconds, []);
        });

    return {
      broker: broker ? `Apache Kafka ${KAFKA_VERSION}, local single node (KRaft)` : `KAFKA_BROKERS=${brokers.join(',')}`,
      brokerStartMs: broker?.startMs,
      brokerRssMiB: broker?.rssMiB(),
      throughput,
      latency,
      relay,
    };
  } finally {
    await admin.disconnect();
    await broker?.destroy();
  }
}
