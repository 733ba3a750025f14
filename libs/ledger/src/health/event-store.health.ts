import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { EventStore } from '@credit-ledger/event-store';
import { EVENT_STORE } from '../tokens';
import { AuditService } from '../audit/audit.service';

@Injectable()
export class EventStoreHealthIndicator {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check() {
    const indicator = this.indicators.check('eventStore');
    try {
      await this.store.ping();
      return indicator.up({ headPosition: await this.store.headPosition() });
    } catch (e) {
      return indicator.down({ message: e instanceof Error ? e.message : String(e) });
    }
  }
}

/** Whether heads are signed: `/health` says so (signing off is not a failure: the server runs without a key). */
@Injectable()
export class AuditSigningHealthIndicator {
  constructor(
    private readonly audit: AuditService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  check() {
    const keyId = this.audit.currentKeyId();
    return this.indicators.check('auditSigning').up(keyId ? { signing: 'on', keyId } : { signing: 'off' });
  }
}
