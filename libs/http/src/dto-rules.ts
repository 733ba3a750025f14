import { Transform } from 'class-transformer';
import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { IDENTIFIER_PATTERN, MAX_INSTANT_YEAR, MIN_INSTANT_YEAR, parseInstant } from '@credit-ledger/domain';

/** Keys of a JSON object (converted to a Map) must be identifiers; 1..max entries. */
export function IsIdentifierKeyedMap(maxEntries: number, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isIdentifierKeyedMap',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate(value: unknown) {
          if (!(value instanceof Map)) return false;
          if (value.size === 0 || value.size > maxEntries) return false;
          for (const key of value.keys()) if (typeof key !== 'string' || !IDENTIFIER_PATTERN.test(key)) return false;
          return true;
        },
        defaultMessage(args: ValidationArguments) {
          return `${args.property} must be an object with 1..${maxEntries} keys matching ${IDENTIFIER_PATTERN}`;
        },
      },
    });
}

/** Each value of a Map must be an integer in [min, max]. */
export function IsIntegerValues(min: number, max: number, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isIntegerValues',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate(value: unknown) {
          if (!(value instanceof Map)) return false;
          for (const v of value.values()) if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) return false;
          return true;
        },
        defaultMessage(args: ValidationArguments) {
          return `every value of ${args.property} must be an integer between ${min} and ${max}`;
        },
      },
    });
}

/** The property may only be given when `other` equals `expected`. */
export function OnlyWhen(other: string, expected: unknown, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'onlyWhen',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          return value === undefined || (args.object as Record<string, unknown>)[other] === expected;
        },
        defaultMessage(args: ValidationArguments) {
          return `${args.property} is only allowed when ${other} is ${JSON.stringify(expected)}`;
        },
      },
    });
}

/** An ISO-8601 instant with a time zone, not more than `maxFutureMs` ahead of now. */
export function IsInstant(maxFutureMs: number | null, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isInstant',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate(value: unknown) {
          const instant = parseInstant(value);
          if (instant === null) return false;
          return maxFutureMs === null || instant <= Date.now() + maxFutureMs;
        },
        defaultMessage(args: ValidationArguments) {
          return maxFutureMs === null
            ? `${args.property} must be an ISO-8601 instant with a time zone on a real calendar date, years ${MIN_INSTANT_YEAR}..${MAX_INSTANT_YEAR} (e.g. 2026-11-21T10:00:00Z)`
            : `${args.property} must be an ISO-8601 instant with a time zone on a real calendar date, years ${MIN_INSTANT_YEAR}..${MAX_INSTANT_YEAR}, not in the future`;
        },
      },
    });
}

/** Clock skew tolerated on client-supplied business times. */
export const MAX_CLIENT_CLOCK_SKEW_MS = 5 * 60_000;

/** A plain JSON object becomes a Map (values untouched, no coercion); anything else is left for the validators to refuse. */
export function toMapOrKeep(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Map)) {
    return new Map(Object.entries(value as Record<string, unknown>));
  }
  return value;
}

/**
 * class-transformer builds a Map from a JSON object but silently skips keys such as `constructor`:
 * they are put back (with their raw values) so that the key validator refuses them with a 400.
 */
export function KeepEveryKey() {
  return Transform(({ key, obj, value }) => {
    const raw = (obj as Record<string, unknown>)[key];
    if (!(value instanceof Map) || raw === null || typeof raw !== 'object' || Array.isArray(raw)) return value;
    const keys = Object.keys(raw);
    if (keys.length === value.size) return value;
    const complete = new Map(value);
    for (const name of keys) if (!complete.has(name)) complete.set(name, (raw as Record<string, unknown>)[name]);
    return complete;
  });
}

/** A free-form rule: `check(value, object)` must hold; `message` names what is expected. */
export function Satisfies(check: (value: unknown, object: Record<string, unknown>) => boolean, message: string, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'satisfies',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          return check(value, args.object as Record<string, unknown>);
        },
        defaultMessage(args: ValidationArguments) {
          return `${args.property} ${message}`;
        },
      },
    });
}
