import { memberReservedOf, MemberRecord, OpenAccountState } from './state';

/** Where a member's limit of a credit type comes from: their own, the account default, or none. */
export type LimitSource = 'member' | 'default';

/** A member's budget of one credit type in the open cycle. */
export interface MemberBudget {
  readonly used: number;
  /** Held for the member by open reservations: counted against the limit like used credits. */
  readonly reserved: number;
  /** Credits per cycle; null: no limit. */
  readonly limit: number | null;
  readonly limitSource: LimitSource | null;
  /** limit - used - reserved (never below 0); null: no limit. */
  readonly remaining: number | null;
}

/** What `userId` used of `creditType` in the open cycle (0 in a cycle they have not spent in yet). */
export function memberUsed(state: OpenAccountState, userId: string, creditType: string, member = state.index.members.get(userId)): number {
  if (!member || member.cycleId !== state.cycleId) return 0;
  return Object.hasOwn(member.used, creditType) ? member.used[creditType] : 0;
}

export function memberBudget(state: OpenAccountState, userId: string, creditType: string): MemberBudget {
  const member = state.index.members.get(userId);
  const used = memberUsed(state, userId, creditType, member);
  const reserved = memberReservedOf(state, userId, creditType);
  let limit: number | null = null;
  let limitSource: LimitSource | null = null;
  if (member && Object.hasOwn(member.limits, creditType)) {
    limit = member.limits[creditType];
    limitSource = 'member';
  } else if (Object.hasOwn(state.defaultMemberLimits, creditType)) {
    limit = state.defaultMemberLimits[creditType];
    limitSource = 'default';
  }
  return { used, reserved, limit, limitSource, remaining: limit === null ? null : Math.max(limit - used - reserved, 0) };
}

/** The member's record after `credits` more (or, negative, fewer) of `creditType` in cycle `cycleId`. */
export function memberAfterUse(member: MemberRecord | undefined, userId: string, cycleId: string, creditType: string, credits: number): MemberRecord {
  const sameCycle = member !== undefined && member.cycleId === cycleId;
  const before = sameCycle && Object.hasOwn(member.used, creditType) ? member.used[creditType] : 0;
  const used = { ...(sameCycle ? member.used : {}), [creditType]: Math.max(before + credits, 0) };
  return { userId, cycleId, used, limits: member?.limits ?? {} };
}
