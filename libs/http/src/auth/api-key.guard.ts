import { CanActivate, createParamDecorator, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Request } from 'express';
import { canAccessAccount, Principal, Role } from '@credit-ledger/domain';
import { ApiError } from '../api-error';
import { API_KEY_AUTHENTICATOR, ApiKeyAuthenticator } from './authenticator';

const ALLOWED_ROLES = 'ledger:allowedRoles';
const PUBLIC = 'ledger:public';

/** Roles that may call a route (the superuser always may). */
export const AllowRoles = (...roles: Role[]) => SetMetadata(ALLOWED_ROLES, roles);
/** A route without authentication (health). */
export const Public = () => SetMetadata(PUBLIC, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return (ctx.switchToHttp().getRequest<Request>() as Request & { principal: Principal }).principal;
});

/**
 * Authentication (Bearer API key -> principal, else 401) and authorization (role allowed by the
 * route and key scoped to the `:accountId` in the path, else 403) for every route.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(API_KEY_AUTHENTICATOR) private readonly keys: ApiKeyAuthenticator,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]{1,512})$/.exec(header) : null;
    if (!match) throw new ApiError(401, 'UNAUTHORIZED', 'send Authorization: Bearer <apiKey>');
    const principal = await this.keys.authenticate(match[1]);
    if (!principal) throw new ApiError(401, 'UNAUTHORIZED', 'unknown or revoked API key');
    req.principal = principal;

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
