import { Caller } from '@credit-ledger/domain';

/** Closes every cycle of the account that ended at or before `upTo` (bounded per append; see `more`). */
export class RunScheduledResetsCommand {
  constructor(
    readonly accountId: string,
    readonly upTo: string,
    readonly dryRun: boolean,
    readonly caller: Caller,
  ) {}
}
