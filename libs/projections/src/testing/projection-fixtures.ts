import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerCommand, LedgerEvent } from '../../../domain/src';
import { run } from '../../../domain/src/testing/fixtures';
import { RecordedEvent } from '../../../event-store/src';
import { encodeEvents } from '../../../ledger/src/infrastructure/event-codec';
import { accountStream } from '../../../ledger/src/infrastructure/stream-names';
import { ProjectionRunner } from '../projection-runner';
import { openReadModelDb } from '../read-model-db';

/** Stored events as the log would hand them over, from domain events of one account. */
export function recordedFrom(events: readonly LedgerEvent[], accountId = 'acme', firstPosition = 1): RecordedEvent[] {
  const stream = accountStream(accountId);
  return events.map((e, i) => {
    const [x] = encodeEvents(`cmd:${firstPosition + i}`, [e], { actor: 'test', correlationId: 'c', recordedAt: e.occurredAt });
    return { ...x, streamId: stream, revision: i, position: firstPosition + i };
  });
}

/** Given these commands (run through the real deciders), when projected: a runner on a real SQLite file. */
export function givenProjected(commands: LedgerCommand[]): { db: Database.Database; runner: ProjectionRunner; records: RecordedEvent[] } {
  const db = openReadModelDb(mkdtempSync(join(tmpdir(), 'ledger-rm-')));
  const runner = new ProjectionRunner(db);
  const records = recordedFrom(run(commands).events);
  runner.applyBatch(records);
  return { db, runner, records };
}
