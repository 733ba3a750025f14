/** Stored data this version cannot read (corrupted row, unknown type, newer schema); names the position. */
export class UnreadableEventError extends Error {
  constructor(
    readonly position: number,
    message: string,
  ) {
    super(message);
    this.name = 'UnreadableEventError';
  }
}

/** A stream kept changing under every attempt of read → decide → append; the request may be retried. */
export class ConcurrencyRetriesExhaustedError extends Error {
  constructor(
    readonly streamOwner: string,
    readonly attempts: number,
  ) {
    super(`account ${streamOwner} kept changing under ${attempts} attempts; retry the request`);
    this.name = 'ConcurrencyRetriesExhaustedError';
  }
}
