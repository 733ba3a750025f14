import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { MAX_CORRELATION_ID_LENGTH, REDACTED_HEADERS } from '@credit-ledger/http';
import { ADMIN_KEY, tempDataDir } from '../support/ledger-harness';
import { exited, freePort, SERVER_ENTRY } from '../support/server-process';

/** The built server's own request log (stdout, LOG_LEVEL=info): credentials and hostile correlation ids stay out of it. */
describe('request logs', () => {
  it('redact every credential header and replace an invalid correlation id by a short note', async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    const child = spawn(process.execPath, [SERVER_ENTRY], {
      env: { ...process.env, PORT: String(port), LEDGER_DATA_DIR: dataDir, LEDGER_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    try {
      const base = `http://127.0.0.1:${port}`;
      while (!output.includes('listening on')) await new Promise((resolve) => setTimeout(resolve, 50));
      const secrets = {
        authorization: `Bearer ${ADMIN_KEY}`,
        'x-api-key': 'secret-api-key-value-1234',
        cookie: 'session=secret-cookie-value',
        'proxy-authorization': 'Basic c2VjcmV0',
      };
      const hostileCorrelation = `${'A'.repeat(15_000)}"<script>`;
      await fetch(`${base}/v1/accounts/nobody/balances`, { headers: { ...secrets, 'x-correlation-id': hostileCorrelation } });
      await fetch(`${base}/v1/accounts/nobody/history`, { headers: { ...secrets, 'x-correlation-id': 'good-id-42' } });
      while ((output.match(/"url":"\/v1\/accounts\/nobody/g) ?? []).length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
      for (const value of Object.values(secrets)) expect(output).not.toContain(value);
      expect(output).not.toContain(ADMIN_KEY);
      expect(output).not.toContain('A'.repeat(MAX_CORRELATION_ID_LENGTH + 1));
      expect(output).not.toContain('<script>');
      expect(output).toContain('"correlationId":"good-id-42"');
      expect(output).toContain('"correlationIdRefused":true');
      for (const header of REDACTED_HEADERS.filter((name) => name !== 'set-cookie')) expect(output).toContain(`"${header}":"[redacted]"`);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
