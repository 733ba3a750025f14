import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { AccountIdPipe, AllowRoles, ApiError, HeavyRead, Public, StreamingReply } from '@credit-ledger/http';
import { AuditKeysDto, AuditExportParams, SignedHeadDto } from './audit.dto';
import { AuditService, ChainUnavailableError } from './audit.service';

const ERRORS = {
  401: { status: 401, description: 'UNAUTHENTICATED: no or unknown API key' },
  403: { status: 403, description: 'FORBIDDEN: a member key, or a key of another account' },
  404: { status: 404, description: 'ACCOUNT_NOT_FOUND: the account has no events' },
  409: { status: 409, description: 'CHAIN_UNAVAILABLE: the store keeps no such chain, or the events are not hashed yet' },
  503: { status: 503, description: 'STORE_UNAVAILABLE: the store does not answer (Retry-After)' },
};

function unavailable(error: unknown): never {
  if (error instanceof ChainUnavailableError) throw new ApiError(409, 'CHAIN_UNAVAILABLE', error.message);
  throw error;
}

@ApiTags('audit')
@Controller()
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('v1/accounts/:accountId/audit/head')
  @ApiBearerAuth()
  @AllowRoles('admin', 'analyst')
  @ApiOperation({ summary: 'The account’s hash-chain head (last revision, position and hash), signed; archive it to check later exports' })
  @ApiOkResponse({ type: SignedHeadDto })
  @ApiResponse(ERRORS[401])
  @ApiResponse(ERRORS[403])
  @ApiResponse(ERRORS[404])
  @ApiResponse(ERRORS[409])
  @ApiResponse(ERRORS[503])
  async head(@Param('accountId', AccountIdPipe) accountId: string): Promise<SignedHeadDto> {
    const head = await this.audit.accountHead(accountId).catch(unavailable);
    if (!head) throw new ApiError(404, 'ACCOUNT_NOT_FOUND', `account ${accountId} has no events`);
    return head;
  }

  @Get('v1/audit/checkpoint')
  @ApiBearerAuth()
  @AllowRoles()
  @ApiOperation({ summary: 'The global chain’s head (last position and hash), signed (superuser)' })
  @ApiOkResponse({ type: SignedHeadDto })
  @ApiResponse(ERRORS[401])
  @ApiResponse({ status: 403, description: 'FORBIDDEN: any key but the superuser’s' })
  @ApiResponse(ERRORS[409])
  @ApiResponse(ERRORS[503])
  checkpoint(): Promise<SignedHeadDto> {
    return this.audit.checkpoint().catch(unavailable);
  }

  @Get('v1/audit/keys')
  @Public()
  @ApiOperation({ summary: 'The public keys heads are signed with: the current one and the retired ones with their validity (no key needed)' })
  @ApiOkResponse({ type: AuditKeysDto })
  keys(): AuditKeysDto {
    return { signing: this.audit.signingEnabled(), keys: [...this.audit.keys()] };
  }

  @Get('v1/accounts/:accountId/audit/export')
  @ApiBearerAuth()
  @AllowRoles('admin', 'analyst')
  @HeavyRead()
  @ApiProduces('application/x-ndjson')
  @ApiOperation({
    summary:
      'The account’s events with their hashes as JSON Lines: a header line, one line per event (fromRevision..toRevision), and a last line with the head signed at the last event; check it with tools/verify-audit-export.mjs',
  })
  @ApiOkResponse({
    description: 'application/x-ndjson, streamed (see docs/audit.md for the line formats)',
    content: { 'application/x-ndjson': { schema: { type: 'string', description: 'JSON Lines' } } },
  })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: fromRevision/toRevision not integers ≥ 0, or toRevision < fromRevision' })
  @ApiResponse(ERRORS[401])
  @ApiResponse(ERRORS[403])
  @ApiResponse(ERRORS[404])
  @ApiResponse(ERRORS[409])
  @ApiResponse(ERRORS[503])
  async export(@Param('accountId', AccountIdPipe) accountId: string, @Query() params: AuditExportParams, @Res() res: StreamingReply): Promise<void> {
    if (!(await this.audit.exists(accountId))) throw new ApiError(404, 'ACCOUNT_NOT_FOUND', `account ${accountId} has no events`);
    const lines = this.audit.exportAccount(accountId, params.fromRevision ?? 0, params.toRevision);
    // The first line is read before the status is sent, so an unhashed store is still a clean 409.
    const first = await lines.next().catch(unavailable);
    res.status(200);
    res.header('Content-Type', 'application/x-ndjson');
    res.header('Content-Disposition', `attachment; filename="audit-${accountId}.jsonl"`);
    // Pulled line by line as the client reads (backpressure). A failure once the headers are gone
    // cuts the response without its signed head, which the verifier rejects. The handler (and so
    // its heavy-read slot) lasts until the response is closed.
    const closed = once(res.raw, 'close');
    res.send(Readable.from(jsonLines(first, lines), { objectMode: false }));
    await closed;
  }
}

/** The export's lines as text: the first (already read), then the rest as they come. */
async function* jsonLines<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncGenerator<string> {
  if (first.done) return;
  yield `${JSON.stringify(first.value)}\n`;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield `${JSON.stringify(next.value)}\n`;
}
