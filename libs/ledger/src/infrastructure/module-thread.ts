import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { Worker, WorkerOptions, workerData } from 'node:worker_threads';

/**
 * Loads a TypeScript module of this code base in a worker thread of the test runner, which runs
 * the sources (no build): TypeScript's own transpiler on each `.ts` file, and the
 * `@credit-ledger/<lib>` aliases mapped to `libs/<lib>/src`. Shipped as source text (`eval`).
 */
function sourceThreadMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const Module = require('node:module') as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  const ts = require(workerData.typescriptPath) as typeof import('typescript');
  const root: string = workerData.root;
  const resolve = Module._resolveFilename;
  Module._resolveFilename = (request: string, ...rest: unknown[]) => {
    const alias = /^@credit-ledger\/([a-z-]+)(\/.+)?$/.exec(request);
    return resolve(alias ? path.join(root, 'libs', alias[1], 'src', alias[2] ?? '') : request, ...rest);
  };
  const crypto = require('node:crypto') as typeof import('node:crypto');
  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, experimentalDecorators: true };
  // Transpiled files are kept by their path and text: a thread that loads a library's whole index
  // starts in well under a second after the first, instead of transpiling every file again.
  const cacheDir = path.join(root, 'node_modules', '.cache', 'credit-ledger-source-threads');
  const transpiled = (file: string): string => {
    const source = fs.readFileSync(file, 'utf8');
    const cached = path.join(cacheDir, `${crypto.createHash('sha1').update(file).update('\0').update(source).digest('hex')}.js`);
    try {
      return fs.readFileSync(cached, 'utf8');
    } catch {
      const output = ts.transpileModule(source, { compilerOptions, fileName: file }).outputText;
      try {
        fs.mkdirSync(cacheDir, { recursive: true });
        // Written aside, then renamed: a thread starting meanwhile never reads half a file.
        const partial = `${cached}.${process.pid}.${crypto.randomUUID()}`;
        fs.writeFileSync(partial, output);
        fs.renameSync(partial, cached);
      } catch {
        // a cache that cannot be written only costs time
      }
      return output;
    }
  };
  (require as unknown as { extensions: Record<string, (module: { _compile(code: string, file: string): void }, file: string) => void> }).extensions['.ts'] = (
    module,
    file,
  ) => module._compile(transpiled(file), file);
  require(workerData.entry);
}

/**
 * A worker thread running `modulePath` (a path without its extension, next to the caller): the
 * compiled `.js` in a build, the `.ts` through the transpiler when the code runs from its sources.
 */
export function moduleThread(modulePath: string, options: WorkerOptions = {}): Worker {
  if (!__filename.endsWith('.ts')) return new Worker(`${modulePath}.js`, { ...options, workerData: { payload: options.workerData } });
  const root = __filename.slice(0, __filename.lastIndexOf('/libs/'));
  const bootstrap = { root, entry: `${modulePath}.ts`, typescriptPath: require.resolve('typescript') };
  return new Worker(`(${sourceThreadMain.toString()})();`, { ...options, eval: true, workerData: { ...bootstrap, payload: options.workerData } });
}

/** In a thread started by `moduleThread`: the `workerData` it was given. */
export function moduleThreadData<T>(): T {
  return (workerData as { payload: T }).payload;
}

/** The nice value of threads doing background work (heavy reads): under contention the event loop (nice 0) gets the CPU first. */
export const BACKGROUND_THREAD_NICE = 10;
/**
 * The nice value of the threads that follow the log (the read models' projector, the webhook
 * dispatcher). Every commit wakes them; at nice 0 a woken follower often took the core from the
 * event loop mid-request on a busy machine (docs/BENCHMARKS.md: under heavy reads, a consumption's
 * p99 went from 46–52 ms to 38–50 ms; nice 5 did not help). They get the CPU the requests leave,
 * which on a machine with room to spare is all they need; readers that need their own writes
 * pass minPosition.
 */
export const FOLLOWER_THREAD_NICE = 10;

/**
 * Lowers the calling thread's scheduling priority (BACKGROUND_THREAD_NICE unless told), where the
 * system allows it (Linux: a thread is a task with its own id, found through /proc/thread-self).
 * Where it does not, the thread keeps the process's priority.
 */
export function lowerThreadPriority(nice = BACKGROUND_THREAD_NICE): void {
  try {
    const taskId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(taskId) && taskId > 0) setPriority(taskId, nice);
  } catch {
    // not Linux, or not allowed: the same priority as the event loop
  }
}
