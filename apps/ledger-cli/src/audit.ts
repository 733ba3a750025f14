import { Command, InvalidArgumentError } from 'commander';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { CLIENT_ID_PATTERN } from '@credit-ledger/domain';
import { AuditService, loadConfig, openEventStore, SystemClock } from '@credit-ledger/ledger';

function accountId(value: string): string {
  if (!CLIENT_ID_PATTERN.test(value)) throw new InvalidArgumentError(`must match ${CLIENT_ID_PATTERN}`);
  return value;
}

function revision(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new InvalidArgumentError('must be an integer >= 0');
  return parsed;
}

async function withAudit<T>(work: (audit: AuditService) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = await openEventStore(config, 'credit-ledger-cli');
  try {
    return await work(new AuditService(store, config, new SystemClock()));
  } finally {
    await store.close();
  }
}

export function auditCommand(): Command {
  const audit = new Command('audit').description(
    'tamper evidence: signed heads and exports an auditor verifies with tools/verify-audit-export.mjs (docs/audit.md)',
  );
  audit
    .command('export')
    .description('the account’s events with their hashes as JSON Lines, ending with a signed head (the same as GET /v1/accounts/{id}/audit/export)')
    .requiredOption('--account <id>', 'the account', accountId)
    .option('--from-revision <n>', 'first revision (inclusive)', revision)
    .option('--to-revision <n>', 'last revision (inclusive; default: the last)', revision)
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (opts: { account: string; fromRevision?: number; toRevision?: number; out?: string }) => {
      if (opts.toRevision !== undefined && opts.toRevision < (opts.fromRevision ?? 0)) throw new Error('--to-revision must be at least --from-revision');
      await withAudit(async (service) => {
        if (!(await service.exists(opts.account))) throw new Error(`account ${opts.account} has no events`);
        const out: Writable = opts.out ? createWriteStream(opts.out) : process.stdout;
        let events = 0;
        for await (const line of service.exportAccount(opts.account, opts.fromRevision ?? 0, opts.toRevision)) {
          if (line.kind === 'event') events++;
          if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
        }
        if (opts.out) {
          out.end();
          await once(out, 'finish');
          process.stderr.write(`exported ${events} events of ${opts.account} to ${opts.out}\n`);
        }
      });
    });
  audit
    .command('head')
    .description('the account’s signed head (the same as GET /v1/accounts/{id}/audit/head): archive it')
    .requiredOption('--account <id>', 'the account', accountId)
    .action(async (opts: { account: string }) => {
      const head = await withAudit((service) => service.accountHead(opts.account));
      if (!head) throw new Error(`account ${opts.account} has no events`);
      process.stdout.write(`${JSON.stringify(head)}\n`);
    });
  audit
    .command('checkpoint')
    .description('the global chain’s signed head (the same as GET /v1/audit/checkpoint): archive it')
    .action(async () => {
      const checkpoint = await withAudit((service) => service.checkpoint());
      process.stdout.write(`${JSON.stringify(checkpoint)}\n`);
    });
  return audit;
}
