import { DeliveryRecord, EndpointRecord } from '../store/webhook-store';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function endpointView(endpoint: EndpointRecord) {
  return {
    webhookId: endpoint.id,
    accountId: endpoint.accountId,
    url: endpoint.url,
    description: endpoint.description,
    eventTypes: endpoint.eventTypes,
    enabled: endpoint.enabled,
    disabledReason: endpoint.disabledReason,
    disabledAt: iso(endpoint.disabledAt),
    failingSince: iso(endpoint.failingSince),
    previousSecretExpiresAt: endpoint.previousSecret === null ? null : iso(endpoint.previousSecretUntil),
    createdAt: iso(endpoint.createdAt)!,
    updatedAt: iso(endpoint.updatedAt)!,
  };
}

export function deliveryView(delivery: DeliveryRecord) {
  const last = delivery.attempts.length === 0 ? null : delivery.attempts[delivery.attempts.length - 1];
  return {
    deliveryId: delivery.id,
    webhookId: delivery.endpointId,
    eventId: delivery.messageId,
    type: delivery.type,
    accountId: delivery.accountId,
    position: delivery.position,
    origin: delivery.origin,
    status: delivery.status,
    attemptCount: delivery.attemptCount,
    lastStatusCode: last?.statusCode ?? null,
    lastLatencyMs: last?.latencyMs ?? null,
    nextAttemptAt: iso(delivery.nextAttemptAt),
    firstAttemptAt: iso(delivery.firstAttemptAt),
    completedAt: iso(delivery.completedAt),
    createdAt: iso(delivery.createdAt)!,
    attempts: delivery.attempts,
  };
}
