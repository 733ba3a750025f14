import { arrayOf, instant, int, nullable, objectOf, str } from '@credit-ledger/ledger';
import { WEBHOOK_EVENT_TYPES } from '../events/event-types';
import { DELIVERY_STATUSES } from '../store/webhook-store';

const eventTypes = arrayOf({ type: 'string', enum: [...WEBHOOK_EVENT_TYPES] });
const ENDPOINT_PROPERTIES = {
  webhookId: str(),
  accountId: nullable(str('null: an operator-wide endpoint (every account)')),
  url: str(),
  description: nullable(str()),
  eventTypes,
  enabled: { type: 'boolean' },
  disabledReason: nullable(str('Why it was disabled: by request, 410 Gone, or failing for 5 days')),
  disabledAt: nullable(instant()),
  failingSince: nullable(instant('Start of the current run of failed attempts')),
  previousSecretExpiresAt: nullable(instant('After a rotation: until when the previous secret also signs')),
  createdAt: instant(),
  updatedAt: instant(),
};
export const WEBHOOK_RESPONSE = objectOf(ENDPOINT_PROPERTIES);
export const WEBHOOK_CREATED_RESPONSE = objectOf({ ...ENDPOINT_PROPERTIES, secret: str('whsec_…: the signing secret, shown only here') });
export const WEBHOOKS_RESPONSE = objectOf({ items: arrayOf(WEBHOOK_RESPONSE) });
export const WEBHOOK_DELETED_RESPONSE = objectOf({ webhookId: str(), deleted: { type: 'boolean' } });
export const SECRET_ROTATED_RESPONSE = objectOf({ webhookId: str(), secret: str('The new secret, shown only here'), previousSecretExpiresAt: instant() });

const ATTEMPT = objectOf({
  at: instant(),
  statusCode: nullable(int('null: no answer (refused, timed out, target not allowed)')),
  latencyMs: int(),
  error: nullable(str()),
  response: nullable(str('The first 1,000 characters of the answer')),
});
export const DELIVERY_RESPONSE = objectOf({
  deliveryId: str(),
  webhookId: str(),
  eventId: str('The webhook-id header: stable across retries and replays'),
  type: { type: 'string', enum: [...WEBHOOK_EVENT_TYPES] },
  accountId: nullable(str()),
  position: int('The ledger position it derives from'),
  origin: { type: 'string', enum: ['live', 'replay'] },
  status: { type: 'string', enum: [...DELIVERY_STATUSES] },
  attemptCount: int(),
  lastStatusCode: nullable(int()),
  lastLatencyMs: nullable(int()),
  nextAttemptAt: nullable(instant('When it is attempted next; null when done or waiting behind an earlier delivery of its lane')),
  firstAttemptAt: nullable(instant()),
  completedAt: nullable(instant()),
  createdAt: instant(),
  attempts: arrayOf(ATTEMPT),
});
export const DELIVERIES_RESPONSE = objectOf({ items: arrayOf(DELIVERY_RESPONSE), nextCursor: nullable(int('Pass as `before` for older deliveries')) });
export const REPLAY_RESPONSE = objectOf({
  webhookId: str(),
  fromPosition: int(),
  replayed: int('Deliveries queued'),
  nextPosition: nullable(int('More to replay: call again from this position')),
});
