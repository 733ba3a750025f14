import { ICommand } from '@nestjs/cqrs';
import { Caller, ConsumeCreditsData, DomainError, internalCaller } from '@credit-ledger/domain';
import {
  BatchOutcome,
  CaptureReservationCommand,
  ConsumeCreditsBatchCommand,
  GrantCreditsCommand,
  MAX_BATCH_ITEMS,
  RefundCreditsCommand,
  ReleaseReservationCommand,
  ReserveCreditsCommand,
} from '@credit-ledger/ledger';
import { IncomingMessage, PartitionBatch } from './messaging.port';
import { USAGE_CORRELATION_HEADER } from './topics';
import { DeadLetterCode, parseUsageMessage, UsageCommand } from './usage-message';

/** Correlation ids the ledger accepts (the same rule as the X-Correlation-Id header). */
const CORRELATION_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** What the ingestor needs from the application: the same command bus HTTP uses. */
export interface CommandSink {
  execute<R>(command: ICommand): Promise<R>;
}

export type UsageOutcome =
  | { readonly kind: 'applied' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'refused'; readonly code: string; readonly message: string; readonly details?: unknown }
  | { readonly kind: 'dead-letter'; readonly code: string; readonly message: string };

/** One usage message on its way: parsed into a command (or set aside), then given its outcome. */
export interface UsageItem {
  readonly message: IncomingMessage;
  readonly correlationId: string;
  command?: UsageCommand;
  outcome?: UsageOutcome;
}

/** Parses a chunk's messages; the correlation id is the message's header, else its topic:partition:offset. */
export function toUsageItems(batch: PartitionBatch, messages: readonly IncomingMessage[]): UsageItem[] {
  return messages.map((message) => {
    const header = message.headers[USAGE_CORRELATION_HEADER];
    const correlationId = header !== undefined && CORRELATION_PATTERN.test(header) ? header : `${batch.topic}:${batch.partition}:${message.offset}`;
    const item: UsageItem = { message, correlationId };
    const parsed = parseUsageMessage(message.key, message.value);
    if ('command' in parsed) item.command = parsed.command;
    else item.outcome = { kind: 'dead-letter', code: parsed.unprocessable.code, message: parsed.unprocessable.message };
    return item;
  });
}

/** The parsed items per account, each list in partition order. */
export function groupByAccount(items: readonly UsageItem[]): Map<string, UsageItem[]> {
  const byAccount = new Map<string, UsageItem[]>();
  for (const item of items) {
    if (!item.command) continue;
    let list = byAccount.get(item.command.accountId);
    if (!list) byAccount.set(item.command.accountId, (list = []));
    list.push(item);
  }
  return byAccount;
}

/**
 * Message → command mapping: turns one account's usage items into the commands HTTP issues, sent
 * through the same command bus, and records each item's outcome. The caller is this deployment's
 * ingestor (`kafka:<group id>`), never a borrowed key.
 */
export class UsageCommandApplier {
  constructor(
    private readonly commands: CommandSink,
    readonly actor: string,
  ) {}

  /** Applies one account's items in order; stops at the first failure, keeping what was decided. */
  async applyInOrder(list: readonly UsageItem[]): Promise<void> {
    let index = list.findIndex((item) => item.outcome === undefined);
    if (index < 0) return;
    while (index < list.length) {
      const first = list[index];
      if (first.command!.type === 'consume') {
        const end = consumptionRunEnd(list, index);
        await this.applyConsumptions(first.command!.accountId, list.slice(index, end));
        index = end;
      } else {
        first.outcome = await this.applyOne(first);
        index++;
      }
    }
  }

  private caller(correlationId: string): Caller {
    return internalCaller(this.actor, correlationId);
  }

  private async applyConsumptions(accountId: string, run: readonly UsageItem[]): Promise<void> {
    let outcome: BatchOutcome;
    try {
      outcome = await this.commands.execute<BatchOutcome>(
        // Validated by parseUsageMessage with the HTTP DTO already: the handler does not validate again.
        ConsumeCreditsBatchCommand.ofValidated(
          accountId,
          run.map((item) => item.command!.data as ConsumeCreditsData),
          this.caller(run[0].correlationId),
        ),
      );
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      for (const item of run) item.outcome = { kind: 'refused', code: error.code, message: error.message, details: error.details };
      return;
    }
    for (const result of outcome.results) {
      const item = run[result.index];
      if (result.status === 201) item.outcome = { kind: 'applied' };
      else if (result.status === 200) item.outcome = { kind: 'duplicate' };
      else if (result.status === 409) item.outcome = { kind: 'refused', code: result.error, message: result.message, details: result.details };
      // The ingestor validated the item with the same DTO: a 400 here is a contract drift, set aside like any invalid message.
      else if (result.status === 400) item.outcome = { kind: 'dead-letter', code: DeadLetterCode.ValidationFailed, message: result.message };
    }
  }

  private async applyOne(item: UsageItem): Promise<UsageOutcome> {
    const usage = item.command!;
    const caller = this.caller(item.correlationId);
    const command = commandOf(usage, caller);
    try {
      const { status, created } = await this.commands.execute<{ status: 200 | 201; created?: boolean }>(command);
      // A release answers 200 each time; `created` says whether it wrote anything.
      return { kind: status === 201 || created === true ? 'applied' : 'duplicate' };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return { kind: 'refused', code: error.code, message: error.message, details: error.details };
    }
  }
}

/** The command HTTP would send for a usage message other than a consumption. */
function commandOf(usage: UsageCommand, caller: Caller): ICommand {
  switch (usage.type) {
    case 'refund':
      return new RefundCreditsCommand(usage.accountId, usage.data, caller);
    case 'grant':
      return new GrantCreditsCommand(usage.accountId, usage.data, caller);
    case 'reserve':
      return new ReserveCreditsCommand(usage.accountId, usage.data, caller);
    case 'capture':
      return new CaptureReservationCommand(usage.accountId, usage.data, caller);
    case 'release':
      return new ReleaseReservationCommand(usage.accountId, usage.data.reservationId, usage.data.reason, caller);
    case 'consume':
      throw new Error('consumptions go through applyConsumptions');
    default: {
      const unknown: never = usage;
      throw new Error(`unknown usage command ${JSON.stringify(unknown)}`);
    }
  }
}

/** One append for consecutive consumptions that share a correlation (header, or none given). */
function consumptionRunEnd(list: readonly UsageItem[], start: number): number {
  const correlation = list[start].message.headers[USAGE_CORRELATION_HEADER];
  let end = start + 1;
  while (
    end < list.length &&
    end - start < MAX_BATCH_ITEMS &&
    list[end].command!.type === 'consume' &&
    list[end].message.headers[USAGE_CORRELATION_HEADER] === correlation
  ) {
    end++;
  }
  return end;
}
