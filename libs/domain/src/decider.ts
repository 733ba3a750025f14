import { LedgerCommand } from './commands';
import { decide, Decision } from './decide';
import { LedgerEvent } from './events';
import { evolve } from './evolve';
import { AccountState, initialState } from './state';

/** The ledger's decide/evolve pair as one value (an Emmett-style Decider), for whatever runs it. */
export interface Decider<Command, Event, State, Outcome> {
  readonly initialState: () => State;
  readonly decide: (command: Command, state: State) => Outcome;
  readonly evolve: (state: State, event: Event) => State;
}

export type LedgerDecider = Decider<LedgerCommand, LedgerEvent, AccountState, Decision>;

export const ledgerDecider: LedgerDecider = { initialState, decide, evolve };
