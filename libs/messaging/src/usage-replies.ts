import { IncomingMessage, OutgoingMessage, PartitionBatch } from './messaging.port';
import { DEAD_LETTER_HEADERS, RESULT_HEADERS } from './topics';
import { UsageItem, UsageOutcome } from './usage-commands';

/** What a chunk sends back: refusals to the results topic, unprocessable messages to the DLQ, and the counts. */
export interface ChunkReplies {
  readonly deadLetters: OutgoingMessage[];
  readonly results: OutgoingMessage[];
  readonly counts: { applied: number; duplicates: number; refused: number; deadLettered: number };
}

export function repliesFor(batch: PartitionBatch, items: readonly UsageItem[]): ChunkReplies {
  const replies: ChunkReplies = { deadLetters: [], results: [], counts: { applied: 0, duplicates: 0, refused: 0, deadLettered: 0 } };
  for (const item of items) {
    const outcome = item.outcome!;
    if (outcome.kind === 'applied') replies.counts.applied++;
    else if (outcome.kind === 'duplicate') replies.counts.duplicates++;
    else if (outcome.kind === 'refused') {
      replies.counts.refused++;
      replies.results.push(resultMessage(batch, item, outcome));
    } else {
      replies.counts.deadLettered++;
      replies.deadLetters.push(deadLetterMessage(batch, item.message, outcome));
    }
  }
  return replies;
}

/** A refusal on the results topic, keyed by the command id. */
export function resultMessage(batch: PartitionBatch, item: UsageItem, outcome: Extract<UsageOutcome, { kind: 'refused' }>): OutgoingMessage {
  const usage = item.command!;
  return {
    key: usage.commandId,
    value: JSON.stringify({
      commandId: usage.commandId,
      type: usage.type,
      accountId: usage.accountId,
      outcome: 'refused',
      status: 409,
      error: outcome.code,
      message: outcome.message,
      ...(outcome.details === undefined ? {} : { details: outcome.details }),
      source: { topic: batch.topic, partition: batch.partition, offset: item.message.offset },
      correlationId: item.correlationId,
    }),
    headers: { [RESULT_HEADERS.outcome]: 'refused', [RESULT_HEADERS.errorCode]: outcome.code, [RESULT_HEADERS.accountId]: usage.accountId },
  };
}

/** The message as it came, with headers saying why it was set aside and where it came from. */
export function deadLetterMessage(batch: PartitionBatch, message: IncomingMessage, outcome: Extract<UsageOutcome, { kind: 'dead-letter' }>): OutgoingMessage {
  return {
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value ?? Buffer.alloc(0),
    headers: {
      ...message.headers,
      [DEAD_LETTER_HEADERS.errorCode]: outcome.code,
      [DEAD_LETTER_HEADERS.errorMessage]: outcome.message.slice(0, 1_000),
      [DEAD_LETTER_HEADERS.originalTopic]: batch.topic,
      [DEAD_LETTER_HEADERS.originalPartition]: String(batch.partition),
      [DEAD_LETTER_HEADERS.originalOffset]: message.offset,
      [DEAD_LETTER_HEADERS.originalTimestamp]: message.timestamp,
    },
  };
}
