import { createHash } from 'node:crypto';
import type { EventMetadata } from '../event-store.port';

/**
 * The hash chains (docs/audit.md is the specification). Every event's hash is SHA-256 over the
 * UTF-8 bytes of one canonical JSON object (RFC 8785 / JCS: keys sorted by UTF-16 code units, no
 * whitespace, strings and numbers as ECMAScript's JSON.stringify writes them):
 *
 *   {"data":…,"eventId":…,"metadata":…,"position":…,"previousAccountHash":…,"previousGlobalHash":…,
 *    "recordedAt":…,"revision":…,"schemaVersion":…,"streamId":…,"type":…}
 *
 * `previousAccountHash` is the hash of the event before it in its stream, `previousGlobalHash` the
 * hash of the event before it in the global log; the first of each chain points at GENESIS_HASH.
 * `recordedAt` and `schemaVersion` repeat the metadata's fields (null when absent).
 */
export const GENESIS_HASH = '0'.repeat(64);
export const HASH_HEX_LENGTH = 64;

/** What the hash covers. */
export interface HashedEventFields {
  readonly streamId: string;
  readonly revision: number;
  /** null where the store hashes no position (EventStoreDB). */
  readonly position: number | null;
  readonly eventId: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata | Record<string, unknown>;
  readonly previousAccountHash: string;
  /** null where the store keeps no global chain (EventStoreDB). */
  readonly previousGlobalHash: string | null;
}

/** Canonical JSON (RFC 8785 for the JSON values the ledger stores): sorted keys, undefined dropped. */
export function canonicalJson(value: unknown): string {
  const text = JSON.stringify(sortKeys(value));
  if (text === undefined) throw new TypeError('not a JSON value');
  return text;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return sortKeys((value as { toJSON(): unknown }).toJSON());
    // A plain object, not a prototype-less one: V8 serialises objects of one shape several times
    // faster than dictionary-mode ones, and this runs for every appended event. A "__proto__" key is
    // defined, not assigned, so that it stays an ordinary key.
    const sorted: Record<string, unknown> = {};
    for (const key of sortedKeysOf(value)) {
      const field = (value as Record<string, unknown>)[key];
      if (field === undefined) continue;
      const canonical = field !== null && typeof field === 'object' ? sortKeys(field) : field;
      if (key === '__proto__') Object.defineProperty(sorted, key, { value: canonical, enumerable: true, writable: true, configurable: true });
      else sorted[key] = canonical;
    }
    return sorted;
  }
  return value;
}

/** Key lists remembered at most per first key, and first keys at most: bounded whatever the payloads. */
export const MAX_CACHED_SHAPES_PER_FIRST_KEY = 8;
export const MAX_CACHED_FIRST_KEYS = 1_024;
/** Object.keys lists met before, with their sorted order, by their first key. */
const sortedKeyOrders = new Map<string, { readonly keys: readonly string[]; readonly sorted: readonly string[] }[]>();

/**
 * `Object.keys(value).sort()`, remembered: the events of one type are objects of a few shapes, so
 * a list of keys equal (key by key, in order) to one met before reuses its sorted order instead
 * of sorting again. The same keys in the same order always sort the same, so the result is too.
 */
function sortedKeysOf(value: object): readonly string[] {
  const keys = Object.keys(value);
  if (keys.length < 2) return keys;
  let known = sortedKeyOrders.get(keys[0]);
  if (known !== undefined) {
    for (const shape of known) if (sameKeys(shape.keys, keys)) return shape.sorted;
  } else if (sortedKeyOrders.size < MAX_CACHED_FIRST_KEYS) sortedKeyOrders.set(keys[0], (known = []));
  const sorted = [...keys].sort();
  if (known !== undefined && known.length < MAX_CACHED_SHAPES_PER_FIRST_KEY) known.push({ keys, sorted });
  return sorted;
}

function sameKeys(first: readonly string[], second: readonly string[]): boolean {
  if (first.length !== second.length) return false;
  for (let index = 1; index < first.length; index++) if (first[index] !== second[index]) return false;
  return true;
}

/** The JSON text of the metadata's recordedAt and schemaVersion, as the canonical object holds them. */
export function chainMetadataFields(metadata: unknown): { recordedAt: string; schemaVersion: string } {
  const fields = (metadata ?? {}) as Record<string, unknown>;
  return {
    recordedAt: fields.recordedAt === undefined ? 'null' : canonicalJson(fields.recordedAt),
    schemaVersion: fields.schemaVersion === undefined ? 'null' : canonicalJson(fields.schemaVersion),
  };
}

/**
 * The canonical text from parts already in canonical form: the same concatenation the SQLite
 * writer and the PostgreSQL append function perform.
 */
export function canonicalEventText(parts: {
  dataJson: string;
  metadataJson: string;
  streamId: string;
  revision: number;
  position: number;
  eventId: string;
  type: string;
  previousAccountHash: string;
  previousGlobalHash: string;
}): string {
  const { recordedAt, schemaVersion } = chainMetadataFields(JSON.parse(parts.metadataJson));
  return (
    `{"data":${parts.dataJson},"eventId":${JSON.stringify(parts.eventId)},"metadata":${parts.metadataJson},` +
    `"position":${parts.position},"previousAccountHash":"${parts.previousAccountHash}","previousGlobalHash":"${parts.previousGlobalHash}",` +
    `"recordedAt":${recordedAt},"revision":${parts.revision},"schemaVersion":${schemaVersion},` +
    `"streamId":${JSON.stringify(parts.streamId)},"type":${JSON.stringify(parts.type)}}`
  );
}

/** The canonical bytes of an event (UTF-8), as docs/audit.md specifies them. */
export function canonicalEventBytes(fields: HashedEventFields): Buffer {
  const metadata = fields.metadata as Record<string, unknown>;
  return Buffer.from(
    canonicalJson({
      data: fields.data,
      eventId: fields.eventId,
      metadata,
      position: fields.position,
      previousAccountHash: fields.previousAccountHash,
      previousGlobalHash: fields.previousGlobalHash,
      recordedAt: metadata?.recordedAt ?? null,
      revision: fields.revision,
      schemaVersion: metadata?.schemaVersion ?? null,
      streamId: fields.streamId,
      type: fields.type,
    }),
    'utf8',
  );
}

/** SHA-256 of the canonical bytes, lowercase hex. */
export function eventHash(fields: HashedEventFields): string {
  return createHash('sha256').update(canonicalEventBytes(fields)).digest('hex');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
