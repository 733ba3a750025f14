import { Client, ClientConfig } from 'pg';
import { AppendResult, EventToAppend, InvalidAppendError, WrongExpectedRevisionError, validateAppend } from '../event-store.port';
import { canonicalJson } from '../chain/event-hash';
import { isUniqueViolation } from './postgres-errors';
import { APPEND_GROUP_STATEMENT, AppendGroupRow, WRITER_SESSION_SETTINGS } from './postgres-sql';
import { GroupCommitObservation } from '../store-observer';

/** Appends that share one transaction and one WAL flush at most. */
export const PG_MAX_APPENDS_PER_GROUP_COMMIT = 2_000;
/** Events per group commit at most (a single larger append still commits alone). */
export const PG_MAX_EVENTS_PER_GROUP_COMMIT = 20_000;
/**
 * Writer connections, each with one group in flight. The head lock serializes their commits; a
 * second connection has its group sent, parsed and waiting on the lock while the first commits,
 * which hides the round trip and the parameter parsing. Queued appends are split between idle
 * writers so both stay busy.
 */
export const PG_WRITER_CONNECTIONS = 2;
/** A group that hit a unique violation (a writer that bypassed the head lock) is retried this often. */
export const PG_MAX_GROUP_RETRIES = 3;

export interface StreamAppend {
  readonly streamId: string;
  readonly expectedRevision: number;
  readonly events: readonly EventToAppend[];
}

export interface GroupCommitStats {
  readonly appends: number;
  readonly commits: number;
  readonly events: number;
}

/** An append checked and serialized, waiting for its group. */
interface PreparedAppend {
  readonly streamId: string;
  readonly expectedRevision: number;
  readonly eventIds: readonly string[];
  readonly types: readonly string[];
  readonly data: readonly string[];
  readonly metadata: readonly string[];
}

interface PendingAppend extends PreparedAppend {
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/** Several appends committed in one transaction, all or nothing (store copy). */
interface AtomicBatch {
  readonly atomic: true;
  readonly appends: PendingAppend[];
}

type QueueItem = PendingAppend | AtomicBatch;

interface Group {
  readonly appends: PendingAppend[];
  readonly atomic: boolean;
}

/**
 * Group commit on PG_WRITER_CONNECTIONS writer connections: appends queue up while a commit is in
 * flight and go together in the next transaction (one WAL flush for the group), each append
 * checked and applied all or nothing. `onCommitted` hears the new head after each commit.
 */
export class PostgresGroupCommit {
  private readonly writers: (Client | undefined)[] = new Array(PG_WRITER_CONNECTIONS).fill(undefined);
  private readonly writerBusy: boolean[] = new Array(PG_WRITER_CONNECTIONS).fill(false);
  private readonly inFlight = new Set<Promise<void>>();
  private queue: QueueItem[] = [];
  /** Streams with an append in a group being committed, and how many such appends. */
  private readonly streamsInFlight = new Map<string, number>();
  private counters = { appends: 0, commits: 0, events: 0 };

  constructor(
    private readonly clientConfig: ClientConfig,
    private readonly onCommitted: (head: number) => void,
    /** false only for the benchmark that measures what the hash chains cost. */
    private readonly hashing = true,
    /** Told of each committed group's size (metrics). */
    private readonly onGroup: (group: GroupCommitObservation) => void = () => undefined,
  ) {}

  stats(): GroupCommitStats {
    return { ...this.counters };
  }

