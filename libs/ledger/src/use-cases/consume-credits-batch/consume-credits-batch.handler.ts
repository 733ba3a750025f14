import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DomainError, DomainErrorCode, refuse } from '@credit-ledger/domain';
import { CommandExecutor } from '../../infrastructure/command-executor';
import { consumptionKey, consumptionView } from '../consume-credits/consumption-view';
import { ConsumeCreditsBatchCommand } from './consume-credits-batch.command';

type ItemResult =
  | ({ index: number; status: 200 | 201 } & ReturnType<typeof consumptionView>)
  | { index: number; status: 400 | 409; error: string; message: string; details?: unknown };

export interface BatchOutcome {
  readonly results: ItemResult[];
  readonly summary: { readonly created: number; readonly duplicates: number; readonly refused: number; readonly invalid: number };
}

/**
 * Decides every item in order against the account as the earlier items left it, then appends all
 * accepted events in one atomic append (one fsync). One bad item never blocks the others.
 */
@CommandHandler(ConsumeCreditsBatchCommand)
export class ConsumeCreditsBatchHandler implements ICommandHandler<ConsumeCreditsBatchCommand> {
  constructor(private readonly executor: CommandExecutor) {}

  execute(command: ConsumeCreditsBatchCommand): Promise<BatchOutcome> {
    const parsed = command.items;
    return this.executor.execute(
      command.accountId,
      command.caller,
      (session, at) => {
        if (session.state.status !== 'open') refuse(DomainErrorCode.AccountNotFound, 'the account does not exist');
        type Decided = { index: number; kind: 'created' | 'duplicate'; consumptionId: string } | Exclude<ItemResult, { status: 200 | 201 }>;
        const decided = parsed.map((p, index): Decided => {
          if ('problems' in p) {
            const problems = p.problems.map((q) => ({ field: q.field ? `items.${index}.${q.field}` : `items.${index}`, reason: q.reason }));
            return {
              index,
              status: 400 as const,
              error: 'VALIDATION_FAILED',
              message: problems.map((q) => `${q.field}: ${q.reason}`).join('; '),
              details: problems,
            };
          }
          try {
            const kind = session.decide(consumptionKey(p.data.consumptionId), { type: 'ConsumeCredits', at, data: p.data });
            return { index, kind, consumptionId: p.data.consumptionId };
          } catch (e) {
            if (!(e instanceof DomainError)) throw e;
            return { index, status: 409 as const, error: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
          }
        });
        return (after) => {
          const summary = { created: 0, duplicates: 0, refused: 0, invalid: 0 };
          const results: ItemResult[] = decided.map((d) => {
            if ('kind' in d) {
              if (d.kind === 'created') summary.created++;
              else summary.duplicates++;
              return { index: d.index, status: d.kind === 'created' ? 201 : 200, ...consumptionView(after, d.consumptionId) };
            }
            if (d.status === 400) summary.invalid++;
            else summary.refused++;
            return d;
          });
          return { results, summary };
        };
      },
      'ConsumeCreditsBatch',
    );
  }
}
