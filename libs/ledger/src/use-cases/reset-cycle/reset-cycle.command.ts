import { RequestContext } from '../../http/request-context';

export class ResetCycleCommand {
  constructor(
    readonly accountId: string,
    readonly data: { readonly cycleId: string; readonly allocations?: Readonly<Record<string, number>> },
    readonly ctx: RequestContext,
  ) {}
}