  append(streamId: string, expectedRevision: number, events: readonly EventToAppend[]): Promise<AppendResult> {
    let prepared: PreparedAppend;
    try {
      prepared = prepareAppend(streamId, expectedRevision, events);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ ...prepared, resolve, reject });
      this.kick();
    });
  }

  /** Appends to several streams in ONE transaction, in the order given: all are written or none. */
  appendAtomically(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    let prepared: PreparedAppend[];
    try {
      prepared = prepareAtomicBatch(appends);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AppendResult[]>((resolve, reject) => {
      const results: AppendResult[] = new Array(prepared.length);
      let left = prepared.length;
      let failed = false;
      const members = prepared.map((append, index) => ({
        ...append,
        resolve: (result: AppendResult) => {
          results[index] = result;
          if (--left === 0 && !failed) resolve(results);
        },
        reject: (error: unknown) => {
          if (!failed) reject(error);
          failed = true;
        },
      }));
      this.queue.push({ atomic: true, appends: members });
      this.kick();
    });
  }

  /** Hands queued appends to idle writers: each takes its share of the queue as one group. */
  private kick(): void {
    for (let slot = 0; slot < PG_WRITER_CONNECTIONS && this.queue.length > 0; slot++) {
      if (this.writerBusy[slot]) continue;
      const idle = this.writerBusy.filter((busy) => !busy).length;
      const group = this.takeGroup(Math.ceil(this.queue.length / idle));
      if (group.appends.length === 0) return; // everything queued waits for a stream in flight; its end kicks again
      this.startCommit(slot, group);
    }
  }

  private startCommit(slot: number, group: Group): void {
    const streams = group.appends.map((append) => append.streamId);
    for (const stream of streams) this.streamsInFlight.set(stream, (this.streamsInFlight.get(stream) ?? 0) + 1);
    this.writerBusy[slot] = true;
    const run: Promise<void> = this.commitGroupWithRetry(slot, group)
      .catch((error: unknown) => {
        for (const append of group.appends) append.reject(error);
      })
      .finally(() => {
        for (const stream of streams) {
          const left = (this.streamsInFlight.get(stream) ?? 1) - 1;
          if (left === 0) this.streamsInFlight.delete(stream);
          else this.streamsInFlight.set(stream, left);
        }
        this.writerBusy[slot] = false;
        this.inFlight.delete(run);
        this.kick();
      });
    this.inFlight.add(run);
  }

  /**
   * Up to `share` queued appends, within the limits, in queue order; an atomic batch always
   * commits alone. Appends to a stream that the other writer has in flight stay queued (and so do
   * the later ones of that stream): two appends to one stream, sent without waiting for each
   * other, then commit in the order they were made, as on one connection — never reordered across
   * writers into a spurious conflict.
   */
  private takeGroup(share: number): Group {
    const blocked = new Set(this.streamsInFlight.keys());
    const appends: PendingAppend[] = [];
    const left: QueueItem[] = [];
    let atomic = false;
    let events = 0;
    for (const item of this.queue) {
      const full = atomic || appends.length >= Math.max(1, share) || appends.length >= PG_MAX_APPENDS_PER_GROUP_COMMIT;
      if ('atomic' in item) {
        if (!full && appends.length === 0 && item.appends.every((member) => !blocked.has(member.streamId))) {
          appends.push(...item.appends);
          atomic = true;
        } else {
          left.push(item);
          for (const member of item.appends) blocked.add(member.streamId);
        }
        continue;
      }
      const size = item.eventIds.length;
      if (!full && !blocked.has(item.streamId) && (appends.length === 0 || events + size <= PG_MAX_EVENTS_PER_GROUP_COMMIT)) {
        appends.push(item);
        events += size;
      } else {
        left.push(item);
        blocked.add(item.streamId);
      }
    }
    this.queue = left;
    return { appends, atomic };
  }

  private async commitGroupWithRetry(slot: number, group: Group): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        // After a lost race on the fast path, the general path decides under the lock.
        return await this.commitGroup(slot, group, attempt > 1);
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= PG_MAX_GROUP_RETRIES) throw error;
      }
    }
  }

  /**
   * One statement, one round trip: `ledger_append_group` (migration 2) locks the head, checks every
   * append, inserts the accepted ones, moves the head and notifies; autocommit makes it durable
   * (synchronous_commit=on) before the answer comes back.
   */
  private async commitGroup(slot: number, group: Group, general: boolean): Promise<void> {
    const client = await this.writerClient(slot);
    const { rows } = await client.query<AppendGroupRow>({ ...APPEND_GROUP_STATEMENT, values: [...groupParameters(group, general), this.hashing] });
    this.counters.commits++;
    const refused = rows.find((row) => row.outcome === 'conflict');
    if (group.atomic && refused) {
      // Nothing was written: the whole batch fails with its first conflict.
      const append = group.appends[refused.append_index - 1];
      throw new WrongExpectedRevisionError(append.streamId, append.expectedRevision, Number(refused.actual_revision));
    }
    const head = this.settle(group.appends, rows);
    this.onGroup({ appends: group.appends.length, events: group.appends.reduce((sum, append) => sum + append.eventIds.length, 0) });
    if (head > 0) this.onCommitted(head);
  }

  /** Answers each append of a committed group; returns the highest position written (0 if none). */
  private settle(appends: readonly PendingAppend[], rows: readonly AppendGroupRow[]): number {
    const outcomes = new Array<AppendGroupRow | undefined>(appends.length);
    for (const row of rows) outcomes[row.append_index - 1] = row;
    let head = 0;
    appends.forEach((append, index) => {
      const outcome = outcomes[index];
      if (!outcome) {
        append.reject(new Error(`ledger_append_group gave no outcome for append ${index + 1}`));
      } else if (outcome.outcome === 'conflict') {
        append.reject(new WrongExpectedRevisionError(append.streamId, append.expectedRevision, Number(outcome.actual_revision)));
      } else {
        const positions =
          outcome.outcome === 'write'
            ? Array.from({ length: append.eventIds.length }, (_, offset) => Number(outcome.first_position) + offset)
            : (outcome.positions ?? []).map(Number);
        if (outcome.outcome === 'write') {
          this.counters.appends++;
          this.counters.events += positions.length;
          head = Math.max(head, positions[positions.length - 1]);
        }
        append.resolve({ nextExpectedRevision: append.expectedRevision + append.eventIds.length, positions });
      }
    });
    return head;
  }

  /** The writer connection of `slot`, connected (and set up for group commits) on first use. */
  async writerClient(slot: number): Promise<Client> {
    const existing = this.writers[slot];
    if (existing) return existing;
    const client = new Client(this.clientConfig);
    client.on('error', () => this.dropWriter(slot, client));
    await client.connect();
    await client.query(WRITER_SESSION_SETTINGS);
    this.writers[slot] = client;
    return client;
  }

  private dropWriter(slot: number, client: Client): void {
    if (this.writers[slot] === client) this.writers[slot] = undefined;
    client.end().catch(() => undefined);
  }

  /** Waits until every group in flight is answered (appends queued meanwhile join them). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Ends the writer connections; call after drain(). */
  async close(): Promise<void> {
    const writers = this.writers.splice(0, this.writers.length);
    await Promise.allSettled(writers.map((writer) => writer?.end()));
  }
}

