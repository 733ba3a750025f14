import { CanActivate, createParamDecorator, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { canAccessAccount, Principal, Role } from '@credit-ledger/domain';
import { ApiError } from '../api-error';
import type { HttpReply, HttpRequest } from '../http-types';
import { API_KEY_AUTHENTICATOR, ApiKeyAuthenticator } from './authenticator';
import { FailedAuthLimiter, PerKeyRateLimiter } from './request-limits';

/** Per-key request limit of the guard (null: off). */
export const PER_KEY_RATE_LIMIT = Symbol('PER_KEY_RATE_LIMIT');

const ALLOWED_ROLES = 'ledger:allowedRoles';
const PUBLIC = 'ledger:public';

/** Roles that may call a route (the superuser always may). */
export const AllowRoles = (...roles: Role[]) => SetMetadata(ALLOWED_ROLES, roles);
/** A route without authentication (health). */
export const Public = () => SetMetadata(PUBLIC, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return ctx.switchToHttp().getRequest<HttpRequest & { principal: Principal }>().principal;
});

/**
 * Authentication (Bearer API key -> principal, else 401; too many failures from one address: 429)
 * and authorization (role allowed by the route and key scoped to the `:accountId` in the path,
 * else 403) for every route. Authenticated answers are never cached (`Cache-Control: no-store`).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly failedAuth = new FailedAuthLimiter();
  private readonly perKey: PerKeyRateLimiter | undefined;

  constructor(
    private readonly reflector: Reflector,
    @Inject(API_KEY_AUTHENTICATOR) private readonly keys: ApiKeyAuthenticator,
    @Inject(PER_KEY_RATE_LIMIT) perKeyPerMinute: number | null,
  ) {
    this.perKey = perKeyPerMinute ? new PerKeyRateLimiter(perKeyPerMinute) : undefined;
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<HttpRequest & { principal?: Principal }>();
    const address = req.ip ?? req.socket?.remoteAddress ?? 'unknown';
    await this.failedAuth.refuseIfBlocked(address);
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]{1,512})$/.exec(header) : null;
    const principal = match ? await this.keys.authenticate(match[1]) : undefined;
    if (!principal) {
      await this.failedAuth.recordFailure(address);
      throw match ? new ApiError(401, 'UNAUTHORIZED', 'unknown or revoked API key') : new ApiError(401, 'UNAUTHORIZED', 'send Authorization: Bearer <apiKey>');
    }
    req.principal = principal;
    ctx.switchToHttp().getResponse<HttpReply>().header('Cache-Control', 'no-store');
    await this.perKey?.take(principal.kind === 'key' ? principal.keyId : principal.kind);

    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ALLOWED_ROLES, targets) ?? [];
    if (principal.kind === 'key' && !roles.includes(principal.role)) {
      throw new ApiError(403, 'FORBIDDEN', `the ${principal.role} role may not call this endpoint`);
    }
    const accountId = req.params?.accountId;
    if (typeof accountId === 'string' && !canAccessAccount(principal, accountId)) {
      throw new ApiError(403, 'FORBIDDEN', 'this API key is not allowed on that account');
    }
    return true;
  }
}
