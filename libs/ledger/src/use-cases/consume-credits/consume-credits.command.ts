import { ConsumeCreditsData } from '../../../../domain/src';
import { RequestContext } from '../../http/request-context';

export class ConsumeCreditsCommand {
  constructor(
    readonly accountId: string,
    readonly data: ConsumeCreditsData,
    readonly ctx: RequestContext,
  ) {}
}
