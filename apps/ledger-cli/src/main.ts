#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '@credit-ledger/ledger';
import { auditCommand } from './audit';
import { cyclesCommand } from './cycles';
import { keysCommand } from './keys';
import { projectCommand, replayCommand, seedCommand, verifyCommand } from './projections';
import { migrateCommand, storeCommand } from './store';

const program = new Command('credit-ledger')
  .description('operator commands for credit-ledger (configuration from the same environment as the server)')
  .exitOverride()
  .addCommand(keysCommand())
  .addCommand(replayCommand())
  .addCommand(verifyCommand())
  .addCommand(seedCommand())
  .addCommand(projectCommand())
  .addCommand(cyclesCommand())
  .addCommand(migrateCommand())
  .addCommand(storeCommand())
  .addCommand(auditCommand());

function fail(e: unknown): never {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (e instanceof ConfigError || e instanceof Error) {
    process.stderr.write(`credit-ledger: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
}

try {
  program.parseAsync(process.argv).catch(fail);
} catch (e) {
  fail(e);
}
