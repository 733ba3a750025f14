import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

/** How long `pg_ctl start` may take before we give up. */
export const CLUSTER_START_TIMEOUT_SECONDS = 60;
export const CLUSTER_SUPERUSER = 'postgres';
export const CLUSTER_MAX_CONNECTIONS = 300;

/**
 * A private PostgreSQL cluster for tests and benchmarks: `initdb` + `pg_ctl` on a free port under a
 * temp directory, from the machine's PostgreSQL binaries (Debian's `postgresql` package), removed
 * by `destroy()`. Durability settings are the server defaults (fsync=on, synchronous_commit=on):
 * the crash tests and benchmarks measure what a production server does.
 */
export class ThrowawayPostgresCluster {
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly binDir: string,
    readonly version: string,
    readonly startMs: number,
    private readonly runAs: string | undefined,
  ) {}

  /** Superuser URL of the cluster's default database. */
  get url(): string {
    return `postgresql://${CLUSTER_SUPERUSER}@127.0.0.1:${this.port}/postgres`;
  }

  static async start(log: (line: string) => void = () => undefined): Promise<ThrowawayPostgresCluster> {
    const binDir = findPostgresBinDir();
    const started = Date.now();
    const dir = mkdtempSync(join(tmpdir(), 'ledger-pg-'));
    const dataDir = join(dir, 'data');
    // initdb refuses to run as root; Debian's package creates the `postgres` system user for this.
    const runAs = process.getuid?.() === 0 ? 'postgres' : undefined;
    if (runAs) {
      const { uid, gid } = systemUser(runAs);
      chownSync(dir, uid, gid);
      chmodSync(dir, 0o700);
    }
    const run = (bin: string, args: string[]) => {
      const cmd = runAs ? 'runuser' : join(binDir, bin);
      const argv = runAs ? ['-u', runAs, '--', join(binDir, bin), ...args] : args;
      const outcome = spawnSync(cmd, argv, { encoding: 'utf8', cwd: dir });
      if (outcome.status !== 0) throw new Error(`${bin} failed (${outcome.status}): ${outcome.stderr || outcome.stdout}`);
      return outcome.stdout;
    };
    try {
      run('initdb', ['-D', dataDir, '-U', CLUSTER_SUPERUSER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
      const port = await freePort();
      writeFileSync(
        join(dataDir, 'postgresql.auto.conf'),
        [
          `port = ${port}`,
          `listen_addresses = '127.0.0.1'`,
          `unix_socket_directories = '${dir}'`,
          `max_connections = ${CLUSTER_MAX_CONNECTIONS}`,
          `shared_buffers = '256MB'`,
          `fsync = on`,
          `synchronous_commit = on`,
          `full_page_writes = on`,
          `max_wal_size = '2GB'`,
          `log_min_messages = warning`,
          '',
        ].join('\n'),
      );
      run('pg_ctl', pgCtlStartArgs(dir));
      const version = execFileSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
      const cluster = new ThrowawayPostgresCluster(dir, port, binDir, version, Date.now() - started, runAs);
      log(`${version} on 127.0.0.1:${port} (${dir}), started in ${cluster.startMs} ms`);
      return cluster;
    } catch (error) {
      const serverLog = join(dir, 'server.log');
      const tail = existsSync(serverLog) ? readFileSync(serverLog, 'utf8').slice(-2000) : '';
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`could not start a throwaway PostgreSQL cluster: ${(error as Error).message}${tail ? `\n${tail}` : ''}`, { cause: error });
    }
  }

  /**
   * Stops the server and leaves its data: `fast` disconnects every client and shuts down cleanly,
   * `immediate` is a crash (no shutdown checkpoint; the next start replays the WAL).
   */
  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    const outcome = this.pgCtl(['-D', join(this.dir, 'data'), '-m', mode, '-w', 'stop']);
    if (outcome.status !== 0) throw new Error(`pg_ctl stop failed (${outcome.status}): ${outcome.output}`);
  }

  /** Starts a stopped server again on the same port and data. */
  restart(): void {
    const outcome = this.pgCtl(pgCtlStartArgs(this.dir));
    if (outcome.status !== 0) throw new Error(`pg_ctl start failed (${outcome.status}): ${outcome.output}`);
  }

  /** Stops the server (fast shutdown) and removes its directory. */
  destroy(): void {
    this.pgCtl(['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop']);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private pgCtl(args: string[]): { status: number | null; output: string } {
    const pgCtl = join(this.binDir, 'pg_ctl');
    const outcome = this.runAs
      ? spawnSync('runuser', ['-u', this.runAs, '--', pgCtl, ...args], { encoding: 'utf8', cwd: this.dir })
      : spawnSync(pgCtl, args, { encoding: 'utf8', cwd: this.dir });
    return { status: outcome.status, output: `${outcome.stdout ?? ''}${outcome.stderr ?? ''}` };
  }
}

/** `pg_ctl` arguments that start the cluster under `dir` (data in `dir/data`, log in `dir/server.log`) and wait for it. */
function pgCtlStartArgs(dir: string): string[] {
  return ['-D', join(dir, 'data'), '-l', join(dir, 'server.log'), '-w', '-t', String(CLUSTER_START_TIMEOUT_SECONDS), 'start'];
}

/** PG_BIN_DIR, else the newest /usr/lib/postgresql/<major>/bin (Debian), else the PATH's pg_ctl. */
export function findPostgresBinDir(): string {
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, 'initdb'))) throw new Error(`PG_BIN_DIR=${fromEnv} has no initdb`);
    return fromEnv;
  }
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const majors = readdirSync(debianRoot)
      .filter((dir) => /^\d+$/.test(dir) && existsSync(join(debianRoot, dir, 'bin', 'initdb')))
      .sort((left, right) => Number(right) - Number(left));
    if (majors.length > 0) return join(debianRoot, majors[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return join(which.stdout.trim(), '..');
  throw new Error("PostgreSQL server binaries not found: install Debian's `postgresql` package, set PG_BIN_DIR, or set DATABASE_URL");
}

function systemUser(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith(`${name}:`));
  if (!line) throw new Error(`running as root needs the "${name}" system user to run initdb (Debian's postgresql package creates it)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
