import { EventStore } from '@credit-ledger/event-store';
import { accountStream } from '@credit-ledger/ledger';
import { isWebhookEventType, OPERATOR_EVENT_TYPES, WEBHOOK_EVENT_TYPES, WebhookEventType } from './events/event-types';
import { newSecret } from './delivery/signing';
import { MalformedUrlError, resolveTarget, UrlNotAllowedError } from './delivery/url-safety';
import { MAX_OPERATOR_WEBHOOKS, MAX_REPLAY_MESSAGES, MAX_WEBHOOK_DESCRIPTION_LENGTH, MAX_WEBHOOKS_PER_ACCOUNT, WEBHOOK_SECRET_OVERLAP_MS } from './limits';
import { DeliveryRecord, DeliveryStatus, EndpointRecord, newId, WebhookStore } from './store/webhook-store';
import { WebhooksConfig } from './webhooks-config';

/** A refusal with the API's contract: status, stable code, message, details (the controllers turn it into the error body). */
export class WebhookRefusal extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'WebhookRefusal';
  }
}

const invalid = (field: string, reason: string) =>
  new WebhookRefusal(400, 'VALIDATION_FAILED', `request validation failed: ${field}: ${reason}`, [{ field, reason }]);

export interface EndpointInput {
  readonly url: string;
  readonly eventTypes: readonly string[];
  readonly description?: string | null;
}

export interface EndpointPatch {
  readonly url?: string;
  readonly eventTypes?: readonly string[];
  readonly description?: string | null;
  readonly enabled?: boolean;
}

/** Endpoint management: the controllers' use cases. `accountId` null: the operator-wide endpoints. */
export class WebhooksService {
  constructor(
    private readonly store: WebhookStore,
    private readonly log: EventStore,
    private readonly config: WebhooksConfig,
    private readonly now: () => number,
    /** Told when deliveries become due (retry, replay): the dispatcher of this process, if it runs here. */
    private readonly wake: () => void = () => undefined,
  ) {}

  private async checkUrl(url: string): Promise<void> {
    try {
      await resolveTarget(url, this.config);
    } catch (e) {
      if (e instanceof MalformedUrlError) throw invalid('url', e.reason);
      if (e instanceof UrlNotAllowedError) throw new WebhookRefusal(400, 'WEBHOOK_URL_NOT_ALLOWED', `url: ${e.reason}`, [{ field: 'url', reason: e.reason }]);
      throw e;
    }
  }

