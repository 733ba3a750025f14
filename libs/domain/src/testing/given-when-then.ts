import { Decision } from '../decide';
import { LedgerDecider, ledgerDecider } from '../decider';
import { DomainError } from '../errors';
import { LedgerCommand } from '../commands';
import { LedgerEvent } from '../events';
import { AccountState } from '../state';

/** What `when(command)` offers to assert on: the new events, a duplicate, a refusal, the state after. */
export interface Then {
  thenEvents(): readonly LedgerEvent[];
  thenDuplicate(): void;
  thenRefused(code: string): DomainError;
  stateAfter(): AccountState;
}

/**
 * Given-when-then for a decider: `given(events).when(command)` then assert on the new events,
 * a duplicate, or a refusal code. The state after is available to check the fold.
 */
export function givenWhenThen(decider: LedgerDecider) {
  return function given(...history: LedgerEvent[]) {
    const state = history.reduce(decider.evolve, decider.initialState());
    return { state, when: (command: LedgerCommand): Then => when(decider, state, command) };
  };
}

function when(decider: LedgerDecider, state: AccountState, command: LedgerCommand): Then {
  let decision: Decision | undefined;
  let error: unknown;
  try {
    decision = decider.decide(command, state);
  } catch (thrown) {
    error = thrown;
  }
  const accepted = (): readonly LedgerEvent[] => {
    if (error) throw error;
    if (decision?.kind !== 'accepted') throw new Error(`expected events, got ${decision?.kind}`);
    return decision.events;
  };
  return {
    thenEvents: accepted,
    thenDuplicate(): void {
      if (error) throw error;
      if (decision?.kind !== 'duplicate') throw new Error(`expected a duplicate, got ${decision?.kind}`);
    },
    thenRefused(code: string): DomainError {
      if (!(error instanceof DomainError)) throw new Error(`expected refusal ${code}, got ${decision?.kind ?? String(error)}`);
      if (error.code !== code) throw new Error(`expected refusal ${code}, got ${error.code}: ${error.message}`);
      return error;
    },
    stateAfter(): AccountState {
      if (error) throw error;
      if (decision?.kind !== 'accepted') return state;
      return accepted().reduce(decider.evolve, state);
    },
  };
}

/** Given-when-then on the ledger's own decider. */
export const given = givenWhenThen(ledgerDecider);
