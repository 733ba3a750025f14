import { RequestContext } from '../../http/request-context';

export class RefundCreditsCommand {
  constructor(
    readonly accountId: string,
    readonly data: { readonly refundId: string; readonly consumptionId: string; readonly credits?: number; readonly reason: string },
    readonly ctx: RequestContext,
  ) {}
}
