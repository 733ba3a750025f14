import { Command, InvalidArgumentError } from 'commander';
import { CLIENT_ID_PATTERN, USER_ID_PATTERN } from '@credit-ledger/domain';
import { ApiKeyStore, loadConfig, openApiKeyStore, openStateDatabase } from '@credit-ledger/ledger';
import { Role, ROLES } from '@credit-ledger/domain';

function role(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
  return value as Role;
}
function accountId(value: string): string {
  if (!CLIENT_ID_PATTERN.test(value)) throw new InvalidArgumentError(`must match ${CLIENT_ID_PATTERN}`);
  return value;
}
function userId(value: string): string {
  if (!USER_ID_PATTERN.test(value)) throw new InvalidArgumentError('must be 1..128 characters without spaces');
  return value;
}

/** The server's key store: PostgreSQL (DATABASE_URL) unless LEDGER_STORE=sqlite, where it is LEDGER_DATA_DIR. */
async function withKeys<T>(work: (keys: ApiKeyStore) => Promise<T>): Promise<T> {
  const state = openStateDatabase(loadConfig(), 'credit-ledger-cli');
  try {
    const keys = await openApiKeyStore(state);
    try {
      return await work(keys);
    } finally {
      await keys.close();
    }
  } finally {
    await state.close();
  }
}

export function keysCommand(): Command {
  const keys = new Command('keys').description(
    'create, list and revoke API keys (stored hashed where the server keeps them: PostgreSQL, or LEDGER_DATA_DIR with LEDGER_STORE=sqlite)',
  );

  keys
    .command('create')
    .description('create a key; the key is printed once on stdout, its details on stderr')
    .requiredOption('--account <id>', 'account the key is scoped to', accountId)
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
    .option('--user <userId>', 'member keys: the team member the key speaks for', userId)
    .option('--json', 'print {key, keyId, role, accountId, userId} as JSON instead')
    .action(async (opts: { account: string; role: Role; user?: string; json?: boolean }) => {
      if (opts.role === 'member' && !opts.user) throw new Error('--user is required with --role member');
      if (opts.role !== 'member' && opts.user) throw new Error('--user is only for --role member');
      const { key, record } = await withKeys((k) => k.create({ accountId: opts.account, role: opts.role, userId: opts.user }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ key, ...record })}\n`);
        return;
      }
      process.stderr.write(
        `created ${record.role} key ${record.keyId} for account ${record.accountId}${record.userId ? ` (user ${record.userId})` : ''}; it is shown only now:\n`,
      );
      process.stdout.write(`${key}\n`);
    });

  keys
    .command('revoke <keyId>')
    .description('revoke a key by its id (the part after clk_)')
    .action(async (keyId: string) => {
      if (!(await withKeys((k) => k.revoke(keyId)))) {
        process.stderr.write(`no active key ${keyId}\n`);
        process.exitCode = 1;
        return;
      }
      process.stderr.write(`revoked ${keyId}\n`);
    });

  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--account <id>', 'only this account', accountId)
    .action(async (opts: { account?: string }) => {
      for (const r of await withKeys((k) => k.list(opts.account))) {
        process.stdout.write(
          `${r.keyId}\t${r.accountId}\t${r.role}\t${r.userId ?? '-'}\t${r.createdAt}\t${r.revokedAt ? `revoked ${r.revokedAt}` : 'active'}\n`,
        );
      }
    });
  return keys;
}
