import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { actorOf, Caller, Principal } from '@credit-ledger/domain';

import type { HttpRequest } from './http-types';
import { MAX_CORRELATION_ID_LENGTH } from './limits';

export const CORRELATION_HEADER = 'x-correlation-id';
const CORRELATION_PATTERN = new RegExp(`^[A-Za-z0-9_.:-]{1,${MAX_CORRELATION_ID_LENGTH}}$`);

/** The client's correlation id when it is well formed (at most MAX_CORRELATION_ID_LENGTH safe characters), else undefined. */
export function correlationIdOf(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && CORRELATION_PATTERN.test(header) ? header : undefined;
}

/** The transport-free caller of a command or query, built from the authenticated request. */
export const Ctx = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const req = ctx.switchToHttp().getRequest<HttpRequest & { principal: Principal }>();
  const correlationId = correlationIdOf(req.headers[CORRELATION_HEADER]) ?? randomUUID();
  return { principal: req.principal, actor: actorOf(req.principal), correlationId };
});
