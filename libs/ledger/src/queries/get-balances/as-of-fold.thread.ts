import { parentPort } from 'node:worker_threads';
import { SqliteStreamReader } from '@credit-ledger/event-store';
import { lowerThreadPriority, moduleThreadData } from '../../infrastructure/module-thread';
import { accountStream } from '../../infrastructure/stream-names';
import { balancesWithForecastView } from '../../views/balances.view';
import { AsOfSnapshots, foldAsOf } from './as-of-snapshots';
import type { AsOfFoldReply, AsOfFoldRequest } from './as-of-fold-threads';

/**
 * A fold thread: reads an account's events from the SQLite file itself (read-only), decodes and
 * folds them with the domain's evolve, and sends back only the balances view. Keeps its own
 * checkpointed snapshots (an account always goes to the same thread).
 */
lowerThreadPriority();
const { file } = moduleThreadData<{ file: string }>();
const reader = new SqliteStreamReader(file);
const snapshots = new AsOfSnapshots();

async function answer(request: AsOfFoldRequest): Promise<AsOfFoldReply> {
  const stream = accountStream(request.accountId);
  const fold = await foldAsOf(snapshots, request.accountId, request.asOf, (from, limit) => reader.readStream(stream, from, limit));
  if (fold.state.status !== 'open') return { id: request.id, open: false };
  return { id: request.id, open: true, revision: fold.revision, position: fold.position, view: balancesWithForecastView(fold.state, Date.parse(request.asOf)) };
}

parentPort!.on('message', (request: AsOfFoldRequest | 'close') => {
  if (request === 'close') {
    reader.close();
    parentPort!.close();
    return;
  }
  answer(request).then(
    (reply) => parentPort!.postMessage(reply),
    (error: unknown) => parentPort!.postMessage({ id: request.id, failed: String(error) } satisfies AsOfFoldReply),
  );
});
