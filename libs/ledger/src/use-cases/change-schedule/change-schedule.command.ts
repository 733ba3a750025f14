import { CycleSchedule } from '../../../../domain/src';
import { RequestContext } from '../../http/request-context';

export class ChangeScheduleCommand {
  constructor(
    readonly accountId: string,
    readonly schedule: CycleSchedule,
    readonly ctx: RequestContext,
  ) {}
}
