import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, SqliteLogReader } from '@credit-ledger/event-store';
import { waitFor } from '@credit-ledger/event-store/testing';
import { seedHistory } from '../ops/seed';
import { verifyReadModels } from '../ops/verify';
import { ProjectionRunner } from '../projection-runner';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import { ProjectionThread } from './projection-thread';

const SEED = { seed: 5, months: 1, start: '2026-01-01T00:00:00Z' } as const;

describe('the read models in a thread of their own (SQLite)', () => {
  let dir: string;
  let log: SqliteEventStore;
  let readModels: SqliteReadModelStore;
  const messages: string[] = [];
  const logger = { warn: (message: string) => messages.push(message), error: (message: string) => messages.push(message) };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-projection-thread-'));
    log = SqliteEventStore.open(dir);
    readModels = SqliteReadModelStore.open(dir);
    await ProjectionRunner.create(readModels); // as the server does: the tables exist before the thread starts
    messages.length = 0;
  });
  afterEach(async () => {
    await readModels.close();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('catches up before start() resolves, then follows every commit of the store, and the read models match the log', async () => {
    const backlog = await seedHistory(log, { ...SEED, accounts: 5, events: 400 });
    const thread = new ProjectionThread(log, { eventsFile: log.file, dataDir: dir }, logger);
    await thread.start();
    try {
      expect(await readModels.position()).toBe(backlog.events);
      await seedHistory(log, { ...SEED, seed: 6, accountPrefix: 'later_', accounts: 3, events: 150, appendsInFlight: 1 });
      const head = await log.headPosition();
      await waitFor('every event applied in the thread', async () => (await readModels.position()) === head);
      const report = await verifyReadModels(log, readModels);
      expect({ differences: report.differenceCount, events: report.eventsChecked }).toEqual({ differences: 0, events: head });
      expect(thread.failure()).toBeUndefined();
    } finally {
      await thread.stop();
    }
    expect(thread.thread).toBeUndefined(); // the stop waited for the thread to end
    expect(messages).toEqual([]);
  });

  it('a thread that ended abruptly is reported, started again from the checkpoint, and catches up with what was committed meanwhile', async () => {
    await seedHistory(log, { ...SEED, accounts: 2, events: 50 });
    const thread = new ProjectionThread(log, { eventsFile: log.file, dataDir: dir }, logger, [50, 50]);
    await thread.start();
    try {
      const running = thread.thread!;
      await running.terminate();
      expect(thread.failure()).toMatch(/the projections thread exited/);
      await seedHistory(log, { ...SEED, seed: 7, accountPrefix: 'later_', accounts: 2, events: 80 });
      const head = await log.headPosition();
      await waitFor('the restarted thread caught up', async () => (await readModels.position()) === head);
      await waitFor('the failure cleared', () => thread.failure() === undefined);
      expect(thread.thread).not.toBe(running);
      expect(messages.some((m) => /projections stopped: the projections thread exited .*starting again from the checkpoint/.test(m))).toBe(true);
      const report = await verifyReadModels(log, readModels);
      expect(report.differenceCount).toBe(0);
    } finally {
      await thread.stop();
    }
  });
});

describe('SqliteLogReader', () => {
  let dir: string;
  let log: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledger-log-reader-'));
    log = SqliteEventStore.open(dir);
  });
  afterEach(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the log as the store does (without the hash chains), and a commit it is told of wakes its subscribers at once', async () => {
    await seedHistory(log, { ...SEED, accounts: 2, events: 30 });
    // No file watch, and a poll that never comes within the test: only the notification can hand over the next events.
    const reader = new SqliteLogReader(log.file, { pollIntervalMs: 3_600_000, watchFile: false });
    try {
      const expected = (await log.readAll({ limit: 1_000, withoutChain: true })).map((e) => ({ ...e }));
      expect(await reader.readAll({ limit: 1_000 })).toEqual(expected);
      expect(await reader.headPosition()).toBe(30);
      const seen: number[] = [];
      const subscription = reader.subscribeToAll({ after: 30 }, async (batch) => void seen.push(...batch.map((e) => e.position)));
      const stopListening = log.listenToCommits((head) => reader.notifyCommitted(head));
      try {
        await seedHistory(log, { ...SEED, seed: 8, accountPrefix: 'later_', accounts: 1, events: 5, appendsInFlight: 1 });
        await waitFor('the new events handed over', () => seen.length === 5);
        expect(seen).toEqual([31, 32, 33, 34, 35]);
      } finally {
        stopListening();
        await subscription.stop();
      }
    } finally {
      reader.close();
    }
  });
});
