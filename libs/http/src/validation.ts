import { ValidationError, ValidationPipe } from '@nestjs/common';
import { validateSync, ValidatorOptions } from 'class-validator';
import { FieldProblem, validationFailed } from './api-error';

export const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  stopAtFirstError: true,
  validationError: { target: false, value: false },
};

/** class-validator errors flattened to `{field: "plan.creditTypes.email.allocation", reason}`. */
export function toFieldProblems(errors: readonly ValidationError[], parent = ''): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    for (const reason of Object.values(e.constraints ?? {})) out.push({ field, reason });
    if (e.children?.length) out.push(...toFieldProblems(e.children, field));
  }
  return out;
}

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    exceptionFactory: (errors) => validationFailed(toFieldProblems(errors)),
  });
}

/**
 * Validates one plain value against a flat DTO class (no nested DTOs, no transforms), for inputs
 * validated item by item (batches). Copying the fields onto an instance is all class-validator
 * needs, and an order of magnitude cheaper than class-transformer on a 1,000-item batch.
 */
export function validatePlain<T extends object>(cls: new () => T, plain: unknown): { value: T } | { problems: FieldProblem[] } {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    return { problems: [{ field: '', reason: 'each item must be a JSON object' }] };
  }
  const value = Object.assign(new cls(), plain);
  const errors = validateSync(value, VALIDATOR_OPTIONS);
  return errors.length === 0 ? { value } : { problems: toFieldProblems(errors) };
}
