import { Caller, ConsumeCreditsData } from '@credit-ledger/domain';

export class ConsumeCreditsBatchCommand {
  constructor(
    readonly accountId: string,
    /** Raw items (HTTP bodies): each is validated on its own, a bad one answers 400 alone. */
    readonly items: readonly unknown[],
    readonly caller: Caller,
    /** Items already validated with ConsumeCreditsDto by the caller (the Kafka ingestor): not validated twice. */
    readonly validated?: readonly ConsumeCreditsData[],
  ) {}

  static ofValidated(accountId: string, items: readonly ConsumeCreditsData[], caller: Caller): ConsumeCreditsBatchCommand {
    return new ConsumeCreditsBatchCommand(accountId, items, caller, items);
  }
}
