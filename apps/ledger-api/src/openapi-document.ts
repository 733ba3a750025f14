import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildOpenApiDocument } from '@credit-ledger/http';
import { createLedgerApp } from './app';

/**
 * Writes the server's OpenAPI document to a file without serving anything: the build generates
 * the typed client (packages/client) from it, so the client and the console follow the contract.
 * The app is created on a throwaway SQLite directory and never listens.
 */
async function main(): Promise<void> {
  const target = process.argv[2];
  if (!target) throw new Error('usage: openapi-document <file.json>');
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-openapi-'));
  try {
    const app = await createLedgerApp(
      { port: 0, dataDir, store: 'sqlite', adminKey: undefined, logLevel: 'silent', projections: 'off' },
      { shutdownHooks: false },
    );
    const document = buildOpenApiDocument(app);
    await app.close();
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main().catch((e) => {
  process.stderr.write(`openapi-document: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