  private eventTypes(types: readonly string[], operator: boolean): WebhookEventType[] {
    if (types.length === 0) throw invalid('eventTypes', 'name at least one event type');
    for (const type of types) {
      if (!isWebhookEventType(type)) throw invalid('eventTypes', `unknown event type "${type}"; one of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
      if (!operator && OPERATOR_EVENT_TYPES.includes(type)) throw invalid('eventTypes', `${type} is for operator-wide endpoints only`);
    }
    return [...new Set(types as WebhookEventType[])].sort();
  }

  private description(text: string | null | undefined): string | null {
    if (text === undefined || text === null) return null;
    if (text.length > MAX_WEBHOOK_DESCRIPTION_LENGTH) throw invalid('description', `at most ${MAX_WEBHOOK_DESCRIPTION_LENGTH} characters`);
    return text;
  }

  async requireAccount(accountId: string): Promise<void> {
    const events = await this.log.readStream(accountStream(accountId), { limit: 1 });
    if (events.length === 0) throw new WebhookRefusal(404, 'ACCOUNT_NOT_FOUND', `account ${accountId} was never opened`);
  }

  async create(accountId: string | null, input: EndpointInput): Promise<EndpointRecord> {
    const eventTypes = this.eventTypes(input.eventTypes, accountId === null);
    const description = this.description(input.description);
    if (accountId !== null) await this.requireAccount(accountId);
    await this.checkUrl(input.url);
    const existing = await this.store.endpoints(accountId);
    const max = accountId === null ? MAX_OPERATOR_WEBHOOKS : MAX_WEBHOOKS_PER_ACCOUNT;
    if (existing.length >= max)
      throw new WebhookRefusal(409, 'WEBHOOK_LIMIT_REACHED', `at most ${max} endpoints ${accountId === null ? 'operator-wide' : 'per account'}`, { max });
    const now = this.now();
    const endpoint: EndpointRecord = {
      id: newId('wh'),
      accountId,
      url: input.url,
      description,
      eventTypes,
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      secret: newSecret(),
      previousSecret: null,
      previousSecretUntil: null,
      createdAt: now,
      updatedAt: now,
      createdPosition: await this.log.headPosition(),
      failingSince: null,
    };
    await this.store.createEndpoint(endpoint);
    return endpoint;
  }

  async list(accountId: string | null): Promise<EndpointRecord[]> {
    if (accountId !== null) await this.requireAccount(accountId);
    return this.store.endpoints(accountId);
  }

  async get(accountId: string | null, webhookId: string): Promise<EndpointRecord> {
    const endpoint = await this.store.endpoint(webhookId);
    if (!endpoint || endpoint.accountId !== accountId) {
      if (accountId !== null) await this.requireAccount(accountId);
      throw new WebhookRefusal(404, 'WEBHOOK_NOT_FOUND', `no webhook ${webhookId}${accountId === null ? ' operator-wide' : ` on account ${accountId}`}`);
    }
    return endpoint;
  }

  async update(accountId: string | null, webhookId: string, patch: EndpointPatch): Promise<EndpointRecord> {
    const endpoint = await this.get(accountId, webhookId);
    const eventTypes = patch.eventTypes === undefined ? undefined : this.eventTypes(patch.eventTypes, accountId === null);
    const description = patch.description === undefined ? undefined : this.description(patch.description);
    if (patch.url !== undefined) await this.checkUrl(patch.url);
    await this.store.updateEndpoint(endpoint.id, { url: patch.url, eventTypes, description, enabled: patch.enabled }, this.now());
    if (patch.enabled === true) this.wake();
    return this.get(accountId, webhookId);
  }

  async remove(accountId: string | null, webhookId: string): Promise<void> {
    const endpoint = await this.get(accountId, webhookId);
    await this.store.deleteEndpoint(endpoint.id);
  }

  /** A new secret; the previous one keeps signing (a second signature) for WEBHOOK_SECRET_OVERLAP_MS. */
  async rotate(accountId: string | null, webhookId: string): Promise<{ endpoint: EndpointRecord; secret: string }> {
    const endpoint = await this.get(accountId, webhookId);
    const now = this.now();
    const secret = newSecret();
    await this.store.rotateSecret(endpoint.id, secret, now + WEBHOOK_SECRET_OVERLAP_MS, now);
    return { endpoint: await this.get(accountId, webhookId), secret };
  }

  async deliveries(accountId: string | null, webhookId: string, status: DeliveryStatus | undefined, limit: number, before?: number): Promise<DeliveryRecord[]> {
    const endpoint = await this.get(accountId, webhookId);
    return this.store.deliveries(endpoint.id, status, limit, before);
  }

  async retry(accountId: string | null, webhookId: string, deliveryId: string): Promise<DeliveryRecord> {
    const endpoint = await this.get(accountId, webhookId);
    const delivery = await this.store.delivery(endpoint.id, deliveryId);
    if (!delivery) throw new WebhookRefusal(404, 'DELIVERY_NOT_FOUND', `no delivery ${deliveryId} for webhook ${webhookId}`);
    if (delivery.status === 'succeeded') {
      throw new WebhookRefusal(409, 'DELIVERY_ALREADY_SUCCEEDED', `delivery ${deliveryId} succeeded; replay its position to send it again`, {
        position: delivery.position,
      });
    }
    await this.store.retryDelivery(delivery, this.now());
    this.wake();
    return (await this.store.delivery(endpoint.id, deliveryId))!;
  }

  async replay(accountId: string | null, webhookId: string, fromPosition: number): Promise<{ replayed: number; nextPosition: number | null }> {
    const endpoint = await this.get(accountId, webhookId);
    const result = await this.store.replay(endpoint, fromPosition, MAX_REPLAY_MESSAGES, this.now());
    this.wake();
    return result;
  }
}
