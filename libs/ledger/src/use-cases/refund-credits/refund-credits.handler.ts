import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { OpenAccountState } from '../../../../domain/src';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { Clock, LEDGER_CLOCK } from '../../infrastructure/clock';
import { AccountSession } from '../../infrastructure/account-repository';
import { balanceView, Outcome } from '../../http/views';
import { RefundCreditsCommand } from './refund-credits.command';

const refundKey = (refundId: string) => `refund:${refundId}`;

function refundView(session: AccountSession, refundId: string) {
  const r = (session.state as OpenAccountState).index.refunds.get(refundId);
  if (!r) throw new Error(`refund ${refundId} is not in the state`);
  return {
    refundId,
    consumptionId: r.consumptionId,
    creditsRefunded: r.credits,
    balance: balanceView(r.creditType, r.balanceAfter),
    position: session.positionOf(refundKey(refundId)),
  };
}

@CommandHandler(RefundCreditsCommand)
export class RefundCreditsHandler implements ICommandHandler<RefundCreditsCommand> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(LEDGER_CLOCK) private readonly clock: Clock,
  ) {}

  execute(c: RefundCreditsCommand): Promise<Outcome<ReturnType<typeof refundView>>> {
    const at = this.clock.now().toISOString();
    return this.executor.execute(c.accountId, { actor: c.ctx.actor, correlationId: c.ctx.correlationId, recordedAt: at }, (session) => {
      const kind = session.decide(refundKey(c.data.refundId), { type: 'RefundCredits', at, data: c.data });
      return () => ({ status: kind === 'created' ? 201 : 200, body: refundView(session, c.data.refundId) });
    });
  }
}
