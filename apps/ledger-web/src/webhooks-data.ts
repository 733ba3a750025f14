import type { components } from '@credit-ledger/client';
import type { GetAnswer } from './context';

/** An event type the API accepts (the OpenAPI document's enum). */
export type WebhookEventType = components['schemas']['CreateWebhookDto']['eventTypes'][number];
export type WebhookEndpoint = GetAnswer<'/v1/accounts/{accountId}/webhooks/{webhookId}'>;
export type WebhookDelivery = GetAnswer<'/v1/accounts/{accountId}/webhooks/{webhookId}/deliveries'>['items'][number];
export type DeliveryStatus = WebhookDelivery['status'];

/** What each type means (docs/webhooks.md), in the order the form lists them. A type the API adds and this list lacks fails the build. */
const EVENT_TYPE_HELP = {
  'credits.threshold_crossed': 'a usage threshold was crossed',
  'credits.depleted': 'available credits reached 0',
  'credits.depletion_forecast': 'the projected depletion falls within the horizon',
  'cycle.reset': 'a cycle closed and the next one opened',
  'grant.created': 'a grant was made',
  'grant.expiring': 'a grant with credits left expires soon',
  'grant.expired': 'a grant’s unused rest lapsed',
  'plan.changed': 'the plan changed',
  'member.limit_reached': 'a team member reached their limit',
  'reservation.expired': 'a reservation lapsed without capture or release',
  'endpoint.disabled': 'an endpoint was disabled (operator-wide endpoints only)',
} as const satisfies Record<WebhookEventType, string>;

/** Only operator-wide endpoints (the superuser's `/v1/webhooks`) subscribe to these. */
const OPERATOR_ONLY: readonly WebhookEventType[] = ['endpoint.disabled'];

/** The types an account's endpoint may subscribe to, with what they mean. */
export const ACCOUNT_EVENT_TYPES: readonly { type: WebhookEventType; help: string }[] = (Object.keys(EVENT_TYPE_HELP) as WebhookEventType[])
  .filter((type) => !OPERATOR_ONLY.includes(type))
  .map((type) => ({ type, help: EVENT_TYPE_HELP[type] }));

/** The endpoint's state in words: enabled, disabled by request, or disabled by the dispatcher (410, failing), and failing since when. */
export function endpointState(endpoint: Pick<WebhookEndpoint, 'enabled' | 'disabledReason' | 'failingSince'>): {
  label: string;
  tone: 'ok' | 'warning' | 'bad';
} {
  if (!endpoint.enabled) return { label: `Disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}`, tone: 'bad' };
  if (endpoint.failingSince) return { label: `Enabled, failing since ${endpoint.failingSince.slice(0, 16).replace('T', ' ')} UTC`, tone: 'warning' };
  return { label: 'Enabled', tone: 'ok' };
}

/** When a delivery was last attempted (null: not yet). */
export function lastAttemptAt(delivery: Pick<WebhookDelivery, 'attempts'>): string | null {
  return delivery.attempts.length === 0 ? null : delivery.attempts[delivery.attempts.length - 1].at;
}

/** A succeeded delivery is sent again by replaying its position; any other may be retried now. */
export function deliveryAction(delivery: Pick<WebhookDelivery, 'status'>): 'retry' | 'replay' {
  return delivery.status === 'succeeded' ? 'replay' : 'retry';
}

/** The delivery log's `?status=` filter from the URL: one of the API's statuses, or all. */
export function parseStatusFilter(value: string | null): DeliveryStatus | null {
  return value === 'pending' || value === 'succeeded' || value === 'failed' ? value : null;
}

/** The URL field of the form, checked as the API will (an absolute http(s) URL; the API decides on http and private hosts). */
export function urlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return 'Enter an absolute URL such as https://example.com/hooks/credits.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'The URL must start with https://.';
  return null;
}
