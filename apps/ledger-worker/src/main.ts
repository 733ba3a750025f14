import pino from 'pino';
import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { ConfigError, loadConfig } from '@credit-ledger/ledger';
import { loadKafkaConfig, WORKER_ROLES } from '@credit-ledger/messaging';
import { loadWebhooksConfig, WebhooksConfig, WebhooksConfigError } from '@credit-ledger/webhooks';
import { LedgerConfig } from '@credit-ledger/ledger';
import { rolesFromArgs, WebhooksWorker } from './webhooks-worker';
import { LedgerWorker } from './worker';
import { serveMetrics } from './worker-metrics';

/** How often the worker logs its counters. */
export const WORKER_STATS_INTERVAL_MS = 10_000;
/**
 * A stop waits for the chunk in hand (appended, then committed). If the broker is unreachable it
 * could wait forever: past this, the worker exits anyway. Nothing is lost: uncommitted messages
 * are redelivered and are no-ops where they were already applied.
 */
export const WORKER_SHUTDOWN_TIMEOUT_MS = 30_000;

async function main(): Promise<void> {
  const cliRoles = rolesFromArgs(process.argv.slice(2));
  const unknown = cliRoles?.filter((role) => role !== 'webhooks' && !(WORKER_ROLES as readonly string[]).includes(role)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`credit-ledger worker: --role must be among webhooks, ${WORKER_ROLES.join(', ')}; got ${unknown.join(', ')}\n`);
    process.exit(1);
  }
  const kafkaRoles = cliRoles?.filter((role) => role !== 'webhooks');
  let ledger;
  let kafka;
  let webhooks;
  try {
    ledger = loadConfig();
    if (cliRoles?.includes('webhooks')) webhooks = loadWebhooksConfig();
    if (kafkaRoles === undefined || kafkaRoles.length > 0)
      kafka = loadKafkaConfig(kafkaRoles === undefined ? process.env : { ...process.env, WORKER_ROLES: kafkaRoles.join(',') });
  } catch (e) {
    if (e instanceof ConfigError || e instanceof WebhooksConfigError) {
      process.stderr.write(`credit-ledger worker: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const metricsPort = metricsPortFromEnv();
  if (kafka === undefined) return runWebhooksOnly(ledger, webhooks!, metricsPort);
  const webhooksWorker = webhooks === undefined ? undefined : await WebhooksWorker.start(ledger, webhooks);
  const logger = pino({ level: ledger.logLevel, base: { pid: process.pid, worker: 'ledger-worker' } });
  const worker = await LedgerWorker.start(ledger, kafka, logger);
  // GET /metrics of the worker (Kafka lag, DLQ, commands, store, process, webhooks) when LEDGER_WORKER_METRICS_PORT is set.
  let registry = worker.registry;
  if (webhooksWorker) {
    const webhookMetrics = new Registry();
    webhooksWorker.registerMetrics(webhookMetrics);
    registry = Registry.merge([worker.registry, webhookMetrics]);
  }
  const metricsServer = metricsPort === undefined ? undefined : await serveMetrics(registry, metricsPort);
  logger.info(
    {
      roles: kafka.roles,
      brokers: kafka.brokers,
      usageTopic: kafka.usageTopic,
      eventsTopic: kafka.eventsTopic,
      groupId: kafka.groupId,
      dataDir: ledger.store === 'sqlite' ? ledger.dataDir : undefined,
      metricsPort,
    },
    'ledger worker started',
  );
  runUntilSignalled(
    logger,
    () => worker.stats(),
    metricsServer,
    async () => {
      await Promise.all([worker.stop(), webhooksWorker?.stop()]);
    },
  );
}

/**
 * Logs the counters every WORKER_STATS_INTERVAL_MS; on SIGTERM or SIGINT closes the metrics port,
 * stops (within WORKER_SHUTDOWN_TIMEOUT_MS, else exits 1: nothing is lost, uncommitted messages are
 * redelivered) and exits 0.
 */
function runUntilSignalled(logger: pino.Logger, stats: () => object, metricsServer: Server | undefined, stop: () => Promise<void>): void {
  const timer = setInterval(() => logger.info(stats(), 'ledger worker stats'), WORKER_STATS_INTERVAL_MS);
  timer.unref();
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'ledger worker stopping');
    setTimeout(() => {
      logger.error({ timeoutMs: WORKER_SHUTDOWN_TIMEOUT_MS }, 'ledger worker did not stop in time; exiting (uncommitted messages will be redelivered)');
      process.exit(1);
    }, WORKER_SHUTDOWN_TIMEOUT_MS).unref();
    metricsServer?.close();
    void stop().then(
      () => {
        logger.info(stats(), 'ledger worker stopped');
        process.exit(0);
      },
      (e) => {
        logger.error({ err: e instanceof Error ? e.message : String(e) }, 'ledger worker did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** LEDGER_WORKER_METRICS_PORT: where the worker serves GET /metrics (unset: nowhere). Exits on a bad value. */
function metricsPortFromEnv(): number | undefined {
  const metricsPortText = process.env.LEDGER_WORKER_METRICS_PORT ?? '';
  const metricsPort = metricsPortText === '' ? undefined : Number(metricsPortText);
  if (metricsPort !== undefined && (!/^\d+$/.test(metricsPortText) || metricsPort > 65_535)) {
    process.stderr.write(`credit-ledger worker: LEDGER_WORKER_METRICS_PORT must be an integer 0..65535, got "${metricsPortText}"\n`);
    process.exit(1);
  }
  return metricsPort;
}

/** `--role webhooks` alone: no Kafka. */
async function runWebhooksOnly(ledger: LedgerConfig, webhooks: WebhooksConfig, metricsPort: number | undefined): Promise<void> {
  const logger = pino({ level: ledger.logLevel, base: { pid: process.pid, worker: 'ledger-worker' } });
  const worker = await WebhooksWorker.start(ledger, webhooks);
  const metricsServer = metricsPort === undefined ? undefined : await serveMetrics(worker.registry, metricsPort);
  logger.info(
    { roles: ['webhooks'], store: ledger.store, dataDir: ledger.store === 'sqlite' ? ledger.dataDir : undefined, metricsPort },
    'ledger worker started',
  );
  runUntilSignalled(
    logger,
    () => worker.stats(),
    metricsServer,
    () => worker.stop(),
  );
}

void main().catch((e) => {
  process.stderr.write(`credit-ledger worker failed to start: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
