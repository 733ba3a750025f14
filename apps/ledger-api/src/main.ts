import { ConfigError, loadConfig } from '@credit-ledger/ledger';
import { loadWebhooksConfig, WebhooksConfigError } from '@credit-ledger/webhooks';
import { createLedgerApp } from './app';
import { drainOnSignals } from './graceful-shutdown';

async function main(): Promise<void> {
  let config;
  let webhooks;
  try {
    config = loadConfig();
    webhooks = loadWebhooksConfig();
  } catch (e) {
    if (e instanceof ConfigError || e instanceof WebhooksConfigError) {
      process.stderr.write(`credit-ledger: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const app = await createLedgerApp(config, { shutdownHooks: false, webhooks });
  await app.listen(config.port);
  drainOnSignals(app, config.shutdownGraceSeconds ?? 5, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(
    `credit-ledger listening on http://localhost:${config.port} (store: ${config.store}${config.store === 'sqlite' ? `, data: ${config.dataDir}` : ''})` +
      `${config.adminKey ? '' : ' — LEDGER_ADMIN_KEY is not set: create keys with the CLI'}\n`,
  );
}

void main().catch((e) => {
  process.stderr.write(`credit-ledger failed to start: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
