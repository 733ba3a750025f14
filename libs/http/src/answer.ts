import type { HttpReply } from './http-types';

/** What a single-command handler answers: 201 for a new movement, 200 for an idempotent retry. */
export interface HttpOutcome<B> {
  readonly status: 200 | 201;
  readonly body: B;
}

/** Sets the outcome's status (201 new, 200 idempotent retry) and returns its body. */
export function answer<B>(res: HttpReply, outcome: HttpOutcome<B>): B {
  res.status(outcome.status);
  return outcome.body;
}
