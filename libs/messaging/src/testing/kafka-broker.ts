import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KafkaJsMessaging } from '../kafkajs/kafkajs-messaging';

/**
 * A real Apache Kafka broker for the tests and the benchmark, without Docker: the broker's jars
 * come from Maven Central (deploy/kafka/pom.xml, resolved once into a cache that survives runs),
 * a KRaft single-node log dir is formatted, and `kafka.Kafka` runs with Java 17 on 127.0.0.1 on
 * free ports. When KAFKA_BROKERS is set, the suites use that broker instead (see kafkaBrokers()).
 */
export const KAFKA_VERSION = '3.9.1';
/** deploy/kafka/pom.xml of this checkout, found from the sources or from dist/. */
export function kafkaPom(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const pom = join(dir, 'deploy', 'kafka', 'pom.xml');
    if (existsSync(pom)) return pom;
    if (dirname(dir) === dir) throw new Error(`deploy/kafka/pom.xml not found above ${__dirname}`);
  }
}
/** The broker's heap: small, the tests and the benchmark move little data. */
export const KAFKA_HEAP = '-Xmx768m';
export const KAFKA_START_TIMEOUT_MS = 90_000;
export const KAFKA_STOP_TIMEOUT_MS = 20_000;
/** Usage topic partitions in the tests (enough for a two-member group to split). */
export const TEST_TOPIC_PARTITIONS = 4;

const COMPLETE_MARKER = '.resolved';

export function kafkaCacheDir(): string {
  return process.env.KAFKA_CACHE_DIR ?? join(homedir(), '.cache', 'credit-ledger', `kafka-${KAFKA_VERSION}`);
}

/** The broker's classpath directory; resolves it with Maven the first time (or after a version change). */
export function resolveKafkaJars(log: (line: string) => void = () => undefined): string {
  const dir = kafkaCacheDir();
  if (existsSync(join(dir, COMPLETE_MARKER))) return dir;
  const staging = `${dir}.staging-${process.pid}`;
  mkdirSync(dirname(dir), { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  const started = Date.now();
  log(`resolving Apache Kafka ${KAFKA_VERSION} with Maven into ${dir} …`);
  execFileSync('mvn', ['-q', '-B', 'dependency:copy-dependencies', '-f', kafkaPom(), `-DoutputDirectory=${staging}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (!readdirSync(staging).some((f) => f.startsWith(`kafka_2.13-${KAFKA_VERSION}`)))
    throw new Error(`Maven did not copy kafka_2.13-${KAFKA_VERSION}.jar into ${staging}`);
  writeFileSync(join(staging, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  log(`resolved Kafka ${KAFKA_VERSION} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

function serverProperties(dir: string, port: number, controllerPort: number): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=8',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    // A test group starts consuming at once instead of waiting 3 s for more members.
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'delete.topic.enable=true',
    // Small preallocated index files: the suites create many short-lived topics.
    'log.index.size.max.bytes=1048576',
    '',
  ].join('\n');
}

const LOG4J = [
  'log4j.rootLogger=WARN, file',
  'log4j.appender.file=org.apache.log4j.FileAppender',
  'log4j.appender.file.File=${kafka.logs.dir}/server.log',
  'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka.server.KafkaRaftServer=INFO',
  '',
].join('\n');

function rssMiB(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Math.round(Number(line.replace(/\D+/g, '')) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

export class KafkaBroker {
  private process: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Milliseconds from `java` spawned to the broker answering metadata requests (last start). */
  startMs = 0;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly controllerPort: number,
    private readonly jars: string,
  ) {}

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Resident memory of the broker's JVM right now, in MiB. */
  rssMiB(): number {
    return this.process?.pid ? rssMiB(this.process.pid) : NaN;
  }

  /** `freePort` picks the broker's two ports (the callers' port allocator: see `freePort` in the event store's testing entry). */
  static async start(freePort: () => Promise<number>, log: (line: string) => void = () => undefined): Promise<KafkaBroker> {
    const jars = resolveKafkaJars(log);
    const dir = mkdtempSync(join(tmpdir(), 'ledger-kafka-'));
    const broker = new KafkaBroker(dir, await freePort(), await freePort(), jars);
    writeFileSync(join(dir, 'server.properties'), serverProperties(dir, broker.port, broker.controllerPort));
    writeFileSync(join(dir, 'log4j.properties'), LOG4J);
    const clusterId = execFileSync('java', ['-cp', `${jars}/*`, 'kafka.tools.StorageTool', 'random-uuid'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    execFileSync(
      'java',
      [
        '-cp',
        `${jars}/*`,
        `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
        `-Dkafka.logs.dir=${dir}`,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        join(dir, 'server.properties'),
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    await broker.launch();
    return broker;
  }

  /** Starts the JVM on the formatted dir and waits until the broker answers. */
  async launch(): Promise<void> {
    if (this.process) throw new Error('the broker is already running');
    const started = Date.now();
    const child = spawn(
      'java',
      [
        KAFKA_HEAP,
        '-Xms256m',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${join(this.dir, 'log4j.properties')}`,
        `-Dkafka.logs.dir=${this.dir}`,
        '-cp',
        `${this.jars}/*`,
        'kafka.Kafka',
        join(this.dir, 'server.properties'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
    this.process = child;
    this.exited = new Promise((r) => child.once('exit', () => r()));
    let exitCode: number | null | undefined;
    child.once('exit', (code) => (exitCode = code));
    const messaging = new KafkaJsMessaging({ brokers: [this.bootstrap], clientId: 'test-broker-probe', connectionTimeoutMs: 1_000 });
    for (;;) {
      if (exitCode !== undefined) throw new Error(`the Kafka broker exited with ${exitCode} while starting: ${stderr}\n(see ${join(this.dir, 'server.log')})`);
      if (Date.now() - started > KAFKA_START_TIMEOUT_MS) {
        await this.stop();
        throw new Error(`the Kafka broker did not answer within ${KAFKA_START_TIMEOUT_MS} ms (see ${join(this.dir, 'server.log')})`);
      }
      try {
        const admin = await messaging.admin();
        await admin.listTopics();
        await admin.disconnect();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    this.startMs = Date.now() - started;
  }

  /** SIGTERM (a clean broker shutdown), SIGKILL if it hangs. Data stays: `launch()` starts it again. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child) return;
    this.process = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), KAFKA_STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The broker of this test run: KAFKA_BROKERS (external, or the one jest's globalSetup started). */
export function kafkaBrokers(): string[] {
  const value = process.env.KAFKA_BROKERS;
  if (!value) throw new Error('KAFKA_BROKERS is not set: the Kafka suites run under jest (globalSetup starts a broker) or against KAFKA_BROKERS');
  return value.split(',').map((b) => b.trim());
}
