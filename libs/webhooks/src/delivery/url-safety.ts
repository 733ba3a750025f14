import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { MAX_WEBHOOK_URL_LENGTH } from '../limits';

export interface UrlPolicy {
  readonly allowHttp: boolean;
  readonly allowPrivate: boolean;
}

/** Why a target is refused (the `reason` of a 400 WEBHOOK_URL_NOT_ALLOWED, and of a failed attempt). */
export class UrlNotAllowedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UrlNotAllowedError';
  }
}

/** The URL cannot be parsed or is too long (400 VALIDATION_FAILED). */
export class MalformedUrlError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'MalformedUrlError';
  }
}

/** Loopback, private, shared (CGNAT), link-local (cloud metadata at 169.254.169.254), multicast, reserved and unspecified ranges. */
const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local, including fd00:ec2::254 (AWS metadata over IPv6)
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const high = parseInt(hex[1], 16);
  const low = parseInt(hex[2], 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family !== 6) return true;
  const inner = embeddedIpv4(address);
  if (inner !== undefined) return BLOCKED.check(inner, 'ipv4');
  return BLOCKED.check(address, 'ipv6');
}

/** Syntax and scheme only (no DNS): what registration checks before resolving. */
export function parseWebhookUrl(text: string, policy: UrlPolicy): URL {
  if (text.length > MAX_WEBHOOK_URL_LENGTH) throw new MalformedUrlError(`at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new MalformedUrlError('not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UrlNotAllowedError(`the scheme must be https, got ${url.protocol.replace(':', '')}`);
  if (url.protocol === 'http:' && !policy.allowHttp) throw new UrlNotAllowedError('the scheme must be https (LEDGER_WEBHOOKS_ALLOW_HTTP=true allows http)');
  if (url.username !== '' || url.password !== '') throw new UrlNotAllowedError('credentials in the URL are not allowed');
  if (url.hash !== '') throw new UrlNotAllowedError('a fragment is not allowed');
  return url;
}

function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

export interface ResolvedTarget {
  readonly url: URL;
  /** The address the request connects to: the one that was checked. */
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * Resolves the URL's host and checks every address it resolves to (a name with one private address
 * among public ones is refused). Called at registration and again before every delivery, and the
 * request connects to the checked address: a name re-pointed at a private address later (DNS
 * rebinding) is refused at that delivery.
 */
export async function resolveTarget(text: string, policy: UrlPolicy): Promise<ResolvedTarget> {
  const url = parseWebhookUrl(text, policy);
  const host = hostOf(url);
  const literal = isIP(host);
  let addresses: { address: string; family: number }[];
  if (literal !== 0) addresses = [{ address: host, family: literal }];
  else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch (e) {
      throw new UrlNotAllowedError(`the host ${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (addresses.length === 0) throw new UrlNotAllowedError(`the host ${host} does not resolve`);
  }
  if (!policy.allowPrivate) {
    const blocked = addresses.find((candidate) => isBlockedAddress(candidate.address));
    if (blocked) {
      throw new UrlNotAllowedError(
        `${host} resolves to ${blocked.address}: loopback, private, link-local and metadata addresses are refused (LEDGER_WEBHOOKS_ALLOW_PRIVATE=true allows them)`,
      );
    }
  }
  return { url, address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}
