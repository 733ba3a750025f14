import { ValidationError, ValidationPipe } from '@nestjs/common';
import { validateSync, ValidatorOptions } from 'class-validator';
import { FieldProblem, validationFailed } from './api-error';
import { CompiledValidationPipe, validateCompiled } from './compiled-validation';

export const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  // Every constraint is checked; toFieldProblems reports the one that explains the value best.
  stopAtFirstError: false,
  validationError: { target: false, value: false },
};

/** Constraints that say what kind of value is expected: reported before any range or pattern ("1" is not "too large", it is not an integer). */
const KIND_CONSTRAINTS = ['whitelistValidation', 'isDefined', 'isString', 'isInt', 'isNumber', 'isBoolean', 'isArray', 'isObject', 'isIn', 'isEnum'];

function bestReason(constraints: Record<string, string>): string | undefined {
  const kind = KIND_CONSTRAINTS.find((name) => constraints[name] !== undefined);
  return kind !== undefined ? constraints[kind] : Object.values(constraints)[0];
}

/** class-validator errors flattened to `{field: "plan.creditTypes.email.allocation", reason}`, one reason per field. */
export function toFieldProblems(errors: readonly ValidationError[], parent = ''): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const reason = bestReason(e.constraints ?? {});
    if (reason !== undefined) out.push({ field, reason });
    if (e.children?.length) out.push(...toFieldProblems(e.children, field));
  }
  return out;
}

export function createValidationPipe(): ValidationPipe {
  return new CompiledValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    exceptionFactory: (errors) => validationFailed(toFieldProblems(errors)),
  });
}

const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Validates one plain value against a flat DTO class (no nested DTOs, no transforms), for inputs
 * validated item by item (batches). Copying the fields onto an instance is all class-validator
 * needs, and an order of magnitude cheaper than class-transformer on a 1,000-item batch.
 */
export function validatePlain<T extends object>(cls: new () => T, plain: unknown): { value: T } | { problems: FieldProblem[] } {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    return { problems: [{ field: '', reason: 'each item must be a JSON object' }] };
  }
  const compiled = validateCompiled(cls, plain) as T | null;
  if (compiled !== null) return { value: compiled };
  const value = new cls() as Record<string, unknown>;
  // The keys Nest's ValidationPipe strips from a body are dropped here too, so that an item of a
  // batch or a Kafka message is judged like the same body sent alone (copied, `__proto__` would
  // replace the instance's prototype).
  for (const key of Object.keys(plain)) if (!PROTOTYPE_KEYS.has(key)) value[key] = (plain as Record<string, unknown>)[key];
  const errors = validateSync(value, VALIDATOR_OPTIONS);
  return errors.length === 0 ? { value: value as T } : { problems: toFieldProblems(errors) };
}
