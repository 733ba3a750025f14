import { Controller, Get, HttpCode } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Public, ServingState } from '@credit-ledger/http';
import { AuditSigningHealthIndicator, EventStoreHealthIndicator, StateDatabaseHealthIndicator } from '@credit-ledger/ledger';
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
    private readonly sharedState: StateDatabaseHealthIndicator,
    private readonly projections: ProjectionsHealthIndicator,
    private readonly auditSigning: AuditSigningHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly serving: ServingState,
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

  @Get('live')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Liveness: the process is up and its event loop answers (also while draining); restart the instance only when this fails',
  })
  @ApiOkResponse({
    description: 'The process is up',
    schema: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @HealthCheck()
  @ApiResponse({ status: 200, description: 'ready: every check passes', schema: HEALTH_REPORT })
  @ApiResponse({ status: 503, description: 'not ready (draining, or a check fails): the report names it', schema: HEALTH_REPORT })
  @ApiOperation({
    summary:
      'Readiness: the event store and the shared-state database answer, the read models follow the log (none stopped) and the instance is not draining; 503 otherwise (send it no new requests)',
  })
  ready() {
    return this.health.check([() => this.draining(), () => this.eventStore.check(), () => this.sharedState.check(), () => this.projections.check()]);
  }

  private draining() {
    const indicator = this.indicators.check('serving');
    return this.serving.draining ? indicator.down({ draining: true }) : indicator.up({ draining: false });
  }
}
