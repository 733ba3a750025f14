import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { TransformationType } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, ValidationArguments, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

/**
 * Validators built once per DTO class, from class-validator's own metadata, for the request bodies
 * of the hot routes.
 *
 * class-validator re-reads and groups a class's metadata, builds an error object per property and
 * runs class-transformer's generic copy on every request. For a flat DTO (string, number, boolean
 * or null fields; no nested DTO, no class-transformer decorator, no async or `each` rule), the same
 * constraint instances are called here directly, in the same order of conditions. The compiled
 * check only ever says "valid": on anything else the request takes the full class-validator path,
 * so every refusal keeps exactly today's field and reason. A differential property test holds the
 * two paths to the same answer on valid and invalid bodies alike.
 */

type FieldCheck = (dto: Record<string, unknown>) => boolean;

export interface CompiledDto {
  readonly properties: ReadonlySet<string>;
  readonly check: FieldCheck;
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
  if (metadatas.length === 0 || !transformsNothing(cls, metadatas)) return null;
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

/** class-transformer would copy the body as it is: no @Type, @Transform, @Expose or @Exclude anywhere. */
function transformsNothing(cls: new () => object, metadatas: readonly ValidationMetadata[]): boolean {
  const storage = defaultMetadataStorage;
  if (storage.getStrategy(cls) !== 'none' || storage.getExposedMetadatas(cls).length > 0 || storage.getExcludedMetadatas(cls).length > 0) return false;
  return metadatas.every(
    (m) =>
      storage.findTypeMetadata(cls, m.propertyName) === undefined &&
      storage.findTransformMetadatas(cls, m.propertyName, TransformationType.PLAIN_TO_CLASS).length === 0,
  );
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
 * The body as class-transformer would build it, when that is a plain copy: a JSON object whose
 * keys are all properties of the DTO and whose values are all primitives. Anything else (an
 * unknown key, a nested object or array, a prototype key) is left to the full path.
 */
function copyOnto(cls: new () => object, dto: CompiledDto, value: unknown): Record<string, unknown> | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return null;
  const entity = new cls() as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (!dto.properties.has(key)) return null;
    const field: unknown = (value as Record<string, unknown>)[key];
    if (field !== null && typeof field === 'object') return null;
    entity[key] = field;
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
 * The ledger's ValidationPipe: a body of a compiled DTO that passes goes straight to the handler;
 * every other value (and every refusal) takes Nest's ValidationPipe as before.
 */
export class CompiledValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const cls = metadata.metatype;
    if (metadata.type === 'body' && typeof cls === 'function' && cls.prototype !== undefined) {
      const entity = validateCompiled(cls as new () => object, value);
      if (entity !== null) return entity;
    }
    return super.transform(value, metadata);
  }
}
