import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';

import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '@credit-ledger/http';
import { AuditSigningHealthIndicator, EventStoreHealthIndicator } from '@credit-ledger/ledger';
import { ProjectionsHealthIndicator } from '@credit-ledger/projections';

const INDICATORS = {
  type: 'object',
  additionalProperties: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['up', 'down'] } } },
};
const HEALTH_REPORT = {
  type: 'object',
  required: ['status', 'details'],
  properties: { status: { type: 'string', enum: ['ok', 'error'] }, info: INDICATORS, error: INDICATORS, details: INDICATORS },
};

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
  @ApiResponse({ status: 200, description: 'up: every check passes', schema: HEALTH_REPORT })
  @ApiResponse({ status: 503, description: 'down: the report names the failing check', schema: HEALTH_REPORT })
  @ApiOperation({
    summary:
      'Liveness and readiness: the event store answers and no read model is stopped (lag is reported); whether audit heads are signed (auditSigning.signing on/off); 503 otherwise',
  })
  check() {
    return this.health.check([() => this.eventStore.check(), () => this.projections.check(), () => this.auditSigning.check()]);
  }
}
