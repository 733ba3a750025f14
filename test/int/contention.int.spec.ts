import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainError } from '@credit-ledger/domain';
import { EventStore, PostgresEventStore, SqliteEventStore } from '@credit-ledger/event-store';
import { createTestDatabase, dropTestDatabase } from '@credit-ledger/event-store/testing';
import {
  AccountRepository,
  accountStream,
  CommandExecutor,
  ConcurrencyRetriesExhaustedError,
  ConsumeCreditsCommand,
  ConsumeCreditsHandler,
  OpenAccountCommand,
  OpenAccountHandler,
  SystemClock,
} from '@credit-ledger/ledger';

/**
 * 32 writers on ONE account's stream, each with its own store connection and its own command
 * executor (as 32 processes would be): the in-process lock cannot help, only the store's expected
 * revision can. No lost update, no overdraft under `deny`; every request ends as a success, an
 * idempotent replay, a domain refusal, or (after MAX_APPEND_ATTEMPTS lost races) the stable
 * CONCURRENCY_RETRY_EXHAUSTED refusal that a client retries with the same id — which the test
 * then does, as a client would.
 */
const WRITERS = 32;
const ATTEMPTS_PER_WRITER = 12;
const ALLOCATION = 200;

interface Backend {
  readonly name: string;
  open(): Promise<EventStore>;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-contention-'));
  return { name: 'sqlite', open: async () => SqliteEventStore.open(dir), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function postgresBackend(): Promise<Backend> {
  const url = await createTestDatabase(undefined, 'contention');
  return { name: 'postgres', open: () => PostgresEventStore.connect(url), cleanup: () => dropTestDatabase(url) };
}

const ctx = { principal: { kind: 'admin' }, actor: 'contention-test', correlationId: 'contention' } as unknown as ConstructorParameters<
  typeof ConsumeCreditsCommand
>[2];

describe.each([
  ['sqlite', async () => sqliteBackend()],
  ['postgres', postgresBackend],
])('contention on one stream: %s', (_name, makeBackend) => {
  it(`${WRITERS} writers with their own connections: exactly the allocation is consumed, revisions contiguous, no overdraft`, async () => {
    const backend = await makeBackend();
    const stores = await Promise.all(Array.from({ length: WRITERS }, () => backend.open()));
    try {
      const executors = stores.map((s) => new CommandExecutor(new AccountRepository(s), new SystemClock()));
      const handlers = executors.map((x) => new ConsumeCreditsHandler(x));
      const accountId = `hot${randomUUID().slice(0, 8)}`;
      await new OpenAccountHandler(new CommandExecutor(new AccountRepository(stores[0]), new SystemClock())).execute(
        new OpenAccountCommand(
          accountId,
          'Hot',
          { creditTypes: { email: { allocation: ALLOCATION } }, cycle: { period: 'month', anchorDay: 1, timezone: 'UTC' } } as never,
          ctx,
        ),
      );
      const outcomes = { created: 0, replayed: 0, insufficient: 0, exhausted: 0, other: [] as string[] };
      const createdIds: string[] = [];
      const toRetry: ConsumeCreditsCommand[] = [];
      await Promise.all(
        handlers.map(async (h, w) => {
          for (let k = 0; k < ATTEMPTS_PER_WRITER; k++) {
            // Every third request repeats an id another writer also sends: idempotency under contention.
            const consumptionId = k % 3 === 2 ? `shared${k}` : `w${w}k${k}`;
            const command = new ConsumeCreditsCommand(
              accountId,
              {
                consumptionId,
                userId: consumptionId.startsWith('shared') ? 'shared' : `u${w}`,
                creditType: 'email',
                feature: 'people_search',
                action: 'email_reveal',
                credits: 1,
              },
              ctx,
            );
            try {
              const r = await h.execute(command);
              if (r.status === 201) {
                outcomes.created++;
                createdIds.push(consumptionId);
              } else outcomes.replayed++;
            } catch (e) {
              if (e instanceof DomainError && e.code === 'INSUFFICIENT_CREDITS') outcomes.insufficient++;
              else if (e instanceof ConcurrencyRetriesExhaustedError) {
                outcomes.exhausted++;
                toRetry.push(command);
              } else outcomes.other.push(String(e));
            }
          }
        }),
      );
      const conflicts = executors.reduce((n, x) => n + x.conflicts(), 0);
      process.stdout.write(`contention ${_name}: ${JSON.stringify({ ...outcomes, other: outcomes.other.length, conflicts })}\n`);
      expect(outcomes.other).toEqual([]);
      // The store really refused stale appends (the writers did race), and each was retried or refused cleanly.
      expect(conflicts).toBeGreaterThan(0);
      expect(outcomes.created + outcomes.replayed + outcomes.insufficient + outcomes.exhausted).toBe(WRITERS * ATTEMPTS_PER_WRITER);
      // The client's retry of a request refused for contention: same id, now without contention.
      for (const command of toRetry) {
        try {
          const r = await handlers[0].execute(command);
          if (r.status === 201) createdIds.push(command.data.consumptionId);
        } catch (e) {
          expect(e).toMatchObject({ code: 'INSUFFICIENT_CREDITS' });
        }
      }
      const events = [];
      for (let from = 0; ;) {
        const page = await stores[0].readStream(accountStream(accountId), { fromRevision: from, limit: 1000 });
        events.push(...page);
        if (page.length < 1000) break;
        from = page[page.length - 1].revision + 1;
      }
      expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
      const consumed = events.filter((e) => e.type === 'CreditConsumed').map((e) => (e.data as { consumptionId: string }).consumptionId);
      // No lost update: every 201 is stored, once; nothing stored that was not answered 201.
      expect(new Set(consumed).size).toBe(consumed.length);
      expect([...consumed].sort()).toEqual([...createdIds].sort());
      // No overdraft: the allocation is the ceiling, and it was reached (demand exceeds it).
      expect(consumed.length).toBe(ALLOCATION);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await backend.cleanup();
    }
  }, 120_000);
});
