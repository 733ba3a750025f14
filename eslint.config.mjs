// Lint and the dependency rules of the codebase, run by `npm test` (via `npm run lint`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const LIBS = ['domain', 'event-store', 'ledger', 'http', 'projections', 'messaging', 'webhooks'];

/** Libraries are imported only through their public index: `@credit-ledger/<lib>` (or `/testing`). */
const deepImports = [
  {
    group: ['**/libs/*/src', '**/libs/*/src/**', ...LIBS.flatMap((lib) => [`../**/${lib}/src`, `../**/${lib}/src/**`])],
    message: 'import another library through its public index: @credit-ledger/<lib>',
  },
  {
    group: ['@credit-ledger/*/*', '!@credit-ledger/*/testing', '!@credit-ledger/event-store/eventstoredb'],
    message:
      'import a library through @credit-ledger/<lib> (or @credit-ledger/<lib>/testing in tests; the EventStoreDB adapter is loaded lazily from @credit-ledger/event-store/eventstoredb), never a deep path',
  },
];

const forbid = (libs, message) => libs.map((lib) => ({ group: [`@credit-ledger/${lib}`, `@credit-ledger/${lib}/*`], message }));
const restrict = (...patterns) => ['error', { patterns: [...deepImports, ...patterns.flat()] }];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'packages/*/dist/**',
      'packages/client/src/schema.ts',
      'test-artifacts/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { project: false } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-imports': restrict(),
      'eslint-comments/no-unlimited-disable': 'off',
    },
  },
  // The domain is pure: it imports no other library, no framework and no I/O.
  {
    files: ['libs/domain/src/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        forbid(
          LIBS.filter((lib) => lib !== 'domain'),
          'the domain imports nothing',
        ),
        [
          {
            group: [
              '@nestjs/*',
              'express',
              'fastify',
              '@fastify/*',
              'node:fs',
              'node:net',
              'node:http',
              'fs',
              'pg',
              'better-sqlite3',
              'kafkajs',
              '@eventstore/*',
            ],
            message: 'no framework and no I/O in the domain',
          },
        ],
      ),
    },
  },
  // The event-store adapters know no use case, no transport and no read model.
  {
    files: ['libs/event-store/src/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        forbid(['ledger', 'http', 'projections', 'messaging', 'webhooks'], 'the event store knows no use case, transport or read model'),
        [{ group: ['@nestjs/*', 'express', 'fastify', '@fastify/*'], message: 'the event store is framework-free' }],
      ),
    },
  },
  // The HTTP layer sits on the domain and the store port only (use cases import it, not the reverse).
  {
    files: ['libs/http/src/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        forbid(['ledger', 'projections', 'messaging', 'webhooks'], 'the HTTP layer does not know the use cases or read models'),
      ),
    },
  },
  // Kafka is a transport of its own: it validates with the same DTOs and rules, never through HTTP.
  {
    files: ['libs/messaging/src/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(forbid(['projections'], 'messaging does not use the read models'), [
        { group: ['express', 'fastify', '@fastify/*', '@nestjs/platform-express', '@nestjs/platform-fastify'], message: 'no HTTP in messaging' },
      ]),
    },
  },
  // Webhooks follow the log like the read models and the relay: they know no read model and no Kafka.
  {
    files: ['libs/webhooks/src/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(forbid(['projections', 'messaging'], 'webhooks derive from the log, not from read models or Kafka')),
    },
  },
  // Use cases and read-model queries know no transport; only controllers and DTOs do.
  {
    files: ['libs/ledger/src/**/*.ts', 'libs/projections/src/**/*.ts', 'libs/webhooks/src/**/*.ts'],
    ignores: ['**/*.controller.ts', '**/*.dto.ts', '**/*.module.ts', '**/nest/**', '**/*.spec.ts'],
    rules: {
      'no-restricted-imports': restrict(forbid(['http'], 'only controllers and DTOs use the HTTP layer'), [
        {
          group: ['express', 'fastify', '@fastify/*', '@nestjs/platform-express', '@nestjs/platform-fastify', '@nestjs/swagger'],
          message: 'only controllers and DTOs know HTTP',
        },
      ]),
    },
  },
  // ... and for the webhooks' use cases, both rules at once.
  {
    files: ['libs/webhooks/src/**/*.ts'],
    ignores: ['**/*.controller.ts', '**/*.dto.ts', '**/*.module.ts', '**/nest/**', '**/*.spec.ts'],
    rules: {
      'no-restricted-imports': restrict(
        forbid(['http'], 'only controllers and DTOs use the HTTP layer'),
        forbid(['projections', 'messaging'], 'webhooks derive from the log, not from read models or Kafka'),
        [
          {
            group: ['express', 'fastify', '@fastify/*', '@nestjs/platform-express', '@nestjs/platform-fastify', '@nestjs/swagger'],
            message: 'only controllers and DTOs know HTTP',
          },
        ],
      ),
    },
  },
  // Short functions and plain names where the money is decided and stored.
  {
    files: ['libs/domain/src/**/*.ts', 'libs/event-store/src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['libs/domain/src/**/*.ts', 'libs/event-store/src/**/*.ts'],
    // Names explain themselves: no single-letter identifiers (`_` for an unused parameter).
    rules: { 'id-length': ['error', { min: 2, exceptions: ['_'], properties: 'never' }] },
  },
  // Jest's globalSetup runs outside the module mapper: it reaches the libraries' entries by path.
  {
    files: ['test/support/kafka-broker.ts', 'test/support/postgres-global-setup.ts', 'test/support/kafka-global-setup.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
