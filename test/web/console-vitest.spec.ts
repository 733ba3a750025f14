import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The web console's component and logic tests are Vitest files (apps/ledger-web/src/*.test.ts,
 * jsdom): jest never loads them (its pattern is *.spec.ts). This spec runs them, so that one
 * `npm test` runs everything, and fails with the names of the Vitest tests that failed.
 */
interface VitestReport {
  numTotalTests: number;
  numFailedTests: number;
  testResults: { name: string; assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

describe('web console: Vitest suites (filters ↔ URL, depletion projection, formatting, components)', () => {
  it('all pass', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-vitest-'));
    const output = join(dir, 'report.json');
    const root = join(__dirname, '../..');
    let stderr = '';
    try {
      try {
        execFileSync(
          process.execPath,
          [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'apps/ledger-web/vite.config.ts', '--reporter=json', `--outputFile=${output}`],
          { cwd: root, stdio: 'pipe', timeout: 120_000 },
        );
      } catch (e) {
        // A failing Vitest run exits non-zero: its report says which tests failed.
        stderr = String((e as { stderr?: Buffer }).stderr ?? e);
      }
      if (!existsSync(output)) throw new Error(`vitest wrote no report: ${stderr.slice(0, 2_000)}`);
      const report = JSON.parse(readFileSync(output, 'utf8')) as VitestReport;
      const failed = report.testResults.flatMap((file) =>
        file.assertionResults.filter((t) => t.status !== 'passed').map((t) => `${t.fullName}: ${t.failureMessages.join(' ').slice(0, 500)}`),
      );
      expect(failed).toEqual([]);
      expect(report.numTotalTests).toBeGreaterThanOrEqual(15);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
