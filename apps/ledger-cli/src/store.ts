import { Command, InvalidArgumentError } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { copyLog, CopyProgress, EventStore, MigrationReport, PostgresEventStore, SQLITE_FILE_NAME, SqliteEventStore } from '@credit-ledger/event-store';
import {
  API_KEY_MIGRATIONS,
  API_KEYS_COMPONENT,
  describeStore,
  DUE_INDEX_COMPONENT,
  DUE_INDEX_MIGRATIONS,
  LedgerConfig,
  loadConfig,
  openEventStore,
  PostgresStateDatabase,
  redactUrl,
} from '@credit-ledger/ledger';
import { RELAY_CHECKPOINT_MIGRATIONS, RELAY_CHECKPOINTS_COMPONENT } from '@credit-ledger/messaging';
import { PostgresReadModelStore } from '@credit-ledger/projections';
import { WEBHOOK_MIGRATIONS, WEBHOOKS_COMPONENT } from '@credit-ledger/webhooks';

const PROGRESS_EVERY_MS = 2_000;

/** `sqlite:<dir>`, `postgres:<url>` (or a bare postgres:// URL), `eventstoredb:<connection string>`. */
export interface StoreLocation {
  readonly kind: LedgerConfig['store'];
  readonly location: string;
}

export function parseStoreLocation(text: string): StoreLocation {
  if (/^postgres(ql)?:\/\//.test(text)) return { kind: 'postgres', location: text };
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon);
  const location = colon < 0 ? '' : text.slice(colon + 1);
  if (kind === 'sqlite' && location) return { kind, location };
  if (kind === 'postgres' && /^postgres(ql)?:\/\//.test(location)) return { kind, location };
  if (kind === 'eventstoredb' && location) return { kind, location };
  throw new InvalidArgumentError('expected sqlite:<dir>, postgres:<postgresql://…> or eventstoredb:<esdb://…>');
}

function label(s: StoreLocation): string {
  return s.kind === 'sqlite' ? `sqlite:${s.location}` : `${s.kind}:${redactUrl(s.location)}`;
}

async function openLocation(s: StoreLocation, role: 'source' | 'target'): Promise<EventStore> {
  switch (s.kind) {
    case 'sqlite':
      // Opening creates the file: a mistyped source would look like an empty log.
      if (role === 'source' && !existsSync(join(s.location, SQLITE_FILE_NAME)))
        throw new Error(`no SQLite event store at ${join(s.location, SQLITE_FILE_NAME)}`);
      return SqliteEventStore.open(s.location);
    case 'postgres':
      // The source is only read: never migrate it.
      return PostgresEventStore.connect(s.location, { migrate: role === 'target', applicationName: `credit-ledger-copy-${role}` });
    case 'eventstoredb': {
      const { EventStoreDbEventStore } = await import('@credit-ledger/event-store/eventstoredb');
      return EventStoreDbEventStore.connect(s.location);
    }
    default: {
      const never: never = s.kind;
      throw new Error(`unknown store ${String(never)}`);
    }
  }
}

export function storeCommand(): Command {
  const store = new Command('store').description('event-store operations: copy the log between stores');
  store
    .command('copy')
    .description('copy the whole event log (ids, order, revisions) into another store; resumable; verifies counts and a checksum')
    .requiredOption('--from <store>', 'source: sqlite:<dir>, postgres:<url> or eventstoredb:<connection string>', parseStoreLocation)
    .requiredOption('--to <store>', 'target (empty, or holding an interrupted copy of the same source)', parseStoreLocation)
    .option('--json', 'print the report as JSON')
    .action(async (opts: { from: StoreLocation; to: StoreLocation; json?: boolean }) => {
      if (opts.from.kind === opts.to.kind && opts.from.location === opts.to.location) throw new Error('--from and --to are the same store');
      const source = await openLocation(opts.from, 'source');
      let target: EventStore | undefined;
      let interrupted = false;
      const onSignal = () => {
        interrupted = true;
        process.stderr.write('stopping after the batch in hand…\n');
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        target = await openLocation(opts.to, 'target');
        process.stderr.write(`copying ${label(opts.from)} → ${label(opts.to)}\n`);
        const started = Date.now();
        let lastLine = 0;
        const report = await copyLog(source, target, {
          shouldStop: () => interrupted,
          onProgress: (p: CopyProgress) => {
            if (Date.now() - lastLine < PROGRESS_EVERY_MS) return;
            lastLine = Date.now();
            const seconds = Math.max(0.001, (Date.now() - started) / 1000);
            process.stderr.write(`${p.phase}: ${p.events} events (${Math.round(p.events / seconds)} events/s)\n`);
          },
        });
        const seconds = (Date.now() - started) / 1000;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...report, seconds })}\n`);
        } else if (report.stopped) {
          process.stdout.write(`interrupted: ${report.alreadyCopied + report.copied} events in the target so far; run the same command to resume\n`);
        } else {
          process.stdout.write(
            `copied ${report.copied} events (${report.alreadyCopied} were already there) in ${seconds.toFixed(1)} s; ` +
              `verified: ${report.targetEvents} events in both, sha256 ${report.targetChecksum}\n`,
          );
        }
        if (report.stopped) process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await target?.close();
        await source.close();
      }
    });
  return store;
}

export function migrateCommand(): Command {
  return new Command('migrate')
    .description(
      'create or upgrade the schema of the configured store (LEDGER_STORE) and exit; the server also does this at start unless LEDGER_MIGRATE_ON_START=false',
    )
    .action(async () => {
      const config = loadConfig();
      switch (config.store) {
        case 'postgres':
        case 'eventstoredb': {
          const reports: (MigrationReport | undefined)[] = [];
          if (config.store === 'postgres') {
            const store = await PostgresEventStore.connect(config.databaseUrl as string, { migrate: true, applicationName: 'credit-ledger-migrate' });
            await store.close();
            reports.push(store.migration);
          } else process.stdout.write(`${describeStore(config)}: EventStoreDB has no schema to migrate\n`);
          // The read models and the shared state (keys, billing, relay checkpoints) live in DATABASE_URL (their own migration components).
          const readModels = await PostgresReadModelStore.connect(config.databaseUrl as string, { migrate: true, applicationName: 'credit-ledger-migrate' });
          await readModels.close();
          reports.push(readModels.migration, ...(await migrateSharedState(config.databaseUrl as string)));
          const where = `postgres:${redactUrl(config.databaseUrl ?? '')}`;
          for (const m of reports) {
            if (!m) continue;
            process.stdout.write(
              m.applied.length > 0
                ? `${where}: applied ${m.component} migration(s) ${m.applied.join(', ')}; schema at version ${m.currentVersion}\n`
                : `${where}: ${m.component} schema already at version ${m.currentVersion}; nothing to do\n`,
            );
          }
          return;
        }
        case 'sqlite': {
          // The SQLite files migrate themselves when opened; opening is the migration.
          await (await openEventStore({ ...config, migrateOnStart: true }, 'credit-ledger-migrate')).close();
          process.stdout.write(`${describeStore(config)}: schema current\n`);
          return;
        }
        default: {
          const never: never = config.store;
          throw new Error(`unknown store ${String(never)}`);
        }
      }
    });
}

/** Applies the shared-state components' migrations (API keys, billing index and lease, relay checkpoints, webhooks). */
async function migrateSharedState(databaseUrl: string): Promise<(MigrationReport | undefined)[]> {
  const state = PostgresStateDatabase.connect(databaseUrl, { migrate: true, applicationName: 'credit-ledger-migrate' });
  try {
    return [
      await state.prepare(API_KEYS_COMPONENT, API_KEY_MIGRATIONS),
      await state.prepare(DUE_INDEX_COMPONENT, DUE_INDEX_MIGRATIONS),
      await state.prepare(RELAY_CHECKPOINTS_COMPONENT, RELAY_CHECKPOINT_MIGRATIONS),
      await state.prepare(WEBHOOKS_COMPONENT, WEBHOOK_MIGRATIONS),
    ];
  } finally {
    await state.close();
  }
}
