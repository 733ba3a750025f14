import { HttpException } from '@nestjs/common';

export interface FieldProblem {
  readonly field: string;
  readonly reason: string;
}

/** An error with the contract's body: `{error: CODE, message, details?}`. */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Sent as Retry-After (seconds) with the answer. */
    readonly retryAfterSeconds?: number,
  ) {
    super({ error: code, message, ...(details === undefined ? {} : { details }) }, status);
  }
}

export function validationFailed(problems: readonly FieldProblem[]): ApiError {
  const summary = problems
    .slice(0, 5)
    .map((p) => `${p.field}: ${p.reason}`)
    .join('; ');
  return new ApiError(400, 'VALIDATION_FAILED', `request validation failed: ${summary}`, problems);
}
