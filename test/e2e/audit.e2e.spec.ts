import { execFileSync, spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '@credit-ledger/event-store';
import { sqliteTamperer } from '@credit-ledger/event-store/testing';
import { loadAuditKeyring } from '@credit-ledger/ledger';
import { ADMIN_KEY, consumption, LedgerHarness, PLAN, tempDataDir } from '../support/ledger-harness';
import { CLI_ENTRY, SERVER_ENTRY } from '../support/server-process';

/** Audit heads, checkpoint, keys and exports over HTTP; the verifier and the CLI on their output. */
const VERIFIER = join(__dirname, '../../tools/verify-audit-export.mjs');
const work = mkdtempSync(join(tmpdir(), 'ledger-audit-e2e-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function newKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
function keyringOf(env: NodeJS.ProcessEnv) {
  const problems: string[] = [];
  const keyring = loadAuditKeyring(env, problems);
  expect(problems).toEqual([]);
  return keyring;
}
function verifyExport(exportText: string, keys: unknown, ...heads: unknown[]): string {
  const exportFile = join(work, `export-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(exportFile, exportText);
  const keysFile = `${exportFile}.keys.json`;
  writeFileSync(keysFile, JSON.stringify(keys));
  const headArgs = heads.flatMap((head, index) => {
    const file = `${exportFile}.head${index}.json`;
    writeFileSync(file, JSON.stringify(head));
    return ['--head', file];
  });
  const run = spawnSync('node', [VERIFIER, exportFile, keysFile, ...headArgs], { encoding: 'utf8' });
  return run.stdout;
}
async function seedAccounts(h: LedgerHarness): Promise<void> {
  await h.as().post('/v1/accounts', { accountId: 'acme', name: 'Acme', plan: PLAN }).expect(201);
  await h.as().post('/v1/accounts', { accountId: 'globex', name: 'Globex', plan: PLAN }).expect(201);
  for (let index = 0; index < 5; index++)
    await h
      .as()
      .post('/v1/accounts/acme/consumptions', consumption(`c${index}`))
      .expect(201);
}

describe('audit endpoints (signing on)', () => {
  let h: LedgerHarness;
  const keyPem = newKeyPem();
  beforeAll(async () => {
    h = await LedgerHarness.start({ config: { audit: keyringOf({ LEDGER_AUDIT_SIGNING_KEY: keyPem }) } });
    await seedAccounts(h);
  });
  afterAll(() => h.stop());

  it('admin and analyst of the account read its head and export; a member, a service key or another account may not', async () => {
    const keys = {
      admin: await h.createKey('acme', 'admin'),
      analyst: await h.createKey('acme', 'analyst'),
      member: await h.createKey('acme', 'member', 'ana'),
      service: await h.createKey('acme', 'service'),
    };
    for (const path of ['/v1/accounts/acme/audit/head', '/v1/accounts/acme/audit/export']) {
      await h.as(keys.admin).get(path).expect(200);
      await h.as(keys.analyst).get(path).expect(200);
      expect((await h.as(keys.member).get(path).expect(403)).body.error).toBe('FORBIDDEN');
      await h.as(keys.service).get(path).expect(403);
      await h.as(keys.admin).get(path.replace('acme', 'globex')).expect(403);
      await h.http().get(path).expect(401);
    }
    await h.as(keys.admin).get('/v1/audit/checkpoint').expect(403);
    await h.as().get('/v1/audit/checkpoint').expect(200);
  });

  it('signs heads with the configured key; GET /v1/audit/keys lists it; /health says signing is on', async () => {
    const head = (await h.as().get('/v1/accounts/acme/audit/head').expect(200)).body;
    expect(head).toMatchObject({ scope: 'account', accountId: 'acme', revision: 5, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const keys = (await h.http().get('/v1/audit/keys').expect(200)).body;
    expect(keys).toMatchObject({ signing: true, keys: [{ keyId: head.keyId, algorithm: 'Ed25519', current: true, validUntil: null }] });
    const { signature, ...unsigned } = head;
    expect(verify(null, Buffer.from(canonicalJson(unsigned)), createPublicKey(keys.keys[0].publicKey), Buffer.from(signature, 'base64'))).toBe(true);
    const checkpoint = (await h.as().get('/v1/audit/checkpoint').expect(200)).body;
    expect(checkpoint).toMatchObject({ scope: 'global', accountId: null, revision: null, position: 7, keyId: head.keyId });
    const health = (await h.http().get('/health').expect(200)).body;
    expect(health.info.auditSigning).toEqual({ status: 'up', signing: 'on', keyId: head.keyId });
  });

  it('streams the export as JSON Lines ending with a signed head, which the independent verifier accepts', async () => {
    const res = await h.as().get('/v1/accounts/acme/audit/export').expect(200);
    expect(res.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = res.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.kind)).toEqual(['export', 'event', 'event', 'event', 'event', 'event', 'event', 'head']);
    const keys = (await h.http().get('/v1/audit/keys')).body;
    const archived = (await h.as().get('/v1/accounts/acme/audit/head')).body;
    expect(verifyExport(res.text, keys, archived)).toMatch(/^OK acme: revisions 0\.\.5 \(6 events\).*1 archived head\(s\) matched/);
    const range = await h.as().get('/v1/accounts/acme/audit/export?fromRevision=2&toRevision=3').expect(200);
    expect(verifyExport(range.text, keys)).toMatch(/^OK acme: revisions 2\.\.3 \(2 events\)/);
  });

  it('400 on a bad range, 404 for an account without events', async () => {
    const bad = await h.as().get('/v1/accounts/acme/audit/export?fromRevision=3&toRevision=2').expect(400);
    expect(bad.body).toMatchObject({ error: 'VALIDATION_FAILED', details: [{ field: 'toRevision' }] });
    await h.as().get('/v1/accounts/acme/audit/export?fromRevision=-1').expect(400);
    expect((await h.as().get('/v1/accounts/nobody/audit/head').expect(404)).body.error).toBe('ACCOUNT_NOT_FOUND');
    await h.as().get('/v1/accounts/nobody/audit/export').expect(404);
  });
});

describe('audit signing off, and a key rotation', () => {
  it('without a key: heads are unsigned, keys list is empty, /health says signing is off', async () => {
    const h = await LedgerHarness.start();
    try {
      await seedAccounts(h);
      expect((await h.as().get('/v1/accounts/acme/audit/head').expect(200)).body).toMatchObject({ signature: null, keyId: null, signedAt: null });
      expect((await h.http().get('/v1/audit/keys').expect(200)).body).toEqual({ signing: false, keys: [] });
      expect((await h.http().get('/health').expect(200)).body.info.auditSigning).toEqual({ status: 'up', signing: 'off' });
    } finally {
      await h.stop();
    }
  });

  it('rotates: the retired key stays listed with its validity; a head archived under it still checks a later export signed by the new key', async () => {
    // The harness clock stands at 2026-11-10T12:00:00Z: the rotation happens then.
    const ROTATED_AT = '2026-11-10T12:00:00.000Z';
    const dataDir = tempDataDir();
    const oldKey = newKeyPem();
    const first = await LedgerHarness.start({
      dataDir,
      config: { audit: keyringOf({ LEDGER_AUDIT_SIGNING_KEY: oldKey, LEDGER_AUDIT_SIGNING_KEY_SINCE: '2026-01-01T00:00:00Z' }) },
    });
    await seedAccounts(first);
    const archived = (await first.as().get('/v1/accounts/acme/audit/head').expect(200)).body;
    await first.stop({ keepData: true });

    const retiredFile = join(work, 'retired-keys.json');
    const oldPublic = createPublicKey(oldKey).export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(
      retiredFile,
      JSON.stringify([{ publicKey: oldPublic, validFrom: '2026-01-01T00:00:00Z', validUntil: new Date(Date.now() + 1000).toISOString() }]),
    );
    const env = { LEDGER_AUDIT_SIGNING_KEY: newKeyPem(), LEDGER_AUDIT_SIGNING_KEY_SINCE: ROTATED_AT, LEDGER_AUDIT_RETIRED_KEYS: retiredFile };
    const second = await LedgerHarness.start({ dataDir, config: { audit: keyringOf(env) } });
    try {
      await second.as().post('/v1/accounts/acme/consumptions', consumption('after-rotation')).expect(201);
      const keys = (await second.http().get('/v1/audit/keys').expect(200)).body;
      expect(keys.keys).toHaveLength(2);
      expect(keys.keys[0]).toMatchObject({ current: true, validUntil: null });
      expect(keys.keys[1]).toMatchObject({ keyId: archived.keyId, current: false, validFrom: '2026-01-01T00:00:00Z' });
      const exported = await second.as().get('/v1/accounts/acme/audit/export').expect(200);
      expect(exported.text.trim().split('\n').pop()).toContain(keys.keys[0].keyId);
      expect(verifyExport(exported.text, keys, archived)).toMatch(/^OK acme: revisions 0\.\.6 .*1 archived head\(s\) matched/);
    } finally {
      await second.stop();
    }
  });
});

describe('start-up and the CLI (built dist/)', () => {
  it('refuses to start with a malformed signing key, naming the variable', () => {
    const run = spawnSync(process.execPath, [SERVER_ENTRY], {
      env: {
        ...process.env,
        PORT: '0',
        LEDGER_DATA_DIR: tempDataDir(),
        LEDGER_AUDIT_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr + run.stdout).toMatch(/LEDGER_AUDIT_SIGNING_KEY must be an Ed25519 private key/);
  });

  it('credit-ledger verify --chain names the first broken position; audit export writes a verifiable file', async () => {
    const dataDir = tempDataDir();
    const keyPem = newKeyPem();
    const h = await LedgerHarness.start({ dataDir });
    await seedAccounts(h);
    await h.stop({ keepData: true });
    const env = { ...process.env, LEDGER_DATA_DIR: dataDir, LEDGER_ADMIN_KEY: ADMIN_KEY, LEDGER_AUDIT_SIGNING_KEY: keyPem };
    const cli = (...args: string[]) => spawnSync(process.execPath, [CLI_ENTRY, ...args], { env, encoding: 'utf8', timeout: 60_000 });
    const clean = cli('verify', '--chain');
    expect(clean.status).toBe(0);
    expect(clean.stdout).toMatch(/^OK: chain \(global log and every account\): 7 events verified/);
    const exportFile = join(work, 'cli-export.jsonl');
    expect(cli('audit', 'export', '--account', 'acme', '--out', exportFile).status).toBe(0);
    const keysFile = join(work, 'cli-key.pem');
    writeFileSync(keysFile, createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }).toString());
    expect(execFileSync('node', [VERIFIER, exportFile, keysFile], { encoding: 'utf8' })).toMatch(/^OK acme/);

    const tamperer = sqliteTamperer(dataDir);
    await tamperer.setCredits(4, 99);
    await tamperer.close();
    const broken = cli('verify', '--chain');
    expect(broken.status).toBe(1);
    expect(broken.stdout).toMatch(/CHAIN BROKEN at position 4 \(stream account-acme, revision 2\): changed/);
    expect(cli('verify', '--chain', '--account', 'acme').stdout).toMatch(/CHAIN BROKEN at position 4 .*changed/);
    expect(cli('verify', '--chain', '--account', 'globex').status).toBe(0);
    expect(cli('verify').status).toBe(1);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
