import { Caller } from '@credit-ledger/domain';

/** A validated refund body (HTTP or Kafka) -> the command's data. */
export function toRefundData(dto: { refundId: string; consumptionId: string; credits?: number | null; reason: string }) {
  return { refundId: dto.refundId, consumptionId: dto.consumptionId, credits: dto.credits ?? undefined, reason: dto.reason };
}

export class RefundCreditsCommand {
  constructor(
    readonly accountId: string,
    readonly data: { readonly refundId: string; readonly consumptionId: string; readonly credits?: number; readonly reason: string },
    readonly caller: Caller,
  ) {}
}
