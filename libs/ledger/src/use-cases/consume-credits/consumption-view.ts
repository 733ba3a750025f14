import { OpenAccountState, parseInstant } from '@credit-ledger/domain';
import { AccountView } from '../../infrastructure/account-repository';
import { balanceView } from '../../views/balances.view';

export const consumptionKey = (consumptionId: string) => `consume:${consumptionId}`;

/** The answer to a consumption, the same for the first call and every idempotent retry. */
export function consumptionView(session: AccountView, consumptionId: string) {
  const record = (session.state as OpenAccountState).index.consumptions.get(consumptionId);
  if (!record) throw new Error(`consumption ${consumptionId} is not in the state`);
  return {
    consumptionId,
    creditsCharged: record.creditsCharged,
    units: record.units,
    pricedBy: record.pricedBy,
    rate: record.rate,
    alreadyPurchased: record.alreadyPurchased,
    balance: balanceView(record.creditType, record.balanceAfter),
    position: session.positionOf(consumptionKey(consumptionId)),
  };
}

export function toConsumeData(dto: {
  consumptionId: string;
  userId: string;
  creditType?: string | null;
  feature: string;
  action: string;
  credits?: number | null;
  units?: number | null;
  description?: string | null;
  dataRequested?: string | null;
  dataKey?: string | null;
  occurredAt?: string | null;
}) {
  return {
    consumptionId: dto.consumptionId,
    // One user, one id: "José" typed composed or decomposed is the same member.
    userId: dto.userId.normalize('NFC'),
    creditType: dto.creditType ?? undefined,
    feature: dto.feature.normalize('NFC'),
    action: dto.action.normalize('NFC'),
    credits: dto.credits ?? undefined,
    units: dto.units ?? undefined,
    description: dto.description ?? undefined,
    dataRequested: dto.dataRequested ?? undefined,
    dataKey: dto.dataKey ?? undefined,
    occurredAt: dto.occurredAt ? new Date(parseInstant(dto.occurredAt) ?? Number.NaN).toISOString() : undefined,
  };
}
