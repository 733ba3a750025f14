import { Body, Controller, createParamDecorator, Delete, ExecutionContext, Get, HttpCode, Param, Patch, Post, Query, Type as NestType } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, ApiError, HttpRequest } from '@credit-ledger/http';
import { DEFAULT_DELIVERIES_PAGE } from '../limits';
import { WebhookRefusal, WebhooksService } from '../webhooks.service';
import { CreateWebhookDto, DeliveriesParams, ReplayParams, UpdateWebhookDto } from './webhooks.dto';
import {
  DELIVERIES_RESPONSE,
  DELIVERY_RESPONSE,
  REPLAY_RESPONSE,
  SECRET_ROTATED_RESPONSE,
  WEBHOOK_CREATED_RESPONSE,
  WEBHOOK_DELETED_RESPONSE,
  WEBHOOK_RESPONSE,
  WEBHOOKS_RESPONSE,
} from './webhook-schemas';
import { deliveryView, endpointView } from './webhook-views';

/** The `:accountId` of the path (validated), or null on the operator-wide routes. */
const Scope = createParamDecorator((_: unknown, ctx: ExecutionContext): string | null => {
  const accountId = ctx.switchToHttp().getRequest<HttpRequest>().params?.accountId;
  return typeof accountId === 'string' ? new AccountIdPipe().transform(accountId) : null;
});

async function refusalsAsErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (e instanceof WebhookRefusal) throw new ApiError(e.status, e.code, e.message, e.details);
    throw e;
  }
}

const NOT_FOUND = { status: 404, description: 'WEBHOOK_NOT_FOUND (or ACCOUNT_NOT_FOUND)' };

/**
 * The webhook routes, twice: per account (`/v1/accounts/{accountId}/webhooks`, admin keys of the
 * account and the superuser) and operator-wide (`/v1/webhooks`, every account: the superuser only).
 */
