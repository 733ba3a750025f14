import { applyDecorators, CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata, UseInterceptors } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable, finalize } from 'rxjs';
import { ApiError } from './api-error';
import type { HttpRequest } from './http-types';
import { HEAVY_READ_RETRY_AFTER_SECONDS, MAX_CONCURRENT_HEAVY_READS } from './limits';

const HEAVY_READ = 'ledger:heavyRead';

/** Which requests of a route are heavy (default: all of them). */
export type HeavyReadPredicate = (req: HttpRequest & { readonly query: Readonly<Record<string, unknown>> }) => boolean;

/** A counting semaphore without a queue: a slot now, or a refusal. */
export class HeavyReadSlots {
  private running = 0;

  constructor(readonly capacity = MAX_CONCURRENT_HEAVY_READS) {}

  tryAcquire(): boolean {
    if (this.running >= this.capacity) return false;
    this.running++;
    return true;
  }

  release(): void {
    this.running = Math.max(0, this.running - 1);
  }

  get inUse(): number {
    return this.running;
  }
}

/** Holds a heavy-read slot for the whole handler (a streamed CSV included), or answers 503 + Retry-After. */
@Injectable()
export class HeavyReadInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly slots: HeavyReadSlots,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const when = this.reflector.get<HeavyReadPredicate | undefined>(HEAVY_READ, ctx.getHandler());
    if (!when || !when(ctx.switchToHttp().getRequest<HttpRequest & { readonly query: Readonly<Record<string, unknown>> }>())) return next.handle();
    if (!this.slots.tryAcquire()) {
      throw new ApiError(
        503,
        'TOO_MANY_HEAVY_READS',
        `${this.slots.capacity} heavy reads (balances at an instant, CSV export, usage series) are running; retry shortly`,
        undefined,
        HEAVY_READ_RETRY_AFTER_SECONDS,
      );
    }
    return next.handle().pipe(finalize(() => this.slots.release()));
  }
}

/**
 * Marks a read whose cost grows with the account's history (a fold of every event, an export, a
 * series): at most MAX_CONCURRENT_HEAVY_READS run at once in the process; more answer 503. The
 * interceptor is bound to these routes only: an interceptor on every route would cost every
 * request Nest's interceptor chain (an observable and an async-context bind).
 */
export const HeavyRead = (when: HeavyReadPredicate = () => true) => applyDecorators(SetMetadata(HEAVY_READ, when), UseInterceptors(HeavyReadInterceptor));
