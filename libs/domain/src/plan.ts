import { CycleSchedule } from './schedule';

export type OverdraftPolicyName = 'deny' | 'allow';

export interface OverdraftPolicy {
  readonly policy: OverdraftPolicyName;
  /** Only with `allow`: how far below zero `remaining` may go. Absent = no limit. */
  readonly limit?: number;
}

export interface CreditTypePlan {
  readonly allocation: number;
  readonly overdraft: OverdraftPolicy;
}

/** The plan of an account. The set of credit types is data, not an enum. */
export interface Plan {
  readonly creditTypes: Readonly<Record<string, CreditTypePlan>>;
  readonly cycle: CycleSchedule;
}

export const DENY_OVERDRAFT: OverdraftPolicy = { policy: 'deny' };

/** Credit types in a stable order, for responses and closing figures. */
export function creditTypesOf(plan: Plan): string[] {
  return Object.keys(plan.creditTypes).sort();
}
