import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerHarness, PLAN, tempDataDir } from '../support/ledger-harness';

const CLI = join(__dirname, '../../dist/apps/ledger-cli/src/main.js');

function cli(dataDir: string, ...args: string[]) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it first)`);
  return spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, LEDGER_DATA_DIR: dataDir }, encoding: 'utf8' });
}

describe('credit-ledger CLI: keys', () => {
  it('creates a key printed once on stdout that the API accepts, lists it without the secret, and revokes it', async () => {
    const dataDir = tempDataDir();
    const created = cli(dataDir, 'keys', 'create', '--account', 'acme', '--role', 'admin');
    expect(created.status).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^clk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const keyId = key.split('_')[1];

    const h = await LedgerHarness.start({ dataDir });
    try {
      await h.as(key).post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
      await h.as(key).get('/v1/accounts/acme/balances').expect(200);

      const listed = execFileSync(process.execPath, [CLI, 'keys', 'list', '--account', 'acme'], {
        env: { ...process.env, LEDGER_DATA_DIR: dataDir },
        encoding: 'utf8',
      });
      expect(listed).toContain(keyId);
      expect(listed).not.toContain(key);

      expect(cli(dataDir, 'keys', 'revoke', keyId).status).toBe(0);
      await h.as(key).get('/v1/accounts/acme/balances').expect(401);
      expect(cli(dataDir, 'keys', 'revoke', keyId).status).toBe(1);
    } finally {
      await h.stop();
    }
  });

  it('refuses bad arguments with a message and a non-zero exit', () => {
    const dataDir = tempDataDir();
    const badRole = cli(dataDir, 'keys', 'create', '--account', 'acme', '--role', 'owner');
    expect(badRole.status).not.toBe(0);
    expect(badRole.stderr).toMatch(/must be one of admin, service, analyst, member/);
    const memberWithoutUser = cli(dataDir, 'keys', 'create', '--account', 'acme', '--role', 'member');
    expect(memberWithoutUser.status).not.toBe(0);
    expect(memberWithoutUser.stderr).toMatch(/--user is required/);
    const member = cli(dataDir, 'keys', 'create', '--account', 'acme', '--role', 'member', '--user', 'ana', '--json');
    expect(JSON.parse(member.stdout)).toMatchObject({ role: 'member', accountId: 'acme', userId: 'ana', key: expect.stringMatching(/^clk_/) });
  });
});
