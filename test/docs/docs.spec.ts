import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The numbered file paths of a page's "Follow one consumption" section. */
function consumptionPath(page: string): string[] {
  const text = read(page);
  const start = text.indexOf('## Follow one consumption');
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^\d+\. `([^`]+)`/gm)].map((match) => match[1]);
}

describe('the docs match the code', () => {
  it('README stays at most 12 KB', () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThanOrEqual(12 * 1024);
  });

  it('"Follow one consumption" lists at most 6 files, each where it says, the same in README and docs/architecture.md', () => {
    const files = consumptionPath('docs/architecture.md');
    expect(files.length).toBeGreaterThan(0);
    expect(files.length).toBeLessThanOrEqual(6);
    for (const file of files) expect(existsSync(join(ROOT, file)) ? file : `missing: ${file}`).toBe(file);
    expect(consumptionPath('README.md')).toEqual(files);
  });

  it('no internal issue number anywhere in the repository', () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((file) => /\.(ts|tsx|md|json|mjs|yml|yaml|sh)$/.test(file) && !file.startsWith('test/fixtures/') && file !== 'package-lock.json');
    const offenders = tracked.filter((file) => existsSync(join(ROOT, file)) && /\bissues? #?\d+\b|\(#\d+\)/i.test(read(file)));
    expect(offenders).toEqual([]);
  });
});
