import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { CLIENT_ID_PATTERN } from '@credit-ledger/domain';
import { ChainReport, EventStore, Subscription, isHashChainedStore, verifyAccountChain, verifyGlobalChain } from '@credit-ledger/event-store';
import { accountStream, loadConfig, openEventStore } from '@credit-ledger/ledger';
import { ALL_PROJECTORS, openReadModelStore, ProjectionRunner, SEED_APPENDS_IN_FLIGHT, seedHistory, verifyReadModels } from '@credit-ledger/projections';

const PLAIN_PROGRESS_EVERY_MS = 2_000;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** A progress bar with events/s and ETA on a terminal; a plain line every 2 s otherwise (CI, logs). */
function progress(label: string, total: number) {
  const started = Date.now();
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {percentage}% | {value}/{total} events | {speed} events/s | ETA {eta_formatted}`,
      stream: process.stderr,
      etaBuffer: 50,
    });
    bar.start(total, 0, { speed: 0 });
    return {
      update: (done: number) => bar.update(done, { speed: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)) }),
      stop: () => bar.stop(),
    };
  }
  let lastLine = 0;
  return {
    update: (done: number) => {
      if (Date.now() - lastLine < PLAIN_PROGRESS_EVERY_MS) return;
      lastLine = Date.now();
      const seconds = (Date.now() - started) / 1000;
      const rate = done / Math.max(0.001, seconds);
      const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
      process.stderr.write(
        `${label}: ${done}/${total} events (${((100 * done) / Math.max(1, total)).toFixed(1)}%), ${Math.round(rate)} events/s, ETA ${eta}s\n`,
      );
    },
    stop: () => undefined,
  };
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('rebuild read models from position 0 (interruptible with Ctrl-C; run again to resume)')
    .option('--projection <name>', `only this read model (${ALL_PROJECTORS.map((p) => p.name).join(', ')})`)
    .option('--restart', 'start over even if an earlier replay was interrupted')
    .action(async (opts: { projection?: string; restart?: boolean }) => {
      const names = opts.projection === undefined ? undefined : [opts.projection];
      if (names && !ALL_PROJECTORS.some((p) => p.name === names[0]))
        throw new Error(`unknown projection ${names[0]}; one of ${ALL_PROJECTORS.map((p) => p.name).join(', ')}`);
      const config = loadConfig();
      const store = await openEventStore(config, 'credit-ledger-cli');
      const readModels = await openReadModelStore(config, { purpose: 'credit-ledger-cli' });
      try {
        const runner = await ProjectionRunner.create(
          readModels,
          ALL_PROJECTORS.filter((p) => !names || names.includes(p.name)),
        );
        const states = await readModels.states();
        const resuming =
          !opts.restart && runner.projectors.every((p) => states.find((s) => s.name === p.name && s.version === p.version)?.status === 'rebuilding');
        if (!resuming) await runner.reset(names);
        const head = await store.headPosition();
        const from = await runner.checkpoint();
        process.stderr.write(
          `${resuming ? 'resuming' : 'starting'} replay of ${runner.projectors.map((p) => p.name).join(', ')} from position ${from} to ${head}\n`,
        );
        let interrupted = false;
        const onSigint = () => (interrupted = true);
        process.once('SIGINT', onSigint);
        const bar = progress('replay', head - from);
        const started = Date.now();
        const applied = await runner.catchUp(store, { shouldStop: () => interrupted, onBatch: (position) => bar.update(position - from) });
        bar.stop();
        process.off('SIGINT', onSigint);
        const seconds = (Date.now() - started) / 1000;
        if (interrupted) {
          process.stderr.write(`interrupted at position ${await runner.checkpoint()} (committed); run the same command to resume\n`);
          process.exitCode = 130;
          return;
        }
        process.stdout.write(
          `replayed ${applied} events in ${seconds.toFixed(1)} s (${Math.round(applied / Math.max(0.001, seconds))} events/s); read models live at position ${await runner.checkpoint()}\n`,
        );
      } finally {
        await readModels.close();
        await store.close();
      }
    });
}

export function verifyCommand(): Command {
  return new Command('verify')
    .description(
      're-derive balances and usage from the events and compare with the read models, and recompute the hash chains; exit 1 on any difference or broken chain',
    )
    .option('--account <id>', 'only this account', (v: string) => {
      if (!CLIENT_ID_PATTERN.test(v)) throw new InvalidArgumentError(`must match ${CLIENT_ID_PATTERN}`);
      return v;
    })
    .option('--chain', 'only recompute the hash chains (the global log and every account, or one account with --account)')
    .action(async (opts: { account?: string; chain?: boolean }) => {
      const config = loadConfig();
      const store = await openEventStore(config, 'credit-ledger-cli');
      try {
        const chainOk = await verifyChains(store, opts.account);
        if (!chainOk) process.exitCode = 1;
        if (opts.chain) return;
        const readModels = await openReadModelStore(config, { purpose: 'credit-ledger-cli', readonly: true });
        try {
          if (!(await verifyReadModelsAndReport(store, readModels, opts.account))) process.exitCode = 1;
        } finally {
          await readModels.close();
        }
      } finally {
        await store.close();
      }
    });
}

async function verifyReadModelsAndReport(
  store: EventStore,
  readModels: Awaited<ReturnType<typeof openReadModelStore>>,
  accountId: string | undefined,
): Promise<boolean> {
  const report = await verifyReadModels(store, readModels, { accountId });
  for (const d of report.differences) {
    process.stdout.write(`DIFF ${d.readModel} ${d.key}: expected ${JSON.stringify(d.expected)}, read model has ${JSON.stringify(d.actual)}\n`);
  }
  const summary = `${report.eventsChecked} events, ${report.accountsChecked} accounts checked: ${report.differenceCount} difference(s)`;
  if (report.differenceCount > 0) {
    process.stdout.write(`${summary}${report.differenceCount > report.differences.length ? ` (first ${report.differences.length} shown)` : ''}\n`);
    return false;
  }
  process.stdout.write(`OK: ${summary}\n`);
  return true;
}

/** Recomputes the hash chains: the whole global log, or one account's chain; prints the first break. */
async function verifyChains(store: EventStore, accountId: string | undefined): Promise<boolean> {
  const started = Date.now();
  let report: ChainReport;
  if (accountId !== undefined) {
    report = await verifyAccountChain(store, accountStream(accountId));
  } else if (isHashChainedStore(store)) {
    const bar = progress('verify --chain', await store.headPosition());
    report = await verifyGlobalChain(store, { onProgress: (done) => bar.update(done) });
    bar.stop();
  } else {
    process.stdout.write('CHAIN: this store keeps no global chain (EventStoreDB: see docs/audit.md); verify accounts with --account\n');
    return true;
  }
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  const broken = report.firstBreak;
  if (broken) {
    const where = broken.streamId === undefined ? '' : ` (stream ${broken.streamId}, revision ${broken.revision})`;
    process.stdout.write(`CHAIN BROKEN at position ${broken.position}${where}: ${broken.problem}: ${broken.detail}\n`);
    process.stdout.write(`chain: ${report.eventsChecked} events verified before it\n`);
    return false;
  }
  const scope = accountId === undefined ? 'global log and every account' : `account ${accountId}`;
  process.stdout.write(
    `OK: chain (${scope}): ${report.eventsChecked} events verified in ${seconds.toFixed(1)} s (${Math.round(report.eventsChecked / seconds)} events/s); head at position ${report.lastPosition}, hash ${report.lastHash}\n`,
  );
  return true;
}

export function seedCommand(): Command {
  return new Command('seed')
    .description('write a realistic, reproducible credit history (through the deciders, into the store)')
    .option('--accounts <n>', 'accounts', positiveInt, 1_000)
    .option('--events <n>', 'events in all (approximately: refused commands are not events)', positiveInt, 100_000)
    .option('--seed <n>', 'random seed (same seed, same history)', positiveInt, 42)
    .option('--months <n>', 'months of history, one cycle reset per month', positiveInt, 12)
    .option('--start <date>', 'first day (UTC)', '2025-12-01T00:00:00Z')
    .action(async (opts: { accounts: number; events: number; seed: number; months: number; start: string }) => {
      if (Number.isNaN(Date.parse(opts.start))) throw new Error('--start must be an ISO date');
      const config = loadConfig();
      const store = await openEventStore(config, 'credit-ledger-cli');
      try {
        const bar = progress('seed', opts.events);
        const started = Date.now();
        // Pipelined appends to one stream: SQLite and PostgreSQL commit them in call order; EventStoreDB's
        // concurrent gRPC calls promise no order (see SeedOptions).
        const appendsInFlight = config.store === 'eventstoredb' ? 1 : SEED_APPENDS_IN_FLIGHT;
        const result = await seedHistory(store, { ...opts, appendsInFlight, onProgress: (n) => bar.update(n) });
        bar.stop();
        const seconds = (Date.now() - started) / 1000;
        process.stdout.write(
          `seeded ${result.events} events for ${result.accounts} accounts in ${seconds.toFixed(1)} s (${Math.round(result.events / seconds)} events/s)\n`,
        );
      } finally {
        await store.close();
      }
    });
}

export function projectCommand(): Command {
  return new Command('project').description('keep the read models up to date in this process (run the API with LEDGER_PROJECTIONS=off)').action(async () => {
    const config = loadConfig();
    const store = await openEventStore(config, 'credit-ledger-cli');
    const readModels = await openReadModelStore(config, { purpose: 'credit-ledger-projector' });
    // Listening from the start: a stop during the catch-up or while the subscription starts is a clean stop too.
    let stopRequested = false;
    let subscription: Subscription | undefined;
    const onSignal = () => {
      stopRequested = true;
      void subscription?.stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const runner = await ProjectionRunner.create(readModels);
      // Said before the catch-up, so an operator (or a test) sees it started whenever it is stopped.
      process.stderr.write(`projecting from position ${await runner.checkpoint()}; Ctrl-C to stop\n`);
      await runner.catchUp(store, { shouldStop: () => stopRequested });
      if (stopRequested) return;
      subscription = await runner.follow(store);
      if (stopRequested) await subscription.stop();
      else process.stderr.write(`caught up at position ${await runner.checkpoint()}; following the log\n`);
      await subscription.done;
    } catch (e) {
      process.stderr.write(`projections stopped: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await readModels.close();
      await store.close();
    }
  });
}
