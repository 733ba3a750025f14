import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { TransformationType } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, ValidationArguments, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

/**
 * Validators built once per DTO class, from class-validator's own metadata, for the request bodies
 * and query parameters of the hot routes.
 *
 * class-validator re-reads and groups a class's metadata, builds an error object per property and
 * runs class-transformer's generic copy on every request. For a flat DTO (string, number, boolean
 * or null fields; no nested DTO, no async or `each` rule; of class-transformer, only `@Type` to a
 * primitive and `@Transform`, as query parameters use them), the same conversions and constraint
 * instances are called here directly, in the same order. The compiled
 * check only ever says "valid": on anything else the request takes the full class-validator path,
 * so every refusal keeps exactly today's field and reason. A differential property test holds the
 * two paths to the same answer on valid and invalid bodies alike.
 */

type FieldCheck = (dto: Record<string, unknown>) => boolean;
/** class-transformer's conversion of one property's plain value (`plain` is the whole plain object). */
type Conversion = (value: unknown, plain: object) => unknown;

export interface CompiledDto {
  readonly properties: ReadonlySet<string>;
  readonly check: FieldCheck;
  /** The properties class-transformer converts (`@Type` to a primitive, `@Transform`), and how. */
  readonly conversions: ReadonlyMap<string, Conversion>;
}

const compiled = new WeakMap<object, CompiledDto | null>();

/** The compiled validator of a DTO class, or null when the class needs class-validator's full path. */
export function compiledDtoOf(cls: new () => object): CompiledDto | null {
  let found = compiled.get(cls);
  if (found === undefined) {
    found = compile(cls);
    compiled.set(cls, found);
  }
  return found;
}

function compile(cls: new () => object): CompiledDto | null {
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(cls, '', false, false, undefined);
  const conversions = metadatas.length === 0 ? null : conversionsOf(cls, metadatas);
  if (conversions === null) return null;
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const m of metadatas) {
    if (!isCompilable(m)) return null;
    const list = byProperty.get(m.propertyName) ?? [];
    list.push(m);
    byProperty.set(m.propertyName, list);
  }
  const checks = [...byProperty].map(([property, list]) => propertyCheck(cls.name, property, list));
  return {
    properties: new Set(byProperty.keys()),
    conversions,
    check: (dto) => {
      for (const check of checks) if (!check(dto)) return false;
      return true;
    },
  };
}

/** Rules class-validator runs synchronously on the value itself (no groups, no `each`, no nested class). */
function isCompilable(m: ValidationMetadata): boolean {
  if (m.each || m.always !== undefined || (m.groups?.length ?? 0) > 0) return false;
  if (m.type === ValidationTypes.CONDITIONAL_VALIDATION || m.type === ValidationTypes.WHITELIST) return true;
  if (m.type !== ValidationTypes.CUSTOM_VALIDATION && m.type !== ValidationTypes.IS_DEFINED) return false;
  return getMetadataStorage()
    .getTargetValidatorConstraints(m.constraintCls)
    .every((c) => !c.async);
}

/** What class-transformer does to a plain value for `@Type(() => Number | String | Boolean)` (null and undefined stay). */
const PRIMITIVE_TYPES: ReadonlyMap<unknown, (value: unknown) => unknown> = new Map<unknown, (value: unknown) => unknown>([
  [Number, (value) => (value === null || value === undefined ? value : Number(value))],
  [String, (value) => (value === null || value === undefined ? value : String(value))],
  [Boolean, (value) => (value === null || value === undefined ? value : Boolean(value))],
]);

/**
 * class-transformer's plain-to-class conversion of each property, when it is one repeated here
 * exactly: a copy, a `@Type` to a primitive, then the `@Transform` functions (without groups or
 * versions). null when anything else is declared (a nested type, `@Expose`, `@Exclude`, a strategy).
 */
