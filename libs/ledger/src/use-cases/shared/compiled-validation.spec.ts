import fc from 'fast-check';
import { ArgumentMetadata, HttpException, ValidationPipe } from '@nestjs/common';
import {
  compiledDtoOf,
  createValidationPipe,
  validateCompiled,
  toFieldProblems,
  validatePlain,
  validationFailed,
  VALIDATOR_OPTIONS,
} from '@credit-ledger/http';
import { CaptureReservationDto } from '../capture-reservation/capture-reservation.dto';
import { CheckSpendDto } from '../check-spend/check-spend.dto';
import { ConsumeCreditsDto } from '../consume-credits/consume-credits.dto';
import { GrantCreditsDto } from '../grant-credits/grant-credits.dto';
import { OpenAccountDto } from '../open-account/open-account.dto';
import { RefundCreditsDto } from '../refund-credits/refund-credits.dto';
import { ReleaseReservationDto } from '../release-reservation/release-reservation.dto';
import { ReserveCreditsDto } from '../reserve-credits/reserve-credits.dto';
import { SetThresholdsDto } from '../set-thresholds/set-thresholds.dto';

/** Nest's own pipe with the ledger's options: the reference the compiled path must agree with. */
const reference = new ValidationPipe({ ...VALIDATOR_OPTIONS, transform: true, exceptionFactory: (errors) => validationFailed(toFieldProblems(errors)) });
const compiled = createValidationPipe();

type Dto = new () => object;

/** A valid body of each hot DTO, so that the accepting side of the compiled path is exercised. */
const HOT: readonly [Dto, Record<string, unknown>][] = [
  [ConsumeCreditsDto, { consumptionId: 'c-1', userId: 'ana@acme.test', creditType: 'email', feature: 'people_search', action: 'email_reveal', credits: 1 }],
  [CheckSpendDto, { userId: 'ana@acme.test', feature: 'people_search', action: 'mobile_reveal', units: 2 }],
  [
    ReserveCreditsDto,
    { reservationId: 'r-1', userId: 'ana@acme.test', feature: 'research', action: 'run', credits: 5, creditType: 'ai', expiresInSeconds: 900 },
  ],
  [CaptureReservationDto, { consumptionId: 'c-2', credits: 0, description: 'nothing found' }],
  [RefundCreditsDto, { refundId: 'f-1', consumptionId: 'c-1', reason: 'bounced' }],
  [ReleaseReservationDto, { reason: 'cancelled' }],
  [GrantCreditsDto, { grantId: 'g-1', creditType: 'email', credits: 100, reason: 'promo', priority: 3 }],
];

/** Values near the rules' edges: right and wrong types, boundary numbers, odd strings. */
const edgy = fc.oneof(
  fc.constantFrom('c-1', 'email', 'ana@acme.test', '', ' ', 'A', 'a'.repeat(64), 'a'.repeat(65), 'x'.repeat(129), 'é', 'a\nb', '-x', 'x-y', 'UPPER'),
  fc.constantFrom('d'.repeat(500), 'd'.repeat(501), '😀'.repeat(250), '😀'.repeat(251)),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(0, 1, -1, 1.5, 86_400, 86_401, 1_000_000_000, 1_000_000_001, Number.MAX_SAFE_INTEGER + 2, Number.NEGATIVE_INFINITY),
  fc.integer(),
  fc.constantFrom(null, true, false, [], {}, [1], { a: 1 }, '1'),
  fc.constantFrom('2026-11-10T10:00:00Z', '2999-01-01T00:00:00Z', 'yesterday'),
);

async function outcome(pipe: ValidationPipe, cls: Dto, body: unknown): Promise<unknown> {
  const metadata: ArgumentMetadata = { type: 'body', metatype: cls, data: '' };
  try {
    const value = (await pipe.transform(body, metadata)) as object;
    return { accepted: value.constructor.name, fields: { ...value } };
  } catch (e) {
    if (e instanceof HttpException) return { refused: e.getStatus(), body: e.getResponse() };
    throw e;
  }
}

describe('compiled validation (validators built once from the DTOs’ own rules)', () => {
  it('compiles the flat bodies of the hot routes, and leaves nested ones to class-validator', () => {
    for (const [cls, valid] of HOT) {
      expect([cls.name, compiledDtoOf(cls) !== null]).toEqual([cls.name, true]);
      expect(validateCompiled(cls, { ...valid })).toBeInstanceOf(cls); // a valid body is answered by the compiled path
    }
    expect(compiledDtoOf(OpenAccountDto)).toBeNull(); // a nested plan
    expect(validateCompiled(SetThresholdsDto, { creditTypes: {} })).toBeNull(); // an object value: class-validator decides
  });

  it.each(HOT)('%p: the same answer as Nest’s ValidationPipe, accepted or refused field by field', async (cls, valid) => {
    const fields = [...(compiledDtoOf(cls)?.properties ?? []), 'price', '__proto__', 'constructor'];
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...fields), edgy, { maxKeys: 3 }),
        fc.oneof({ weight: 4, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.subarray(Object.keys(valid)) }),
        async (overrides, dropped) => {
          const candidate: Record<string, unknown> = { ...valid, ...overrides };
          for (const k of dropped) delete candidate[k];
          const text = JSON.stringify(candidate);
          // Each pipe gets its own parse: the reference strips prototype keys in place.
          const expected = await outcome(reference, cls, JSON.parse(text));
          expect(await outcome(compiled, cls, JSON.parse(text))).toEqual(expected);
          if ('accepted' in (expected as object)) accepted++;
          // Items of a batch and Kafka messages (validatePlain): judged like the same body sent alone.
          const plain = validatePlain(cls, JSON.parse(text));
          expect(
            'value' in plain
              ? { accepted: plain.value.constructor.name, fields: { ...plain.value } }
              : { refused: 400, body: validationFailed(plain.problems).getResponse() },
          ).toEqual(expected);
        },
      ),
      { numRuns: 1_500 },
    );
    expect(accepted).toBeGreaterThan(100); // the accepting side was exercised, not only refusals
  });

  it('refuses exactly as before: a wrong value keeps its field and reason', async () => {
    const body = { consumptionId: 'c-1', userId: 'ana@acme.test', creditType: 'email', feature: 'people_search', action: 'email_reveal', credits: 1.5 };
    expect(await outcome(compiled, ConsumeCreditsDto, body)).toEqual(await outcome(reference, ConsumeCreditsDto, { ...body }));
    expect(await outcome(compiled, ConsumeCreditsDto, body)).toMatchObject({ refused: 400 });
  });
});
