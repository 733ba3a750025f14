/** The ledger's notion of now, injectable so scenario tests can control time. */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

export const LEDGER_CLOCK = Symbol('LEDGER_CLOCK');
