import { DomainErrorCode, refuse } from '../errors';
import { LedgerEvent } from '../events';
import { creditTypesOf, RateEntry, ratesProblem } from '../plan';
import { AccountState, CreditTypeState, OpenAccountState } from '../state';

/**
 * What a command decides: new events to append, or `duplicate` when the command's id was
 * already used with the same payload (the caller answers with the first outcome, appends nothing).
 * Refusals are thrown as DomainError.
 *
 * `state`, when given, is the state after the events, which the decider had to fold anyway to
 * decide (a capture): exactly what folding `events` on the decided state gives, so whoever
 * applies the decision may take it instead of folding again.
 */
export type Decision = { readonly kind: 'accepted'; readonly events: readonly LedgerEvent[]; readonly state?: AccountState } | { readonly kind: 'duplicate' };

export const DUPLICATE: Decision = { kind: 'duplicate' };

export function accepted(events: readonly LedgerEvent[], state?: AccountState): Decision {
  return state === undefined ? { kind: 'accepted', events } : { kind: 'accepted', events, state };
}

export function requireAccount(state: AccountState): OpenAccountState {
  if (state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
  return state;
}

export function requireCreditType(state: OpenAccountState, creditType: string): CreditTypeState {
  const creditTypeState = Object.hasOwn(state.creditTypes, creditType) ? state.creditTypes[creditType] : undefined;
  if (!creditTypeState) {
    refuse(DomainErrorCode.UnknownCreditType, `credit type ${creditType} is not in the account's plan`, {
      creditType,
      creditTypes: creditTypesOf(state.plan),
    });
  }
  return creditTypeState;
}

export function iso(value: string): string {
  return new Date(value).toISOString();
}

/** Refuses a rate card naming a credit type outside the plan, or pricing one action twice (transports check it first: 400). */
export function requireValidRates(rates: readonly RateEntry[], creditTypes: Readonly<Record<string, unknown>>): void {
  const problem = ratesProblem(rates, creditTypes);
  if (problem) refuse(DomainErrorCode.InvalidRates, `rates.${problem.index}: ${problem.reason}`, { field: `rates.${problem.index}`, reason: problem.reason });
}