function webhooksController(path: string, perAccount: boolean): NestType<unknown> {
  const who = perAccount ? 'admin' : 'superuser only';
  const roles = perAccount ? AllowRoles('admin') : AllowRoles();
  const scope = perAccount ? ApiParam({ name: 'accountId', type: String }) : () => undefined;

  @ApiTags('webhooks')
  @ApiBearerAuth()
  @Controller(path)
  @roles
  @scope
  class WebhooksController {
    constructor(readonly webhooks: WebhooksService) {}

    @Post()
    @HttpCode(201)
    @ApiOperation({
      summary: `Register a webhook endpoint${perAccount ? '' : ' for every account'} (${who}); the signing secret is in this answer only`,
    })
    @ApiResponse({ status: 201, description: 'registered', schema: WEBHOOK_CREATED_RESPONSE })
    @ApiResponse({ status: 400, description: 'VALIDATION_FAILED, or WEBHOOK_URL_NOT_ALLOWED (not https, or resolves to a private address)' })
    @ApiResponse({ status: 409, description: 'WEBHOOK_LIMIT_REACHED' })
    async create(@Scope() accountId: string | null, @Body() dto: CreateWebhookDto) {
      const endpoint = await refusalsAsErrors(this.webhooks.create(accountId, dto));
      return { ...endpointView(endpoint), secret: endpoint.secret };
    }

    @Get()
    @ApiOperation({ summary: `Webhook endpoints${perAccount ? ' of the account' : ' for every account'} (${who})` })
    @ApiResponse({ status: 200, description: 'oldest first', schema: WEBHOOKS_RESPONSE })
    async list(@Scope() accountId: string | null) {
      return { items: (await refusalsAsErrors(this.webhooks.list(accountId))).map(endpointView) };
    }

    @Get(':webhookId')
    @ApiOperation({ summary: `One webhook endpoint (${who})` })
    @ApiResponse({ status: 200, description: 'the endpoint', schema: WEBHOOK_RESPONSE })
    @ApiResponse(NOT_FOUND)
    async one(@Scope() accountId: string | null, @Param('webhookId') webhookId: string) {
      return endpointView(await refusalsAsErrors(this.webhooks.get(accountId, webhookId)));
    }

    @Patch(':webhookId')
    @ApiOperation({ summary: `Change the URL, the event types, the description, or enable/disable (${who})` })
    @ApiResponse({ status: 200, description: 'the endpoint as changed', schema: WEBHOOK_RESPONSE })
    @ApiResponse({ status: 400, description: 'VALIDATION_FAILED or WEBHOOK_URL_NOT_ALLOWED' })
    @ApiResponse(NOT_FOUND)
    async update(@Scope() accountId: string | null, @Param('webhookId') webhookId: string, @Body() dto: UpdateWebhookDto) {
      return endpointView(await refusalsAsErrors(this.webhooks.update(accountId, webhookId, dto)));
    }

    @Delete(':webhookId')
    @ApiOperation({ summary: `Delete an endpoint and its delivery log (${who})` })
    @ApiResponse({ status: 200, description: 'deleted', schema: WEBHOOK_DELETED_RESPONSE })
    @ApiResponse(NOT_FOUND)
    async remove(@Scope() accountId: string | null, @Param('webhookId') webhookId: string) {
      await refusalsAsErrors(this.webhooks.remove(accountId, webhookId));
      return { webhookId, deleted: true };
    }

    @Post(':webhookId/rotate-secret')
    @HttpCode(200)
    @ApiOperation({ summary: `A new signing secret; the old one keeps signing alongside it for 24 h (${who})` })
    @ApiResponse({ status: 200, description: 'rotated: the new secret, shown only here', schema: SECRET_ROTATED_RESPONSE })
    @ApiResponse(NOT_FOUND)
    async rotate(@Scope() accountId: string | null, @Param('webhookId') webhookId: string) {
      const { endpoint, secret } = await refusalsAsErrors(this.webhooks.rotate(accountId, webhookId));
      return { webhookId: endpoint.id, secret, previousSecretExpiresAt: new Date(endpoint.previousSecretUntil!).toISOString() };
    }

    @Get(':webhookId/deliveries')
    @ApiOperation({ summary: `The delivery log, newest first: attempts, status codes, latency, next attempt (${who})` })
    @ApiResponse({ status: 200, description: 'a page of deliveries', schema: DELIVERIES_RESPONSE })
    @ApiResponse(NOT_FOUND)
    async deliveries(@Scope() accountId: string | null, @Param('webhookId') webhookId: string, @Query() params: DeliveriesParams) {
      const limit = params.limit ?? DEFAULT_DELIVERIES_PAGE;
      const items = await refusalsAsErrors(this.webhooks.deliveries(accountId, webhookId, params.status, limit, params.before));
      return { items: items.map(deliveryView), nextCursor: items.length === limit ? items[items.length - 1].seq : null };
    }

    @Post(':webhookId/deliveries/:deliveryId/retry')
    @HttpCode(202)
    @ApiOperation({ summary: `Attempt a failed (or waiting) delivery again now, in its lane's order (${who})` })
    @ApiResponse({ status: 202, description: 'queued', schema: DELIVERY_RESPONSE })
    @ApiResponse({ status: 404, description: 'WEBHOOK_NOT_FOUND, DELIVERY_NOT_FOUND (or ACCOUNT_NOT_FOUND)' })
    @ApiResponse({ status: 409, description: 'DELIVERY_ALREADY_SUCCEEDED: replay its position instead' })
    async retry(@Scope() accountId: string | null, @Param('webhookId') webhookId: string, @Param('deliveryId') deliveryId: string) {
      return deliveryView(await refusalsAsErrors(this.webhooks.retry(accountId, webhookId, deliveryId)));
    }

    @Post(':webhookId/replay')
    @HttpCode(202)
    @ApiOperation({ summary: `Re-send what the endpoint subscribes to, from a ledger position on, with the same webhook-ids (${who})` })
    @ApiResponse({ status: 202, description: 'queued', schema: REPLAY_RESPONSE })
    @ApiResponse(NOT_FOUND)
    async replay(@Scope() accountId: string | null, @Param('webhookId') webhookId: string, @Query() params: ReplayParams) {
      const result = await refusalsAsErrors(this.webhooks.replay(accountId, webhookId, params.fromPosition));
      return { webhookId, fromPosition: params.fromPosition, ...result };
    }
  }
  // Distinct names: the OpenAPI operation ids derive from them.
  Object.defineProperty(WebhooksController, 'name', { value: perAccount ? 'AccountWebhooksController' : 'OperatorWebhooksController' });
  return WebhooksController;
}

export const AccountWebhooksController = webhooksController('v1/accounts/:accountId/webhooks', true);
export const OperatorWebhooksController = webhooksController('v1/webhooks', false);
