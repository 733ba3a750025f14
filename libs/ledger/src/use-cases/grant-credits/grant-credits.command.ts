import { RequestContext } from '../../http/request-context';

export class GrantCreditsCommand {
  constructor(
    readonly accountId: string,
    readonly data: { readonly grantId: string; readonly creditType: string; readonly credits: number; readonly reason: string; readonly expiresAt?: string; readonly priority?: number },
    readonly ctx: RequestContext,
  ) {}
}
