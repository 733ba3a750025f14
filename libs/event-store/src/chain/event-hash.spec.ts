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

  it('writes strings, numbers, arrays and toJSON values as JSON.stringify does, and refuses what is not JSON', () => {
    const tricky = ['plain', 'quote " and \\ backslash', 'line\nbreak\ttab\u0000nul\u001f', 'lone \ud800 surrogate', 'pair \ud83d\ude00', 'é \u2028'];
    for (const text of tricky) expect(canonicalJson({ text, list: [text] })).toBe(JSON.stringify({ list: [text], text }));
    expect(canonicalJson({ z: -0, y: Infinity, x: NaN, w: 1e21, v: 0.1 })).toBe('{"v":0.1,"w":1e+21,"x":null,"y":null,"z":0}');
    expect(canonicalJson([undefined, () => 1, Symbol('s'), null])).toBe('[null,null,null,null]');
    expect(canonicalJson({ b: undefined, a: () => 1, c: Symbol('s'), d: {} })).toBe('{"d":{}}');
    expect(canonicalJson({ at: new Date('2026-12-04T00:00:00.000Z'), nested: { toJSON: () => ({ b: 1, a: 2 }) } })).toBe(
      '{"at":"2026-12-04T00:00:00.000Z","nested":{"a":2,"b":1}}',
    );
    // The order every stored text has: array-index keys first, numerically, as a JavaScript object lists them.
    expect(canonicalJson({ b: 1, '10': 2, a: 3, '9': 4, '4294967295': 5, '01': 6 })).toBe(
      JSON.stringify({ '9': 4, '10': 2, '01': 6, '4294967295': 5, a: 3, b: 1 }),
    );
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson({ big: BigInt(1) })).toThrow(TypeError);
  });

  it('stays right when every payload has a new shape (the remembered orders are bounded)', () => {
    for (let index = 0; index < 5_000; index++) {
      const value = { [`k${index}`]: index, [`j${index}`]: -index, a: null };
      expect(canonicalJson(value)).toBe(reference(value));
    }
  });
});
