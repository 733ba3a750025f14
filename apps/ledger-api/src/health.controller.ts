import { Controller, Get, HttpCode } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Public, ServingState } from '@credit-ledger/http';
import { AuditSigningHealthIndicator, EventStoreHealthIndicator, StateDatabaseHealthIndicator } from '@credit-ledger/ledger';
import { ProjectionsHealthIndicator } from '@credit-ledger/projections';

/**
 * A `/health` report answers every request that arrives within this many milliseconds of its
 * start (the requests during its check included): a server probed many times a second runs one
 * check per window instead of one per request (its store and read-model queries). `/health/ready`
 * is checked at every request: the draining flag must turn it down at once.
 */
export const HEALTH_REPORT_MAX_AGE_MS = 20;

/** The latest report (or the check under way), shared while it is younger than `maxAgeMs`; a failed check (503) is shared the same way. */
export class SharedReport<T> {
  private latest: { readonly startedAtMs: number; readonly report: Promise<T> } | undefined;

  constructor(
    private readonly maxAgeMs: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  get(check: () => Promise<T>): Promise<T> {
    const now = this.nowMs();
    if (this.latest !== undefined && now - this.latest.startedAtMs < this.maxAgeMs) return this.latest.report;
    const report = check();
    this.latest = { startedAtMs: now, report };
    return report;
  }
}

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
  private readonly report = new SharedReport<HealthCheckResult>(HEALTH_REPORT_MAX_AGE_MS);

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
    summary: `Liveness and readiness: the event store answers and no read model is stopped (lag is reported); whether audit heads are signed (auditSigning.signing on/off); 503 otherwise. One check answers every request within ${HEALTH_REPORT_MAX_AGE_MS} ms of its start`,
  })
  check(): Promise<HealthCheckResult> {
    return this.report.get(() => this.health.check([() => this.eventStore.check(), () => this.projections.check(), () => this.auditSigning.check()]));
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
