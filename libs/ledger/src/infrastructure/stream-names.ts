/**
 * Stream names. EventStoreDB derives a stream's category from the text before the first dash,
 * so an id must never add a dash: dashes in account ids (UUIDs) are written as `~`, a character
 * account ids cannot contain, which keeps the mapping reversible.
 */
export const ACCOUNT_STREAM_PREFIX = 'account-';

export function accountStream(accountId: string): string {
  return ACCOUNT_STREAM_PREFIX + accountId.replace(/-/g, '~');
}

export function accountIdOfStream(streamId: string): string | undefined {
  if (!streamId.startsWith(ACCOUNT_STREAM_PREFIX)) return undefined;
  return streamId.slice(ACCOUNT_STREAM_PREFIX.length).replace(/~/g, '-');
}
