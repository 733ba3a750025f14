import { EventEmitter } from 'node:events';
import { Client, ClientConfig } from 'pg';
import { PG_NOTIFY_CHANNEL } from './postgres-sql';

/** Safety-net poll while LISTEN is connected (a lost notification costs at most this). */
export const PG_NOTIFY_SAFETY_POLL_MS = 2_000;
/** Poll interval while the LISTEN connection is down (the fallback). */
export const PG_FALLBACK_POLL_INTERVAL_MS = 250;
export const PG_LISTEN_RECONNECT_DELAY_MS = 500;
/** Upper bound of a configured poll interval. */
export const PG_MAX_POLL_INTERVAL_MS = 600_000;

/** Emitted head that wakes every waiter, whatever it waits for: they look at the log again. */
const WAKE_ALL = Number.MAX_SAFE_INTEGER;

/**
 * Wakes live subscribers when events are committed: by our own commits, by NOTIFY on one LISTEN
 * connection (other processes' commits), and by polling as the fallback while that connection is
 * down. The connection is opened by the first subscription and reconnects after a loss.
 */
export class PostgresLiveNotifications {
  private listener: Client | undefined;
  private listenerConnecting: Promise<void> | undefined;
  private listenerWanted = false;
  private closed = false;
  private readonly committed = new EventEmitter();
  /** Highest head position seen committed (own commits and NOTIFY payloads). */
  private knownHead = 0;

  constructor(
    private readonly clientConfig: ClientConfig,
    private readonly notifySafetyPollMs: number,
  ) {
    this.committed.setMaxListeners(0);
  }

  /** `notify` while the LISTEN connection is up, `polling` otherwise (and before any subscription). */
  liveMode(): 'notify' | 'polling' {
    return this.listener ? 'notify' : 'polling';
  }

  /** Backend pid of the LISTEN connection (tests cut it with pg_terminate_backend). */
  listenerProcessId(): number | undefined {
    return (this.listener as unknown as { processID?: number } | undefined)?.processID;
  }

  /** A subscriber wants to hear of commits: LISTEN from now on. */
  startListening(): void {
    this.listenerWanted = true;
    void this.ensureListener();
  }

  /** A head we know was committed (our own commit or a NOTIFY): remembered, so a waiter that arms just after it still sees it. */
  noteHead(head: number): void {
    if (head > this.knownHead) this.knownHead = head;
    this.committed.emit('committed', head);
  }

  /** Resolves when events after `position` may exist, after the poll interval, or when stopped. */
  waitForEventsAfter(position: number, stopped: Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      // A commit announced while the empty read was in flight: no need to wait for the next one.
      if (this.knownHead > position) return resolve();
      const finish = () => {
        clearTimeout(timer);
        this.committed.off('committed', onCommit);
        resolve();
      };
      const onCommit = (head: number) => head > position && finish();
      const timer = setTimeout(finish, this.listener ? this.notifySafetyPollMs : PG_FALLBACK_POLL_INTERVAL_MS);
      this.committed.on('committed', onCommit);
      void stopped.then(finish);
    });
  }

  /** One LISTEN connection per store; reconnects after a loss while polling covers the gap. */
  private ensureListener(): Promise<void> {
    if (this.closed || !this.listenerWanted || this.listener) return Promise.resolve();
    if (this.listenerConnecting) return this.listenerConnecting;
    this.listenerConnecting = this.connectListener().finally(() => {
      this.listenerConnecting = undefined;
    });
    return this.listenerConnecting;
  }

  private async connectListener(): Promise<void> {
    const client = new Client(this.clientConfig);
    let gone = false;
    const lost = () => {
      if (gone) return;
      gone = true;
      if (this.listener === client) this.listener = undefined;
      client.end().catch(() => undefined);
      // Wake waiters so they re-arm with the fallback interval, then try again.
      this.committed.emit('committed', WAKE_ALL);
      if (!this.closed) setTimeout(() => void this.ensureListener(), PG_LISTEN_RECONNECT_DELAY_MS).unref();
    };
    client.on('error', lost);
    client.on('notification', (notification) => {
      const head = Number(notification.payload);
      if (Number.isFinite(head)) this.noteHead(head);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${PG_NOTIFY_CHANNEL}`);
      if (this.closed) {
        await client.end();
        return;
      }
      this.listener = client;
      client.on('end', lost);
      // Events committed while we were not listening: let waiters look.
      this.committed.emit('committed', WAKE_ALL);
    } catch {
      lost();
    }
  }

  /** Stops listening for good and ends the LISTEN connection. */
  async close(): Promise<void> {
    this.closed = true;
    const listener = this.listener;
    this.listener = undefined;
    if (this.listenerConnecting) await this.listenerConnecting.catch(() => undefined);
    await listener?.end();
  }
}
