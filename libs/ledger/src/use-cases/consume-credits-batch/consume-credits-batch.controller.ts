import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowRoles } from '../../auth/access';
import { AccountIdPipe } from '../../http/account-id.pipe';
import { Ctx, RequestContext } from '../../http/request-context';
import { ConsumeCreditsBatchCommand } from './consume-credits-batch.command';
import { ConsumeCreditsBatchDto, MAX_BATCH_ITEMS } from './consume-credits-batch.dto';
import { BatchOutcome } from './consume-credits-batch.handler';

@ApiTags('credits')
@ApiBearerAuth()
@Controller('v1/accounts/:accountId/consumptions/batch')
export class ConsumeCreditsBatchController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(200)
  @AllowRoles('admin', 'service')
  @ApiOperation({
    summary: `Up to ${MAX_BATCH_ITEMS} consumptions in order, one result each (status 201/200/400/409); one durable append for the lot.`,
  })
  batch(@Param('accountId', AccountIdPipe) accountId: string, @Body() dto: ConsumeCreditsBatchDto, @Ctx() ctx: RequestContext): Promise<BatchOutcome> {
    return this.commands.execute(new ConsumeCreditsBatchCommand(accountId, dto.items, ctx));
  }
}
