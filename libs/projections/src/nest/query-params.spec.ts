import fc from 'fast-check';
import { ArgumentMetadata, HttpException, ValidationPipe } from '@nestjs/common';
import { compiledDtoOf, createValidationPipe, toFieldProblems, validateCompiled, validationFailed, VALIDATOR_OPTIONS } from '@credit-ledger/http';
import { HistoryParams, MinPositionParams, RangeParams, SeriesParams, UserRangeParams } from './query-params';

/** Nest's own pipe with the ledger's options: the reference the compiled path must agree with. */
const reference = new ValidationPipe({ ...VALIDATOR_OPTIONS, transform: true, exceptionFactory: (errors) => validationFailed(toFieldProblems(errors)) });
const compiled = createValidationPipe();

type Dto = new () => object;

/** A valid query of each read endpoint's parameters, so that the accepting side is exercised. */
const QUERIES: readonly [Dto, Record<string, string>][] = [
  [HistoryParams, { limit: '50', userId: 'ana@acme.test', feature: 'people_search', includeRefunds: 'false', minPosition: '12' }],
  [SeriesParams, { bucket: 'week', groupBy: 'user', timezone: 'Europe/Paris', from: '2026-11-01T00:00:00Z' }],
  [UserRangeParams, { userId: 'ana@acme.test', creditType: 'email', to: '2026-12-01T00:00:00Z' }],
  [RangeParams, { creditType: 'email', minPosition: '0' }],
  [MinPositionParams, { minPosition: '7' }],
];

/** Query values as a URL carries them: strings (numbers, booleans, instants, odd text), a repeated key (an array). */
const queryValue = fc.oneof(
  fc.constantFrom('50', '0', '-1', '1.5', '1e3', '', ' 5', '0x10', '500', '501', '9007199254740993', 'true', 'false', 'TRUE', 'abc'),
  fc.constantFrom('ana@acme.test', 'Ame\u0301lie@acme.test', 'Amélie@acme.test', 'a'.repeat(201), 'people_search', 'UPPER', '-x'),
  fc.constantFrom('2026-11-10T10:00:00Z', '2026-13-01T00:00:00Z', 'yesterday', 'UTC', 'Europe/Paris', 'Mars/Olympus', 'day', 'week', 'user'),
  fc.string({ maxLength: 6 }),
  fc.constant(['1', '2']),
);

/** The shape of Fastify's query objects (fast-querystring): an object on an empty prototype-less prototype. */
const QUERY_PROTOTYPE = Object.create(null) as object;
function queryObject(): object {
  return Object.create(QUERY_PROTOTYPE) as object;
}

async function outcome(pipe: ValidationPipe, cls: Dto, query: unknown): Promise<unknown> {
  const metadata: ArgumentMetadata = { type: 'query', metatype: cls, data: undefined };
  try {
    const value = (await pipe.transform(query, metadata)) as object;
    return { accepted: value.constructor.name, fields: { ...value } };
  } catch (e) {
    if (e instanceof HttpException) return { refused: e.getStatus(), body: e.getResponse() };
    throw e;
  }
}

describe('query parameters through the compiled validation', () => {
  it('every read endpoint’s parameters compile (their numbers converted and user ids normalised as class-transformer does)', () => {
    for (const [cls, valid] of QUERIES) {
      expect([cls.name, compiledDtoOf(cls) !== null]).toEqual([cls.name, true]);
      expect(validateCompiled(cls, { ...valid })).toBeInstanceOf(cls);
      expect(validateCompiled(cls, Object.assign(queryObject(), valid))).toBeInstanceOf(cls);
    }
    // A prototype that carries a property is not a plain query: the full path decides.
    expect(validateCompiled(HistoryParams, Object.assign(Object.create({ limit: '5' }) as object, { feature: 'x' }))).toBeNull();
    expect(validateCompiled(HistoryParams, { limit: '50', userId: 'Ame\u0301lie@acme.test' })).toEqual(
      Object.assign(new HistoryParams(), { limit: 50, userId: 'Amélie@acme.test' }),
    );
  });

  it.each(QUERIES)('%p: the same answer as Nest’s ValidationPipe, accepted or refused field by field', async (cls, valid) => {
    const fields = [...(compiledDtoOf(cls)?.properties ?? []), 'price', '__proto__'];
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...fields), queryValue, { maxKeys: 3 }),
        fc.oneof({ weight: 4, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.subarray(Object.keys(valid)) }),
        async (overrides, dropped) => {
          const candidate: Record<string, unknown> = { ...valid, ...overrides };
          for (const k of dropped) delete candidate[k];
          // A query object as the HTTP platform builds it; each pipe gets its own.
          const query = () => Object.assign(queryObject(), JSON.parse(JSON.stringify(candidate)) as object);
          const expected = await outcome(reference, cls, query());
          expect(await outcome(compiled, cls, query())).toEqual(expected);
          if ('accepted' in (expected as object)) accepted++;
        },
      ),
      { numRuns: 1_500 },
    );
    expect(accepted).toBeGreaterThan(100);
  });
});
