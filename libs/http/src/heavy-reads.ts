import { applyDecorators, CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata, UseInterceptors } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable, finalize, from, mergeMap } from 'rxjs';
import { ApiError } from './api-error';
import type { HttpRequest } from './http-types';
import { HEAVY_READ_QUEUE_WAIT_MS, HEAVY_READ_RETRY_AFTER_SECONDS, MAX_CONCURRENT_HEAVY_READS, MAX_QUEUED_HEAVY_READS } from './limits';

const HEAVY_READ = 'ledger:heavyRead';

/** Which requests of a route are heavy (default: all of them). */
export type HeavyReadPredicate = (req: HttpRequest & { readonly query: Readonly<Record<string, unknown>> }) => boolean;

interface Waiting {
  readonly grant: (granted: boolean) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * A counting semaphore with a short queue: a slot now, or after the reads ahead in the queue within
 * `queueWaitMs`, or a refusal. The queue is first come, first served: without it, a client refused
 * and told to come back later lost every freed slot to clients that came back at once.
 */
export class HeavyReadSlots {
  private running = 0;
  private readonly waiting: Waiting[] = [];

  constructor(
    readonly capacity = MAX_CONCURRENT_HEAVY_READS,
    readonly queueLength = MAX_QUEUED_HEAVY_READS,
    readonly queueWaitMs = HEAVY_READ_QUEUE_WAIT_MS,
  ) {}

  /** A slot now, if one is free and no read is queued before this one. */
  tryAcquire(): boolean {
    if (this.running >= this.capacity || this.waiting.length > 0) return false;
    this.running++;
    return true;
  }

  /** True once this read holds a slot; false when the queue is full or the wait ran out. */
  acquire(): Promise<boolean> {
    if (this.tryAcquire()) return Promise.resolve(true);
    if (this.waiting.length >= this.queueLength) return Promise.resolve(false);
    return new Promise((resolve) => {
      const entry: Waiting = {
        grant: resolve,
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(entry), 1);
          resolve(false);
        }, this.queueWaitMs),
      };
      this.waiting.push(entry);
    });
  }

  /** Frees a slot, or hands it straight to the first read in the queue. */
  release(): void {
    const next = this.waiting.shift();
    if (next === undefined) {
      this.running = Math.max(0, this.running - 1);
      return;
    }
    clearTimeout(next.timer);
    next.grant(true);
  }

  get inUse(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
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
    return from(this.slots.acquire()).pipe(
      mergeMap((granted) => {
        if (!granted) {
          throw new ApiError(
            503,
            'TOO_MANY_HEAVY_READS',
            `${this.slots.capacity} heavy reads (balances at an instant, CSV export, usage series) are running; retry shortly`,
            undefined,
            HEAVY_READ_RETRY_AFTER_SECONDS,
          );
        }
        return next.handle().pipe(finalize(() => this.slots.release()));
      }),
    );
  }
}

/**
 * Marks a read whose cost grows with the account's history (a fold of every event, an export, a
 * series): at most MAX_CONCURRENT_HEAVY_READS run at once in the process, up to
 * MAX_QUEUED_HEAVY_READS more wait in order for up to HEAVY_READ_QUEUE_WAIT_MS, the rest answer 503. The
 * interceptor is bound to these routes only: an interceptor on every route would cost every
 * request Nest's interceptor chain (an observable and an async-context bind).
 */
export const HeavyRead = (when: HeavyReadPredicate = () => true) => applyDecorators(SetMetadata(HEAVY_READ, when), UseInterceptors(HeavyReadInterceptor));
