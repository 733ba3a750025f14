import fc from 'fast-check';
import { jsonErrorPosition } from './json-error-position';

describe('jsonErrorPosition', () => {
  it.each([
    ['{"consumptionId": }', 18],
    ['{"a":', 5],
    ['[1,]', 3],
    ['{"a" 1}', 5],
    ['x', 0],
    ['{"a":1}x', 7],
    ['"\\q"', 1],
    ['[01]', 2],
  ])('%j fails at %d', (text, position) => {
    expect(jsonErrorPosition(text)).toBe(position);
  });

  it('agrees with JSON.parse on what is valid (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect(jsonErrorPosition(text) === -1).toBe(valid);
      }),
      { numRuns: 2_000 },
    );
  });

  it('does not recurse: 1,000,000 levels', () => {
    expect(jsonErrorPosition('['.repeat(1_000_000))).toBe(1_000_000);
  });
});