function conversionsOf(cls: new () => object, metadatas: readonly ValidationMetadata[]): Map<string, Conversion> | null {
  const storage = defaultMetadataStorage;
  if (storage.getStrategy(cls) !== 'none' || storage.getExposedMetadatas(cls).length > 0 || storage.getExcludedMetadatas(cls).length > 0) return null;
  const conversions = new Map<string, Conversion>();
  for (const property of new Set(metadatas.map((m) => m.propertyName))) {
    const type = storage.findTypeMetadata(cls, property);
    let toType: ((value: unknown) => unknown) | undefined;
    if (type !== undefined) {
      if (type.options?.discriminator !== undefined) return null;
      const target = type.typeFunction ? type.typeFunction({ newObject: {}, object: {}, property }) : type.reflectedType;
      toType = PRIMITIVE_TYPES.get(target);
      if (toType === undefined) return null;
    }
    const transforms = storage.findTransformMetadatas(cls, property, TransformationType.PLAIN_TO_CLASS);
    if (transforms.some(({ options }) => (options?.groups?.length ?? 0) > 0 || options?.since !== undefined || options?.until !== undefined)) return null;
    if (toType === undefined && transforms.length === 0) continue;
    conversions.set(property, (value, plain) => {
      let converted = toType ? toType(value) : value;
      for (const { transformFn } of transforms) {
        converted = transformFn({
          value: converted,
          key: property,
          obj: plain as Record<string, unknown>,
          type: TransformationType.PLAIN_TO_CLASS,
          options: {},
        });
      }
      return converted;
    });
  }
  return conversions;
}

/** One property, as ValidationExecutor.performValidations runs it: conditions, then IS_DEFINED, then the rest. */
function propertyCheck(targetName: string, property: string, list: readonly ValidationMetadata[]): FieldCheck {
  const conditions = list.filter((m) => m.type === ValidationTypes.CONDITIONAL_VALIDATION).map((m) => m.constraints[0] as (o: object, v: unknown) => boolean);
  const rules = [...list.filter((m) => m.type === ValidationTypes.IS_DEFINED), ...list.filter((m) => m.type === ValidationTypes.CUSTOM_VALIDATION)].flatMap(
    (m) =>
      getMetadataStorage()
        .getTargetValidatorConstraints(m.constraintCls)
        .map((c) => ({ metadata: m, instance: c.instance })),
  );
  return (dto) => {
    const value = dto[property];
    for (const condition of conditions) if (!condition(dto, value)) return true;
    for (const { metadata, instance } of rules) {
      if (metadata.validateIf && !metadata.validateIf(dto, value)) continue;
      const args: ValidationArguments = { targetName, property, object: dto, value, constraints: metadata.constraints };
      if (instance.validate(value, args) !== true) return false; // false, or a promise: the full path decides
    }
    return true;
  };
}

/**
 * A JSON object's prototype, none, or the HTTP platform's query-string object's (fast-querystring
 * builds it on an empty prototype-less object): nothing a property could be inherited from.
 */
function isPlainPrototype(proto: unknown): boolean {
  if (proto === Object.prototype || proto === null) return true;
  return typeof proto === 'object' && Object.getPrototypeOf(proto) === null && Reflect.ownKeys(proto).length === 0;
}

/**
 * The body (or query) as class-transformer would build it: a JSON object whose keys are all
 * properties of the DTO and whose values are all primitives, each copied or converted. Anything
 * else (an unknown key, a nested object or array, a prototype key) is left to the full path.
 */
function copyOnto(cls: new () => object, dto: CompiledDto, value: unknown): Record<string, unknown> | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  if (!isPlainPrototype(Object.getPrototypeOf(value))) return null;
  const entity = new cls() as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (!dto.properties.has(key)) return null;
    const field: unknown = (value as Record<string, unknown>)[key];
    if (field !== null && typeof field === 'object') return null;
    const convert = dto.conversions.get(key);
    entity[key] = convert ? convert(field, value) : field;
  }
  return entity;
}

/** Checks a body with the compiled validator: the DTO instance when it is valid, null to take the full path. */
export function validateCompiled(cls: new () => object, value: unknown): object | null {
  const dto = compiledDtoOf(cls);
  if (dto === null) return null;
  const entity = copyOnto(cls, dto, value);
  return entity !== null && dto.check(entity) ? entity : null;
}

/**
 * The ledger's ValidationPipe: a body or query of a compiled DTO that passes goes straight to the
 * handler; every other value (and every refusal) takes Nest's ValidationPipe as before.
 */
export class CompiledValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const cls = metadata.metatype;
    if ((metadata.type === 'body' || metadata.type === 'query') && typeof cls === 'function' && cls.prototype !== undefined) {
      const entity = validateCompiled(cls as new () => object, value);
      if (entity !== null) return entity;
    }
    return super.transform(value, metadata);
  }
}
