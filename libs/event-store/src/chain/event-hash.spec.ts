import fc from 'fast-check';
import { canonicalJson } from './event-hash';

/** The definition: every object's keys sorted afresh, undefined dropped (what the remembered key orders must give). */
function reference(value: unknown): string {
  const sortKeys = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sortKeys);
    if (item === null || typeof item !== 'object') return item;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(item).sort()) {
      const field = (item as Record<string, unknown>)[key];
      if (field === undefined) continue;
      Object.defineProperty(sorted, key, { value: sortKeys(field), enumerable: true, writable: true, configurable: true });
    }
    return sorted;
  };
  return JSON.stringify(sortKeys(value));
}

/** A few key names, so that objects share first keys and whole shapes (the remembered orders are used), integer-like ones included. */
const key = fc.constantFrom('a', 'b', 'type', 'data', 'creditType', 'Z', 'é', '10', '9', '0', '__proto__', 'k\u0000', '');
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, fc.oneof(tie('value'), fc.constant(undefined)), { maxKeys: 6 }),
})).value;

describe('canonicalJson', () => {
  it('gives the sorted-keys text of any JSON value, however often its shapes were met before', () => {
    fc.assert(
      fc.property(json, (value) => {
        // Twice: the second call reads the key orders the first one remembered.
        expect(canonicalJson(value)).toBe(reference(value));
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 2_000 },
    );
  });

  it('tells apart shapes that share their first key and length', () => {
    expect(canonicalJson({ a: 1, c: 2, b: 3 })).toBe('{"a":1,"b":3,"c":2}');
    expect(canonicalJson({ a: 1, b: 2, d: 3 })).toBe('{"a":1,"b":2,"d":3}');
    expect(canonicalJson({ a: 1, d: 2, b: 3 })).toBe('{"a":1,"b":3,"d":2}');
    expect(canonicalJson({ a: 1, c: 2, b: 3 })).toBe('{"a":1,"b":3,"c":2}');
  });

  it('stays right when every payload has a new shape (the remembered orders are bounded)', () => {
    for (let index = 0; index < 5_000; index++) {
      const value = { [`k${index}`]: index, [`j${index}`]: -index, a: null };
      expect(canonicalJson(value)).toBe(reference(value));
    }
  });
});
