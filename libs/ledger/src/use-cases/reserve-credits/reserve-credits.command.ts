import { Caller, ReserveCreditsData } from '@credit-ledger/domain';

export class ReserveCreditsCommand {
  constructor(
    readonly accountId: string,
    readonly data: ReserveCreditsData,
    readonly caller: Caller,
  ) {}
}

export function toReserveData(dto: {
  reservationId: string;
  userId: string;
  creditType?: string | null;
  feature: string;
  action: string;
  credits?: number | null;
  units?: number | null;
  expiresInSeconds?: number | null;
  description?: string | null;
  dataKey?: string | null;
}): ReserveCreditsData {
  return {
    reservationId: dto.reservationId,
    userId: dto.userId.normalize('NFC'),
    creditType: dto.creditType ?? undefined,
    feature: dto.feature.normalize('NFC'),
    action: dto.action.normalize('NFC'),
    credits: dto.credits ?? undefined,
    units: dto.units ?? undefined,
    expiresInSeconds: dto.expiresInSeconds ?? undefined,
    description: dto.description ?? undefined,
    dataKey: dto.dataKey ?? undefined,
  };
}
