import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Request } from 'express';
import { actorOf, Caller, Principal } from '@credit-ledger/domain';

export const CORRELATION_HEADER = 'x-correlation-id';
const CORRELATION_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The transport-free caller of a command or query, built from the authenticated request. */
export const Ctx = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const req = ctx.switchToHttp().getRequest<Request & { principal: Principal }>();
  const header = req.headers[CORRELATION_HEADER];
  const correlationId = typeof header === 'string' && CORRELATION_PATTERN.test(header) ? header : randomUUID();
  return { principal: req.principal, actor: actorOf(req.principal), correlationId };
});
