import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStore, PostgresEventStore, RecordedEvent, SqliteEventStore } from '@credit-ledger/event-store';
import {
  ChainTamperer,
  createTestDatabase,
  dropTestDatabase,
  forgeEvent,
  postgresTamperer,
  seedTamperLog,
  sqliteTamperer,
} from '@credit-ledger/event-store/testing';
import { AuditService, LedgerConfig, SystemClock, loadAuditKeyring } from '@credit-ledger/ledger';

/**
 * Tampering through the database, then an export taken after it, checked by the independent
 * verifier (tools/verify-audit-export.mjs, run as an auditor would) against a head signed before.
 */
const VERIFIER = join(__dirname, '../../tools/verify-audit-export.mjs');
const work = mkdtempSync(join(tmpdir(), 'ledger-audit-tamper-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const { privateKey } = generateKeyPairSync('ed25519');
const problems: string[] = [];
const keyring = loadAuditKeyring({ LEDGER_AUDIT_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }, problems);
const config = { audit: keyring } as unknown as LedgerConfig;
const keysFile = join(work, 'keys.json');
writeFileSync(keysFile, JSON.stringify({ signing: true, keys: keyring.keys }));

function runVerifier(exportFile: string, ...heads: string[]): { code: number; output: string } {
  try {
    const output = execFileSync('node', [VERIFIER, exportFile, keysFile, ...heads.flatMap((head) => ['--head', head])], { encoding: 'utf8' });
    return { code: 0, output };
  } catch (error) {
    const failure = error as { status: number; stdout: string };
    return { code: failure.status, output: failure.stdout };
  }
}

async function exportToFile(audit: AuditService, accountId: string, file: string): Promise<void> {
  const lines: string[] = [];
  for await (const line of audit.exportAccount(accountId)) lines.push(JSON.stringify(line));
  writeFileSync(file, `${lines.join('\n')}\n`);
}

interface Harness {
  store: EventStore;
  tamperer: () => Promise<ChainTamperer>;
  cleanup: () => Promise<void>;
}
const harnesses: Record<string, () => Promise<Harness>> = {
  sqlite: async () => {
    const dir = mkdtempSync(join(work, 'sqlite-'));
    return { store: SqliteEventStore.open(dir), tamperer: async () => sqliteTamperer(dir), cleanup: async () => undefined };
  },
  postgres: async () => {
    const url = await createTestDatabase(undefined, 'audit_tamper');
    return { store: await PostgresEventStore.connect(url), tamperer: () => postgresTamperer(url), cleanup: () => dropTestDatabase(url) };
  },
};

const scenarios: [string, (tamper: ChainTamperer, log: RecordedEvent[]) => Promise<void>, string][] = [
  ["one event's credits changed", (tamper) => tamper.setCredits(5, 999), 'FAIL revision 1: changed'],
  ['an event deleted', (tamper) => tamper.deleteAt(5), 'FAIL revision 1: missing'],
  ['two events swapped', (tamper) => tamper.swapPositions(5, 7), 'FAIL revision 1: changed'],
  [
    'a forged event inserted with its own hash recomputed',
    (tamper, log) => tamper.insertForged(forgeEvent(log, 'account-b', 5, 1)),
    'FAIL revision 1: inserted',
  ],
  ['the tail truncated', (tamper) => tamper.truncateFrom(8), 'FAIL revision 2: missing'],
];

describe.each(Object.keys(harnesses))('audit exports on %s', (kind) => {
  let harness: Harness;
  let audit: AuditService;
  beforeEach(async () => {
    harness = await harnesses[kind]();
    audit = new AuditService(harness.store, config, new SystemClock());
  });
  afterEach(async () => {
    await harness.store.close();
    await harness.cleanup();
  });

  it('an untampered export verifies OK, alone and against a head archived earlier', async () => {
    await seedTamperLog(harness.store);
    const archived = join(work, `${kind}-clean-head.json`);
    writeFileSync(archived, JSON.stringify(await audit.accountHead('b')));
    const exportFile = join(work, `${kind}-clean.jsonl`);
    await exportToFile(audit, 'b', exportFile);
    expect(runVerifier(exportFile)).toEqual({ code: 0, output: expect.stringMatching(/^OK b: revisions 0\.\.2 \(3 events\)/) });
    expect(runVerifier(exportFile, archived).output).toMatch(/1 archived head\(s\) matched/);
  });

  it.each(scenarios)('%s: the verifier rejects the export taken after it against the head signed before', async (_name, tamper, expected) => {
    const log = await seedTamperLog(harness.store);
    const archived = join(work, `${kind}-head-${expected.replace(/\W/g, '')}.json`);
    writeFileSync(archived, JSON.stringify(await audit.accountHead('b')));
    const tamperer = await harness.tamperer();
    await tamper(tamperer, log);
    await tamperer.close();
    const exportFile = join(work, `${kind}-${expected.replace(/\W/g, '')}.jsonl`);
    await exportToFile(audit, 'b', exportFile);
    const verdict = runVerifier(exportFile, archived);
    expect(verdict.code).toBe(1);
    expect(verdict.output).toContain(expected);
  });

  it('rejects an export whose signed head was edited', async () => {
    await seedTamperLog(harness.store);
    const exportFile = join(work, `${kind}-resigned.jsonl`);
    await exportToFile(audit, 'b', exportFile);
    const lines = readFileSync(exportFile, 'utf8').trim().split('\n');
    const head = JSON.parse(lines[lines.length - 1]);
    writeFileSync(exportFile, [...lines.slice(0, -1), JSON.stringify({ ...head, signedAt: '2027-01-01T00:00:00.000Z' })].join('\n'));
    expect(runVerifier(exportFile).output).toContain('bad signature');
  });
});
