import { Caller, ConsumeCreditsData } from '@credit-ledger/domain';

/** Why one item of a batch is invalid: field paths relative to the item. */
export interface InvalidBatchItem {
  readonly problems: readonly { readonly field: string; readonly reason: string }[];
}

/** One item as the transport validated it: the consumption, or why it is invalid (answered 400 alone). */
export type BatchItem = { readonly data: ConsumeCreditsData } | InvalidBatchItem;

export class ConsumeCreditsBatchCommand {
  constructor(
    readonly accountId: string,
    readonly items: readonly BatchItem[],
    readonly caller: Caller,
  ) {}

  /** Items already validated with ConsumeCreditsDto by the caller (the Kafka ingestor). */
  static ofValidated(accountId: string, items: readonly ConsumeCreditsData[], caller: Caller): ConsumeCreditsBatchCommand {
    return new ConsumeCreditsBatchCommand(
      accountId,
      items.map((data) => ({ data })),
      caller,
    );
  }
}
