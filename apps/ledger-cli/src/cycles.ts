import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Command, InvalidArgumentError } from 'commander';
import { CLIENT_ID_PATTERN } from '@credit-ledger/domain';
import { CyclesJob, CyclesRunSummary, DEFAULT_CYCLES_CONCURRENCY, LedgerModule, loadConfig, MAX_CYCLES_CONCURRENCY } from '@credit-ledger/ledger';

function instant(value: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('must be an ISO-8601 instant with a time zone, e.g. 2026-12-01T00:00:00Z');
  }
  const at = new Date(value);
  if (at.getTime() > Date.now()) throw new InvalidArgumentError('must not be in the future: a cycle is reset only once it has ended');
  return at;
}
function accountId(value: string): string {
  if (!CLIENT_ID_PATTERN.test(value)) throw new InvalidArgumentError(`must match ${CLIENT_ID_PATTERN}`);
  return value;
}
function concurrency(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_CYCLES_CONCURRENCY) throw new InvalidArgumentError(`must be an integer 1..${MAX_CYCLES_CONCURRENCY}`);
  return n;
}

export function printSummary(s: CyclesRunSummary, write: (line: string) => void): void {
  const verb = s.dryRun ? 'would reset' : 'reset';
  write(
    `cycles run${s.dryRun ? ' (dry run)' : ''} up to ${s.upTo}: ${s.due} accounts due, ${s.reset} ${verb} (${s.cyclesReset} cycles), ${s.reservationsExpired} reservations expired, ${s.skipped} skipped (nothing due), ${s.failed} failed${s.aborted ? ', aborted' : ''} in ${s.seconds.toFixed(1)}s`,
  );
  for (const f of s.failures) write(`failed ${f.accountId}: ${f.error} ${f.message}`);
  if (s.failed > s.failures.length) write(`… and ${s.failed - s.failures.length} more failures`);
}

export function cyclesCommand(): Command {
  const cycles = new Command('cycles').description('billing cycles: the scheduled reset job');
  cycles
    .command('run')
    .description('reset every account whose cycle ended at or before --at (default now), catching up missed cycles in order; exit 1 if any account failed')
    .option('--at <ISO>', 'reset cycles that ended at or before this instant (not in the future)', instant)
    .option('--dry-run', 'list what would be reset, change nothing')
    .option('--account <id>', 'only this account', accountId)
    .option('--concurrency <n>', `accounts in flight (default ${DEFAULT_CYCLES_CONCURRENCY})`, concurrency)
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { at?: Date; dryRun?: boolean; account?: string; concurrency?: number; json?: boolean }) => {
      const config = loadConfig();
      const app = await NestFactory.createApplicationContext(LedgerModule.forRoot({ config, http: false }), { logger: ['error', 'warn'] });
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const summary = await app.get(CyclesJob).run({
          upTo: opts.at,
          dryRun: opts.dryRun ?? false,
          accountId: opts.account,
          concurrency: opts.concurrency ?? config.cyclesConcurrency,
          actor: 'cli',
          signal: stop.signal,
          onProgress: (p) =>
            process.stderr.write(`cycles: ${p.done}/${p.total} accounts, ${p.reset} reset, ${p.failed} failed (${Math.round(p.perSecond)}/s)\n`),
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
        else printSummary(summary, (line) => process.stdout.write(`${line}\n`));
        if (summary.failed > 0 || summary.aborted) process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await app.close();
      }
    });
  return cycles;
}
