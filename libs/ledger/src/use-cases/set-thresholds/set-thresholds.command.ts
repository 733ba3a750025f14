import { Threshold } from '../../../../domain/src';
import { RequestContext } from '../../http/request-context';

export class SetThresholdsCommand {
  constructor(
    readonly accountId: string,
    readonly creditTypes: Readonly<Record<string, readonly Threshold[]>>,
    readonly ctx: RequestContext,
  ) {}
}
