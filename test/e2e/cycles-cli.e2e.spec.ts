import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore } from '@credit-ledger/event-store';
import { internalCaller } from '@credit-ledger/domain';
import { planOf } from '@credit-ledger/domain/testing';
import { LedgerModule, OpenAccountCommand } from '@credit-ledger/ledger';
import { ManualClock, tempDataDir, testConfig } from '../support/ledger-harness';

const CLI = join(__dirname, '../../dist/apps/ledger-cli/src/main.js');
const CTX = internalCaller('test', 'test');
const PLAN = planOf({ email: 100 });
/** Accounts opened on 2026-01-10 are 10 monthly cycles behind at RUN_AT. Every run is pinned with
 * --at, so the figures do not move with the calendar (the real clock only bounds --at). */
const OPENED_AT = '2026-01-10T12:00:00.000Z';
const RUN_AT = '2026-11-22T12:00:00.000Z';
const EXPECTED_CYCLES = ['2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11'];
const lastDue = () => EXPECTED_CYCLES;

async function seed(dataDir: string, n: number): Promise<void> {
  const app = await NestFactory.createApplicationContext(
    LedgerModule.forRoot({ config: testConfig(dataDir), clock: new ManualClock(new Date(OPENED_AT)), http: false }),
    { logger: false },
  );
  try {
    const bus = app.get(CommandBus);
    for (let i = 0; i < n; i += 200) {
      await Promise.all(
        Array.from({ length: Math.min(200, n - i) }, (_, k) => bus.execute(new OpenAccountCommand(`acct${i + k}`, `Account ${i + k}`, PLAN, CTX))),
      );
    }
  } finally {
    await app.close();
  }
}

function cli(dataDir: string, ...args: string[]) {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it first)`);
  return spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, LEDGER_DATA_DIR: dataDir }, encoding: 'utf8' });
}

function start(dataDir: string, ...args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LEDGER_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function finished(p: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  p.stdout?.on('data', (d) => (stdout += String(d)));
  p.stderr?.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve) => p.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** CycleReset cycle ids per account, from the store: each account must have each cycle exactly once, in order. */
async function resets(dataDir: string): Promise<Map<string, string[]>> {
  const store = SqliteEventStore.open(dataDir);
  const out = new Map<string, string[]>();
  try {
    for (let after = 0; ;) {
      const page = await store.readAll({ after, limit: 10_000 });
      if (page.length === 0) return out;
      for (const e of page) {
        if (e.type === 'CycleReset') out.set(e.streamId, [...(out.get(e.streamId) ?? []), (e.data as { cycleId: string }).cycleId]);
      }
      after = page[page.length - 1].position;
    }
  } finally {
    await store.close();
  }
}

describe('credit-ledger cycles run (separate processes, real store)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const dir = () => {
    const d = tempDataDir();
    dirs.push(d);
    return d;
  };

  it('dry run changes nothing; a run catches every account up; a second run finds nothing; a failing account exits 1', async () => {
    const d = dir();
    await seed(d, 30);
    const dry = cli(d, 'cycles', 'run', '--at', RUN_AT, '--dry-run', '--json');
    expect(dry.status).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, due: 30, reset: 30, cyclesReset: 30 * lastDue().length });
    expect((await resets(d)).size).toBe(0);

    const run = cli(d, 'cycles', 'run', '--at', RUN_AT);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`30 accounts due, 30 reset \\(${30 * lastDue().length} cycles\\), 0 reservations expired, 0 skipped \\(nothing due\\), 0 failed`),
    );
    for (const ids of (await resets(d)).values()) expect(ids).toEqual(lastDue());

    const again = cli(d, 'cycles', 'run', '--at', RUN_AT, '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ due: 0, reset: 0, failed: 0 });

    const ghost = cli(d, 'cycles', 'run', '--at', RUN_AT, '--account', 'ghost');
    expect(ghost.status).toBe(1);
    expect(ghost.stdout).toMatch(/failed ghost: ACCOUNT_NOT_FOUND/);
    const future = cli(d, 'cycles', 'run', '--at', '2999-01-01T00:00:00Z');
    expect(future.status).not.toBe(0);
    expect(future.stderr).toMatch(/must not be in the future/);
    const early = cli(d, 'cycles', 'run', '--at', '2026-01-01T00:00:00Z', '--json');
    expect(JSON.parse(early.stdout)).toMatchObject({ due: 0 });
  });

  it('two runs at once, in two processes: every account ends reset exactly once per cycle', async () => {
    const d = dir();
    await seed(d, 1_000);
    const [a, b] = await Promise.all([
      finished(start(d, 'cycles', 'run', '--at', RUN_AT, '--json', '--concurrency', '8')),
      finished(start(d, 'cycles', 'run', '--at', RUN_AT, '--json', '--concurrency', '8')),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const sa = JSON.parse(a.stdout);
    const sb = JSON.parse(b.stdout);
    expect(sa.failed + sb.failed).toBe(0);
    expect(sa.cyclesReset + sb.cyclesReset).toBe(1_000 * lastDue().length);
    const all = await resets(d);
    expect(all.size).toBe(1_000);
    for (const ids of all.values()) expect(ids).toEqual(lastDue());
  });

  it('killed half-way (SIGKILL) and run again: every account ends reset exactly once per cycle', async () => {
    const d = dir();
    await seed(d, 3_000);
    const p = start(d, 'cycles', 'run', '--at', RUN_AT, '--concurrency', '4');
    const done = finished(p);
    let killed = false;
    p.stderr?.on('data', (chunk) => {
      if (!killed && /cycles: \d+\/3000/.test(String(chunk))) {
        killed = true;
        p.kill('SIGKILL');
      }
    });
    const first = await done;
    expect(killed).toBe(true);
    expect(first.stdout).toBe(''); // it never printed a summary
    const partial = await resets(d);
    expect(partial.size).toBeGreaterThan(0);
    expect(partial.size).toBeLessThan(3_000);
    const second = cli(d, 'cycles', 'run', '--at', RUN_AT, '--json');
    expect(second.status).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ failed: 0 });
    const all = await resets(d);
    expect(all.size).toBe(3_000);
    for (const ids of all.values()) expect(ids).toEqual(lastDue());
  });
});
