import { checkSpend, SpendCheck, SpendRequest } from '@credit-ledger/domain';
import { AccountRepository } from '../../infrastructure/account-repository';
import { Clock } from '../../infrastructure/clock';
import { CommandExecutor } from '../../infrastructure/command-executor';

/**
 * How long a check may answer from the account this process holds in memory without asking the
 * store whether another process wrote since. Writes of this process are always seen at once.
 */
export const MAX_CHECK_STALENESS_MS = 1_000;

/**
 * Answers checks with the consumption's own decision (`checkSpend`: advance, then `assessSpend`)
 * on the account's stored state. A check appends nothing and never waits for the account's
 * writes: it reads the folded account the command executor caches, and reads the store only when
 * the account is not cached or was last in step with it more than MAX_CHECK_STALENESS_MS ago.
 */
export class SpendChecker {
  constructor(
    private readonly accounts: AccountRepository,
    private readonly executor: CommandExecutor,
    private readonly clock: Clock,
  ) {}

  async check(accountId: string, request: SpendRequest): Promise<SpendCheck> {
    const at = this.clock.now().toISOString();
    const state = this.accounts.recentStored(accountId, MAX_CHECK_STALENESS_MS) ?? (await this.executor.read(accountId, (session) => session.state));
    return checkSpend(state, request, at);
  }
}
