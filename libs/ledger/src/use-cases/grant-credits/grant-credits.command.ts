import { Caller } from '@credit-ledger/domain';

/** A validated grant body (HTTP or Kafka) -> the command's data. */
export function toGrantData(dto: {
  grantId: string;
  creditType: string;
  credits: number;
  reason: string;
  expiresAt?: string | null;
  priority?: number | null;
}) {
  return {
    grantId: dto.grantId,
    creditType: dto.creditType,
    credits: dto.credits,
    reason: dto.reason,
    expiresAt: dto.expiresAt ? new Date(dto.expiresAt).toISOString() : undefined,
    priority: dto.priority ?? undefined,
  };
}

export class GrantCreditsCommand {
  constructor(
    readonly accountId: string,
    readonly data: {
      readonly grantId: string;
      readonly creditType: string;
      readonly credits: number;
      readonly reason: string;
      readonly expiresAt?: string;
      readonly priority?: number;
    },
    readonly caller: Caller,
  ) {}
}
