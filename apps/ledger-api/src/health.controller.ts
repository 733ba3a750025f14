import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '@credit-ledger/http';
import { AuditSigningHealthIndicator, EventStoreHealthIndicator } from '@credit-ledger/ledger';
import { ProjectionsHealthIndicator } from '@credit-ledger/projections';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly eventStore: EventStoreHealthIndicator,
    private readonly projections: ProjectionsHealthIndicator,
    private readonly auditSigning: AuditSigningHealthIndicator,
  ) {}

  @Get()
  @Public()
  @HealthCheck()
  @ApiOperation({
    summary:
      'Liveness and readiness: the event store answers and no read model is stopped (lag is reported); whether audit heads are signed (auditSigning.signing on/off); 503 otherwise',
  })
  check() {
    return this.health.check([() => this.eventStore.check(), () => this.projections.check(), () => this.auditSigning.check()]);
  }
}
