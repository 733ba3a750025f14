import { creditTypesOf, memberBudget, OpenAccountState } from '@credit-ledger/domain';

/** One member's budgets in the open cycle: per credit type of the plan, used, limit, where the limit comes from, what is left. */
export function memberView(state: OpenAccountState, userId: string) {
  const member = state.index.members.get(userId);
  return {
    userId,
    cycleId: state.cycleId,
    creditTypes: Object.fromEntries(creditTypesOf(state.plan).map((creditType) => [creditType, memberBudget(state, userId, creditType)])),
    limits: member?.limits ?? {},
  };
}

/** The account's default member limits. */
export function defaultLimitsView(state: OpenAccountState) {
  return { accountId: state.accountId, cycleId: state.cycleId, defaultLimits: state.defaultMemberLimits };
}
