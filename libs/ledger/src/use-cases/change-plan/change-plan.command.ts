import { CreditTypePlan } from '../../../../domain/src';
import { RequestContext } from '../../http/request-context';

export class ChangePlanCommand {
  constructor(
    readonly accountId: string,
    readonly data: { readonly planId: string; readonly creditTypes: Readonly<Record<string, CreditTypePlan>>; readonly effective?: 'now' | 'next_cycle' },
    readonly ctx: RequestContext,
  ) {}
}
