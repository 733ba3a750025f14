import { OpenAccountState } from '@credit-ledger/domain';
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
    alreadyPurchased: record.alreadyPurchased,
    balance: balanceView(record.creditType, record.balanceAfter),
    position: session.positionOf(consumptionKey(consumptionId)),
  };
}

export function toConsumeData(dto: {
  consumptionId: string;
  userId: string;
  creditType: string;
  feature: string;
  action: string;
  credits: number;
  description?: string | null;
  dataRequested?: string | null;
  dataKey?: string | null;
  occurredAt?: string | null;
}) {
  return {
    consumptionId: dto.consumptionId,
    userId: dto.userId,
    creditType: dto.creditType,
    feature: dto.feature,
    action: dto.action,
    credits: dto.credits,
    description: dto.description ?? undefined,
    dataRequested: dto.dataRequested ?? undefined,
    dataKey: dto.dataKey ?? undefined,
    occurredAt: dto.occurredAt ? new Date(dto.occurredAt).toISOString() : undefined,
  };
}
