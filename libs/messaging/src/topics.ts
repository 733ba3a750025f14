/** Topic names and headers of the Kafka contract (names configurable; these are the defaults). */
export const DEFAULT_USAGE_TOPIC = 'credit.usage.v1';
export const DEFAULT_EVENTS_TOPIC = 'credit.events.v1';
export const DEFAULT_USAGE_GROUP_ID = 'credit-ledger-usage';

export const deadLetterTopicOf = (usageTopic: string) => `${usageTopic}.dlq`;
export const resultsTopicOf = (usageTopic: string) => `${usageTopic}.results`;

/** Kafka's own rule for topic names. */
export const TOPIC_NAME_PATTERN = /^[A-Za-z0-9._-]{1,249}$/;

/** Headers of `credit.events.v1` messages. */
export const EVENT_HEADERS = {
  eventId: 'eventId',
  type: 'type',
  schemaVersion: 'schemaVersion',
  position: 'position',
  accountId: 'accountId',
  correlationId: 'correlationId',
} as const;

/** Headers of the dead-letter topic: why the message was set aside, and where it came from. */
export const DEAD_LETTER_HEADERS = {
  errorCode: 'error.code',
  errorMessage: 'error.message',
  originalTopic: 'original.topic',
  originalPartition: 'original.partition',
  originalOffset: 'original.offset',
  originalTimestamp: 'original.timestamp',
} as const;

/** Headers of the results topic. */
export const RESULT_HEADERS = {
  outcome: 'outcome',
  errorCode: 'error.code',
  accountId: 'accountId',
} as const;

/** Optional header on usage messages: becomes the events' correlationId. */
export const USAGE_CORRELATION_HEADER = 'correlationId';
