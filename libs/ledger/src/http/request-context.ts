import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Request } from 'express';
import { actorOf, Principal } from '../auth/principal';

export const CORRELATION_HEADER = 'x-correlation-id';
const CORRELATION_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Who asked and in which conversation: becomes the events' actor and correlationId. */
export interface RequestContext {
  readonly principal: Principal;
  readonly actor: string;
  readonly correlationId: string;
}

export const Ctx = createParamDecorator((_: unknown, ctx: ExecutionContext): RequestContext => {
  const req = ctx.switchToHttp().getRequest<Request & { principal: Principal }>();
  const header = req.headers[CORRELATION_HEADER];
  const correlationId = typeof header === 'string' && CORRELATION_PATTERN.test(header) ? header : randomUUID();
  return { principal: req.principal, actor: actorOf(req.principal), correlationId };
});
