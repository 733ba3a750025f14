import { Injectable } from '@nestjs/common';
import type { HttpReply } from './http-types';

/**
 * Whether this instance is draining (SIGTERM received): /health/ready then answers 503 so that the
 * load balancer stops sending new requests, while requests already on their way are still served;
 * each response then carries `Connection: close`, so that keep-alive clients reconnect, through
 * the load balancer, to another instance.
 */
@Injectable()
export class ServingState {
  private drainingSince: number | undefined;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  startDraining(): void {
    this.drainingSince ??= Date.now();
  }

  /** Called for every request (configureHttpApp's request hook). */
  markReply(reply: HttpReply): void {
    if (this.draining) reply.header('Connection', 'close');
  }
}
