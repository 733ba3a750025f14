import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { CLI_ENTRY, exited, freePort, SERVER_ENTRY, SERVER_START_TIMEOUT_MS } from './server-process';

/** One API process of a multi-instance deployment, restartable on its port. */
export class ApiInstance {
  child: ChildProcess | undefined;
  /** Everything the process wrote on stdout (its shutdown report among it). */
  stdout = '';

  private constructor(
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async create(env: NodeJS.ProcessEnv): Promise<ApiInstance> {
    return new ApiInstance(await freePort(), env);
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the built server and waits until /health/ready answers 200. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [SERVER_ENTRY], {
      env: { ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', process.env.SERVER_STDOUT ? 'inherit' : 'ignore'],
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      if (process.env.SERVER_STDOUT) process.stdout.write(chunk);
    });
    this.child = child;
    const deadline = Date.now() + SERVER_START_TIMEOUT_MS * 2;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      const ready = await fetch(`${this.base}/health/ready`).then(
        (res) => res.ok,
        () => false,
      );
      if (ready) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    throw new Error('server did not become ready');
  }

  /** SIGTERM, then the exit code (the drain is in the process's stdout). */
  async terminate(): Promise<number | null> {
    const child = this.child!;
    child.kill('SIGTERM');
    await exited(child);
    return child.exitCode;
  }

  async kill(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGKILL');
    await exited(this.child);
  }
}

/** Runs the built CLI with `env`; stdout, stderr and the exit code. */
export function runCli(env: NodeJS.ProcessEnv, ...args: string[]) {
  const result = spawnSync(process.execPath, [CLI_ENTRY, ...args], { env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The sum of a metric's samples whose labels include `labels` (Prometheus text format). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries([...(match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((label) => [label[1], label[2]]));
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) sum += Number(match[4]);
  }
  return sum;
}