/**
 * The parameters of `ledger_append_group`. Payloads travel as two JSON arrays built by
 * concatenation (each element is already JSON text): no per-character escaping into a text[]
 * literal, one JSON parse on the server.
 */
function groupParameters(group: Group, general: boolean): unknown[] {
  const ids: string[] = [];
  const types: string[] = [];
  const data: string[] = [];
  const metadata: string[] = [];
  for (const append of group.appends) {
    for (let index = 0; index < append.eventIds.length; index++) {
      ids.push(append.eventIds[index]);
      types.push(append.types[index]);
      data.push(append.data[index]);
      metadata.push(append.metadata[index]);
    }
  }
  const streams = group.appends.map((append) => append.streamId);
  const expected = group.appends.map((append) => append.expectedRevision);
  const counts = group.appends.map((append) => append.eventIds.length);
  return [streams, expected, counts, ids, types, `[${data.join(',')}]`, `[${metadata.join(',')}]`, group.atomic, general];
}

function prepareAtomicBatch(appends: readonly StreamAppend[]): PreparedAppend[] {
  const total = appends.reduce((sum, append) => sum + append.events.length, 0);
  if (appends.length === 0 || appends.length > PG_MAX_APPENDS_PER_GROUP_COMMIT || total > PG_MAX_EVENTS_PER_GROUP_COMMIT) {
    throw new InvalidAppendError(`an atomic batch carries 1..${PG_MAX_APPENDS_PER_GROUP_COMMIT} appends and at most ${PG_MAX_EVENTS_PER_GROUP_COMMIT} events`);
  }
  const prepared = appends.map((append) => prepareAppend(append.streamId, append.expectedRevision, append.events));
  const streams = new Set<string>();
  for (const append of appends) {
    // Each stream once per batch keeps the revision check simple and the batch unambiguous.
    if (streams.has(append.streamId)) throw new InvalidAppendError(`stream ${append.streamId} appears twice in one atomic batch`);
    streams.add(append.streamId);
  }
  return prepared;
}

function prepareAppend(streamId: string, expectedRevision: number, events: readonly EventToAppend[]): PreparedAppend {
  validateAppend(streamId, expectedRevision, events);
  // PostgreSQL text cannot hold NUL; refuse it here so one bad append never fails its group.
  if (streamId.includes('\0')) throw new InvalidAppendError('stream id must not contain NUL');
  for (const event of events) {
    if (typeof event.eventId !== 'string' || event.eventId.length === 0 || event.eventId.includes('\0'))
      throw new InvalidAppendError('event ids are non-empty strings without NUL');
    if (typeof event.type !== 'string' || event.type.length === 0 || event.type.includes('\0'))
      throw new InvalidAppendError('event types are non-empty strings without NUL');
  }
  // Serialized here, so a payload that cannot be stored fails alone.
  return {
    streamId,
    expectedRevision,
    eventIds: events.map((event) => event.eventId),
    types: events.map((event) => event.type),
    data: events.map((event) => jsonText(event.data)),
    metadata: events.map((event) => jsonText(event.metadata)),
  };
}

/** Canonical JSON (sorted keys): the stored text is exactly what the event's hash covers. */
function jsonText(value: unknown): string {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol')
    throw new InvalidAppendError('event data and metadata must be JSON values');
  return canonicalJson(value);
}
