#!/usr/bin/env node
// Verifies a credit-ledger audit export on its own: no dependency but Node, nothing from the project.
// Usage: node verify-audit-export.mjs <export.jsonl> <public-key.pem | keys.json> [--head <archived-head.json>]...
//   keys.json: the body of GET /v1/audit/keys. An archived head: a body of GET /v1/accounts/{id}/audit/head
//   saved earlier; the export must contain exactly that event at that revision.
// Prints "OK ..." and exits 0, or "FAIL revision N: reason" and exits 1 (2 on bad usage).
// The canonical bytes and the signature are specified in docs/audit.md.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const GENESIS = '0'.repeat(64);

function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function eventHash(line, position, revision, previousAccountHash) {
  const metadata = line.metadata ?? {};
  const global = line.previousGlobalHash;
  const bytes = canonical({
    data: line.data,
    eventId: line.eventId,
    metadata,
    position: global === null ? null : position,
    previousAccountHash,
    previousGlobalHash: global,
    recordedAt: metadata.recordedAt ?? null,
    revision,
    schemaVersion: metadata.schemaVersion ?? null,
    streamId: line.streamId,
    type: line.type,
  });
  return createHash('sha256').update(bytes, 'utf8').digest('hex');
}

function loadKeys(file) {
  const text = readFileSync(file, 'utf8');
  if (text.trimStart().startsWith('-----BEGIN')) {
    const key = createPublicKey(text);
    const keyId = `ed25519:${createHash('sha256')
      .update(key.export({ type: 'spki', format: 'der' }))
      .digest('hex')
      .slice(0, 16)}`;
    return new Map([[keyId, { key, validFrom: null, validUntil: null }]]);
  }
  const listed = JSON.parse(text).keys ?? [];
  return new Map(listed.map((entry) => [entry.keyId, { key: createPublicKey(entry.publicKey), validFrom: entry.validFrom, validUntil: entry.validUntil }]));
}

function checkSignature(head, keys, what) {
  if (!head.signature || !head.keyId) return `${what} is not signed`;
  const known = keys.get(head.keyId);
  if (!known) return `${what} is signed with an unknown key ${head.keyId}`;
  const { signature, kind: _line, ...unsigned } = head; // an export's last line adds "kind": "head"
  if (!verify(null, Buffer.from(canonical(unsigned), 'utf8'), known.key, Buffer.from(signature, 'base64'))) return `${what}: bad signature`;
  const signedAt = Date.parse(head.signedAt);
  if ((known.validFrom && signedAt < Date.parse(known.validFrom)) || (known.validUntil && signedAt > Date.parse(known.validUntil)))
    return `${what} was signed at ${head.signedAt}, outside the validity of key ${head.keyId}`;
  return undefined;
}

/** Walks the event lines; returns [revision, reason] of the first bad one, or the last event. */
function checkEvents(events, archived) {
  let previous;
  for (const line of events) {
    const expected = previous ? previous.line.revision + 1 : line.revision;
    const link = previous ? previous.line.hash : line.previousAccountHash;
    if (line.revision > expected) return { bad: [expected, `missing (the export jumps from revision ${expected - 1} to ${line.revision})`] };
    if (line.revision < expected) return { bad: [line.revision, `reordered (revision ${line.revision} comes after revision ${expected - 1})`] };
    if (!previous && line.revision === 0 && line.previousAccountHash !== GENESIS)
      return { bad: [0, 'changed (revision 0 does not start at the genesis hash)'] };
    if (eventHash(line, line.position, line.revision, link) !== line.hash || line.previousAccountHash !== link) {
      if (previous && eventHash(line, previous.line.position, line.revision - 1, previous.linkBefore) === line.hash)
        return { bad: [previous.line.revision, 'inserted (the events after it were recorded one revision earlier)'] };
      return { bad: [line.revision, 'changed (its content or links do not match its hash)'] };
    }
    const head = archived.find((entry) => entry.revision === line.revision);
    if (head && head.hash !== line.hash) return { bad: [line.revision, `differs from the archived head signed at ${head.signedAt}`] };
    previous = { line, linkBefore: link };
  }
  return { last: previous?.line };
}

function main(argv) {
  const [exportFile, keyFile, ...rest] = argv;
  if (!exportFile || !keyFile) return [2, 'usage: verify-audit-export.mjs <export.jsonl> <public-key.pem|keys.json> [--head <archived-head.json>]...'];
  const keys = loadKeys(keyFile);
  const archived = [];
  for (let index = 0; index < rest.length; index += 2) {
    if (rest[index] !== '--head' || !rest[index + 1]) return [2, `unexpected argument ${rest[index]}`];
    archived.push(JSON.parse(readFileSync(rest[index + 1], 'utf8')));
  }
  const lines = readFileSync(exportFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
  const header = lines[0];
  if (header?.kind !== 'export') return [1, 'FAIL: the export has no header line'];
  for (const head of archived) {
    const problem = checkSignature(head, keys, `the archived head at revision ${head.revision}`);
    if (problem) return [1, `FAIL: ${problem}`];
    if (head.accountId !== header.accountId) return [1, `FAIL: the archived head is of account ${head.accountId}, the export of ${header.accountId}`];
  }
  const events = lines.filter((line) => line.kind === 'event');
  const { bad, last } = checkEvents(events, archived);
  if (bad) return [1, `FAIL revision ${bad[0]}: ${bad[1]}`];
  const end = last ? last.revision : header.fromRevision - 1;
  const beyond = archived.filter((head) => head.revision > end && (header.toRevision === null || head.revision <= header.toRevision));
  if (beyond.length > 0)
    return [
      1,
      `FAIL revision ${end + 1}: missing (an archived head signed at ${beyond[0].signedAt} is at revision ${beyond[0].revision}; the export ends at ${end})`,
    ];
  const head = lines[lines.length - 1];
  if (head?.kind !== 'head') return [1, `FAIL revision ${end + 1}: missing (the export does not end with a signed head: cut short)`];
  const problem = checkSignature(head, keys, 'the export’s head');
  if (problem) return [1, `FAIL: ${problem}`];
  if (head.accountId !== header.accountId || head.revision !== last?.revision || head.hash !== last?.hash)
    return [1, `FAIL revision ${last?.revision}: the signed head (revision ${head.revision}, ${head.hash}) is not the export’s last event`];
  const covered = archived.filter((entry) => entry.revision >= (events[0]?.revision ?? 0) && entry.revision <= end).length;
  return [
    0,
    `OK ${header.accountId}: revisions ${events[0]?.revision}..${end} (${events.length} events), head signed by ${head.keyId} at ${head.signedAt}; ${covered} archived head(s) matched`,
  ];
}

try {
  const [code, message] = main(process.argv.slice(2));
  process.stdout.write(`${message}\n`);
  process.exitCode = code;
} catch (error) {
  process.stdout.write(`FAIL: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
