import { Plan } from '../../../../domain/src';
import { RequestContext } from '../../http/request-context';

export class OpenAccountCommand {
  constructor(
    readonly accountId: string,
    readonly name: string,
    readonly plan: Plan,
    readonly ctx: RequestContext,
  ) {}
}
