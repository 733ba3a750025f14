import { decide, Decision } from '../decide';
import { DomainError } from '../errors';
import { LedgerCommand } from '../commands';
import { LedgerEvent } from '../events';
import { AccountState, evolve, initialState } from '../state';

/**
 * Given-when-then for the decider: `given(events).when(command)` then assert on the new events,
 * a duplicate, or a refusal code. The state after is available to check the fold.
 */
export function given(...history: LedgerEvent[]) {
  let state: AccountState = initialState();
  history.forEach((e) => (state = evolve(state, e)));
  return {
    state,
    when(command: LedgerCommand) {
      let decision: Decision | undefined;
      let error: unknown;
      try {
        decision = decide(command, state);
      } catch (e) {
        error = e;
      }
      return {
        thenEvents(): readonly LedgerEvent[] {
          if (error) throw error;
          if (decision?.kind !== 'accepted') throw new Error(`expected events, got ${decision?.kind}`);
          return decision.events;
        },
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
          let s = state;
          decision.events.forEach((e) => (s = evolve(s, e)));
          return s;
        },
      };
    },
  };
}
