import fc from 'fast-check';
import { validatePlain } from '@credit-ledger/http';
import { ConsumeCreditsDto } from '@credit-ledger/ledger';
import { isCertainlyValidConsumption } from './consumption-fast-path';

const valid = { consumptionId: 'c-1', userId: 'ana@acme.test', creditType: 'email', feature: 'people_search', action: 'email_reveal', credits: 1 };

/** Values near the rules' edges: right and wrong types, boundary numbers, odd strings. */
const edgy = fc.oneof(
  fc.constantFrom('c-1', 'email', 'ana', '', ' ', 'A', 'a'.repeat(64), 'a'.repeat(65), 'x'.repeat(129), 'é', '😀'.repeat(300), 'a\nb', '-x', 'x-y', 'UPPER'),
  fc.constantFrom('d'.repeat(500), 'd'.repeat(501), 'd'.repeat(700), '😀'.repeat(250)),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 600 }),
  fc.constantFrom(0, 1, -1, 1.5, 1_000_000_000, 1_000_000_001, Number.NaN, Infinity),
  fc.integer(),
  fc.constantFrom(null, undefined, true, [], {}, '1'),
  fc.constantFrom('2026-11-10T10:00:00Z', 'yesterday'),
);
const FIELDS = [
  'consumptionId',
  'userId',
  'creditType',
  'feature',
  'action',
  'credits',
  'description',
  'dataRequested',
  'dataKey',
  'occurredAt',
  'price',
  '__proto__',
];

describe('consumption fast path (in front of ConsumeCreditsDto)', () => {
  it('never accepts what class-validator refuses (random objects near the rules)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...FIELDS), edgy, { maxKeys: 3 }),
        fc.oneof({ weight: 4, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.subarray(Object.keys(valid)) }),
        (overrides, dropped) => {
          const candidate: Record<string, unknown> = { ...valid, ...overrides };
          for (const k of dropped) delete candidate[k];
          const plain = JSON.parse(JSON.stringify(candidate)) as unknown;
          if (isCertainlyValidConsumption(plain)) {
            accepted++;
            expect('value' in validatePlain(ConsumeCreditsDto, plain)).toBe(true);
          }
        },
      ),
      { numRuns: 5_000 },
    );
    expect(accepted).toBeGreaterThan(250); // the shortcut's side was exercised, not only its refusals
  });

  it('takes the shortcut for plainly valid consumptions, with or without the optional fields', () => {
    expect(isCertainlyValidConsumption(valid)).toBe(true);
    expect(isCertainlyValidConsumption({ ...valid, description: 'Jane Doe', dataRequested: 'email', dataKey: 'contact_8812', credits: 1_000_000_000 })).toBe(
      true,
    );
    expect(isCertainlyValidConsumption({ ...valid, description: null })).toBe(true);
  });

  it('leaves doubtful or invalid input to the DTO', () => {
    expect(isCertainlyValidConsumption({ ...valid, occurredAt: '2026-11-10T10:00:00Z' })).toBe(false); // clock-dependent
    expect(isCertainlyValidConsumption({ ...valid, credits: 0 })).toBe(false);
    expect(isCertainlyValidConsumption({ ...valid, price: 1 })).toBe(false);
    expect(isCertainlyValidConsumption({ ...valid, consumptionId: undefined })).toBe(false);
    expect(isCertainlyValidConsumption([valid])).toBe(false);
  });
});
