import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { STATE_DATABASE, StateDatabase } from '../state/state-database';

/** The shared-state database (keys, billing lease) answers: without it no key can be checked. */
@Injectable()
export class StateDatabaseHealthIndicator {
  constructor(
    @Inject(STATE_DATABASE) private readonly state: StateDatabase,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check() {
    const indicator = this.indicators.check('sharedState');
    try {
      await this.state.ping();
      return indicator.up({ kind: this.state.kind });
    } catch (e) {
      return indicator.down({ kind: this.state.kind, message: e instanceof Error ? e.message : String(e) });
    }
  }
}
