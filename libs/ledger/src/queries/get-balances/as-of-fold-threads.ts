import { join } from 'node:path';
import { RequestThreads } from '../../infrastructure/request-threads';
import { balancesWithForecastView } from '../../views/balances.view';

/** Fold threads per process: the heavy-read limit lets 4 run at once, and the machine's other core serves the event loop. */
export const AS_OF_FOLD_THREADS = 2;

export interface AsOfFoldRequest {
  readonly id: number;
  readonly accountId: string;
  /** An ISO instant (normalised by the caller). */
  readonly asOf: string;
}

export type AsOfFoldReply =
  | { readonly id: number; readonly open: false }
  | {
      readonly id: number;
      readonly open: true;
      readonly revision: number;
      readonly position: number;
      readonly view: ReturnType<typeof balancesWithForecastView>;
    }
  | { readonly id: number; readonly failed: string };

export type AsOfFoldAnswer = Exclude<AsOfFoldReply, { failed: string }>;

/**
 * `GET …/balances?asOf=` on a SQLite store, off the event loop: threads that read the account's
 * events from the file and fold them, returning only the balances view. An account always goes to
 * the same thread, whose snapshots then serve its next requests. A thread that fails answers
 * `undefined` from then on: the caller folds on the event loop instead (same code, same answer).
 */
export class AsOfFoldThreads {
  private readonly threads: RequestThreads<Omit<AsOfFoldRequest, 'id'>, AsOfFoldReply>;

  constructor(file: string, threads = AS_OF_FOLD_THREADS) {
    this.threads = new RequestThreads(join(__dirname, 'as-of-fold.thread'), { file }, threads);
  }

  /** The fold's answer, or `undefined` when no thread could give it (fold on the event loop then). */
  async fold(accountId: string, asOf: string): Promise<AsOfFoldAnswer | undefined> {
    const reply = await this.threads.request({ accountId, asOf }, hashOf(accountId) % this.threads.size);
    return reply === undefined || 'failed' in reply ? undefined : reply;
  }

  close(): Promise<void> {
    return this.threads.close();
  }
}

/** A small stable hash of an account id (FNV-1a), to keep an account on one thread. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}
