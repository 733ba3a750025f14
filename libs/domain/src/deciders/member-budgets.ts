import { emptyRecord, ownValue } from '../limits';
import { SetMemberLimits } from '../commands';
import { MemberLimitsSet } from '../events';
import { OpenAccountState } from '../state';
import { advance } from './cycles';
import { accepted, Decision, DUPLICATE, requireCreditType } from './decision';

/** The limits at one level after applying `changes` (null removes), keys sorted. */
function mergedLimits(current: Readonly<Record<string, number>>, changes: Readonly<Record<string, number | null>>): Record<string, number> {
  const merged = emptyRecord<number>();
  const creditTypes = new Set([...Object.keys(current), ...Object.keys(changes)]);
  for (const creditType of [...creditTypes].sort()) {
    const value = Object.hasOwn(changes, creditType) ? changes[creditType] : ownValue(current, creditType);
    if (value !== null && value !== undefined) merged[creditType] = value;
  }
  return merged;
}

function sameLimits(first: Readonly<Record<string, number>>, second: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(first);
  return keys.length === Object.keys(second).length && keys.every((key) => Object.hasOwn(second, key) && second[key] === first[key]);
}

/** Sets a member's limits (or the account default): the same limits again is a duplicate. */
export function setMemberLimits(command: SetMemberLimits, state: OpenAccountState): Decision {
  const { userId, creditTypes } = command.data;
  const { state: advanced, events: resets } = advance(state, command.at);
  for (const creditType of Object.keys(creditTypes)) requireCreditType(advanced, creditType);
  const current = userId === null ? advanced.defaultMemberLimits : (advanced.index.members.get(userId)?.limits ?? {});
  const limits = mergedLimits(current, creditTypes);
  if (sameLimits(current, limits)) return DUPLICATE;
  const requested = Object.fromEntries(
    Object.keys(creditTypes)
      .sort()
      .map((creditType) => [creditType, creditTypes[creditType]]),
  );
  const event: MemberLimitsSet = {
    type: 'MemberLimitsSet',
    occurredAt: command.at,
    data: { userId, creditTypes: requested, limits, cycleId: advanced.cycleId },
  };
  return accepted([...resets, event]);
}
