/** What an endpoint can subscribe to. */
export const WEBHOOK_EVENT_TYPES = [
  'credits.threshold_crossed',
  'credits.depleted',
  'credits.depletion_forecast',
  'cycle.reset',
  'grant.created',
  'grant.expiring',
  'grant.expired',
  'plan.changed',
  'member.limit_reached',
  'reservation.expired',
  'endpoint.disabled',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Only operator-wide endpoints receive these (they are about endpoints, not accounts). */
export const OPERATOR_EVENT_TYPES: readonly WebhookEventType[] = ['endpoint.disabled'];

export function isWebhookEventType(type: string): type is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);
}

/** What a receiver gets: the body of the POST, signed. */
export interface WebhookPayload {
  /** Stable across retries and replays: the `webhook-id` header too. */
  readonly id: string;
  readonly type: WebhookEventType;
  /** null for operator notices that concern no account. */
  readonly accountId: string | null;
  /** The global position of the ledger event it derives from. */
  readonly position: number;
  readonly occurredAt: string;
  readonly data: Record<string, unknown>;
}
