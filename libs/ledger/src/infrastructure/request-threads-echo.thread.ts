import { parentPort } from 'node:worker_threads';

/**
 * A request thread for the RequestThreads spec: answers `{id}` with `{id, echoed}`, leaves on
 * 'close', and stops by itself on `{stop: true}` (as a thread that fails would) without answering.
 */
parentPort!.on('message', (request: { id: number; stop?: boolean } | 'close') => {
  if (request === 'close') {
    parentPort!.close();
    return;
  }
  if (request.stop) process.exit(0);
  parentPort!.postMessage({ id: request.id, echoed: true });
});
