import { BATCH_RESPONSE } from '../../views/response-schemas';
import { Controller, createParamDecorator, ExecutionContext, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountIdPipe, AllowRoles, Ctx, HttpRequest, validatePlain, validationFailed } from '@credit-ledger/http';
import { Caller } from '@credit-ledger/domain';
import { ConsumeCreditsDto } from '../consume-credits/consume-credits.dto';
import { toConsumeData } from '../consume-credits/consumption-view';
import { BatchItem, ConsumeCreditsBatchCommand } from './consume-credits-batch.command';
import { ConsumeCreditsBatchDto, MAX_BATCH_ITEMS } from './consume-credits-batch.dto';
import { BatchOutcome } from './consume-credits-batch.handler';

/**
 * The parsed JSON body, untouched by the global ValidationPipe: its transform would deep-copy
 * 1,000 items that the handler validates one by one anyway (a bad item must not fail the batch).
 */
// eslint-disable-next-line no-useless-assignment -- used as a parameter decorator below, which the rule does not see
const BatchBody = createParamDecorator((_: unknown, ctx: ExecutionContext): unknown => ctx.switchToHttp().getRequest<HttpRequest>().body);

@ApiTags('credits')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/consumptions/batch')
export class ConsumeCreditsBatchController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @ApiResponse({ status: 200, description: 'one result per item, in order', schema: BATCH_RESPONSE })
  @ApiResponse({ status: 409, description: 'a domain refusal with a stable code (IDEMPOTENCY_KEY_REUSED, ...)' })
  @HttpCode(200)
  @AllowRoles('admin', 'service')
  @ApiBody({ type: ConsumeCreditsBatchDto })
  @ApiOperation({
    summary: `Up to ${MAX_BATCH_ITEMS} consumptions in order, one result each (status 201/200/400/409); one durable append for the lot.`,
  })
  batch(@Param('accountId', AccountIdPipe) accountId: string, @BatchBody() body: unknown, @Ctx() caller: Caller): Promise<BatchOutcome> {
    const envelope = validatePlain(ConsumeCreditsBatchDto, body);
    if ('problems' in envelope) throw validationFailed(envelope.problems.map((p) => ({ field: p.field || 'body', reason: p.reason })));
    // Each item is validated on its own: a bad one answers 400 alone and never blocks the others.
    const items = envelope.value.items.map((item): BatchItem => {
      const checked = validatePlain(ConsumeCreditsDto, item);
      return 'value' in checked ? { data: toConsumeData(checked.value) } : checked;
    });
    return this.commands.execute(new ConsumeCreditsBatchCommand(accountId, items, caller));
  }
}
