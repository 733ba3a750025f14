import { parentPort } from 'node:worker_threads';
import { SqliteLogReader } from '@credit-ledger/event-store';
import { FOLLOWER_THREAD_NICE, lowerThreadPriority, moduleThreadData } from '@credit-ledger/ledger';
import { ProjectionRunner } from '../projection-runner';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import { ProjectionFollower } from './projection-follower';
import type { ProjectionThreadData, ProjectionThreadMessage, ProjectionThreadRequest } from './projection-thread';

/**
 * The read models of the embedded store, kept in a thread of the API: the log read on a read-only
 * connection of this thread, the read models written on one of its own. The event loop passes on
 * its store's commits (`committed`), and asks for `stop` at shutdown.
 */
lowerThreadPriority(FOLLOWER_THREAD_NICE);
const { eventsFile, dataDir } = moduleThreadData<ProjectionThreadData>();
const port = parentPort!;
const send = (message: ProjectionThreadMessage) => port.postMessage(message);
const log = new SqliteLogReader(eventsFile);
const readModels = SqliteReadModelStore.open(dataDir);
let follower: ProjectionFollower | undefined;
let stopping: Promise<void> | undefined;

async function stop(): Promise<void> {
  await follower?.stop();
  await readModels.close();
  log.close();
  port.close();
}

port.on('message', (request: ProjectionThreadRequest) => {
  if (request.type === 'committed') log.notifyCommitted(request.head);
  else stopping ??= stop();
});

void (async () => {
  const runner = await ProjectionRunner.create(readModels);
  follower = new ProjectionFollower(
    runner,
    log,
    { warn: (message) => send({ type: 'log', level: 'warn', message }), error: (message) => send({ type: 'log', level: 'error', message }) },
    (failure) => send({ type: 'failure', failure }),
  );
  if (stopping) return;
  await follower.start();
  send({ type: 'caught-up' });
})();
