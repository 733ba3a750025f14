import { RequestContext } from '../../http/request-context';

export class ConsumeCreditsBatchCommand {
  constructor(
    readonly accountId: string,
    readonly items: readonly unknown[],
    readonly ctx: RequestContext,
  ) {}
}
