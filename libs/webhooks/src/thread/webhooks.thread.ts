import { parentPort } from 'node:worker_threads';
import pino from 'pino';
import { clampPageSize, SqliteLogReader, SqliteStreamReader } from '@credit-ledger/event-store';
import { FOLLOWER_THREAD_NICE, lowerThreadPriority, moduleThreadData } from '@credit-ledger/ledger';
import { DispatcherLog, WebhookDispatcher } from '../dispatcher';
import { openWebhookStore } from '../store/open-webhook-store';
import { WebhookStore } from '../store/webhook-store';
import type { DispatcherThreadData, DispatcherThreadMessage, DispatcherThreadRequest } from './dispatcher-thread';
import { readSharedClock, writeSharedStats } from './shared-stats';

/** The dispatcher's figures are published to the event loop this often. */
const STATS_PUBLISH_INTERVAL_MS = 50;

/**
 * The webhook dispatcher of the embedded store, in a thread of the server: the log and account
 * streams read on read-only connections of this thread, the webhook store on one of its own. The
 * event loop passes on its store's commits (`committed`), wakes (`wake`), and asks for `stop`.
 */
lowerThreadPriority(FOLLOWER_THREAD_NICE);
const data = moduleThreadData<DispatcherThreadData>();
const port = parentPort!;
const send = (message: DispatcherThreadMessage) => port.postMessage(message);
const logReader = new SqliteLogReader(data.eventsFile);
const streams = new SqliteStreamReader(data.eventsFile);
const log: DispatcherLog = {
  subscribeToAll: (options, handler) => logReader.subscribeToAll(options, handler),
  readStream: async (streamId, { fromRevision, limit }) => streams.readStream(streamId, fromRevision, clampPageSize(limit)),
};
const clockView = data.clock === null ? null : new BigInt64Array(data.clock);
const now = clockView === null ? Date.now : () => readSharedClock(clockView);
const statsView = new BigInt64Array(data.stats);
let store: WebhookStore | undefined;
let dispatcher: WebhookDispatcher | undefined;
let publisher: NodeJS.Timeout | undefined;
let stopping: Promise<void> | undefined;

const publish = () => dispatcher && writeSharedStats(statsView, dispatcher.stats());

/** Attempts in flight finish, the checkpoint is saved and the lease released (the dispatcher's stop), then the files close. */
async function stop(starting: Promise<void>): Promise<void> {
  await starting.catch(() => undefined);
  clearInterval(publisher);
  await dispatcher?.stop();
  publish();
  await store?.close();
  logReader.close();
  streams.close();
  port.close();
}

// A failure to start ends the thread (an unhandled rejection): the event loop starts it again later.
const starting = (async () => {
  store = await openWebhookStore(data.store);
  const logger = pino({ level: data.logLevel, base: { pid: process.pid, component: 'webhooks' } });
  dispatcher = new WebhookDispatcher(store, log, data.webhooks, now, logger, Math.random, data.owner);
  if (stopping) return;
  await dispatcher.start();
  publish();
  publisher = setInterval(publish, STATS_PUBLISH_INTERVAL_MS);
  send({ type: 'started' });
})();

port.on('message', (request: DispatcherThreadRequest) => {
  if (request.type === 'committed') logReader.notifyCommitted(request.head);
  else if (request.type === 'wake') dispatcher?.wake();
  else stopping ??= stop(starting);
});
