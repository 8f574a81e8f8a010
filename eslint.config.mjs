// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Dependencies point one way: apps → Nest libs → pure libs (../shared/CONVENTIONS.md).
 * libs/policy and libs/otlp are pure: no Nest, no framework, no I/O, no apps, and other libs
 * only through their public index. test/lint/boundaries.spec.ts proves these rules fail.
 */
const NODE_IO = [
  'fs',
  'net',
  'http',
  'http2',
  'https',
  'dgram',
  'dns',
  'child_process',
  'cluster',
  'tls',
  'worker_threads',
];
const ioPaths = NODE_IO.flatMap((m) => [m, `node:${m}`, `${m}/*`, `node:${m}/*`]);

const pureLibRestrictions = {
  patterns: [
    {
      group: ['@nestjs/*', '@nestjs/**'],
      message: 'Pure libs (policy, otlp) must not import NestJS.',
    },
    {
      group: ['@custodian/*', '!@custodian/otlp'],
      message: 'Pure libs may import only @custodian/otlp.',
    },
    {
      group: ['**/apps/**', '../../apps/**', '../../../apps/**'],
      message: 'Libs must not import apps.',
    },
    {
      group: [
        '@prisma/*',
        'kafkajs',
        'ioredis',
        'bullmq',
        'pg',
        '@grpc/*',
        'pino',
        'prom-client',
        'express',
      ],
      message: 'Pure libs do no I/O and use no infrastructure client.',
    },
    { group: ioPaths, message: 'Pure libs do no I/O.' },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-*/**',
      'node_modules/**',
      'coverage/**',
      '.stack/**',
      'libs/db/src/generated/**',
      'helm/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // No consistent-type-imports: Nest's DI reads constructor parameter types from decorator
      // metadata, which needs value imports of the injected classes.
      'no-console': 'error',
    },
  },
  {
    // Everywhere: another lib only through its index (the @custodian/<lib> alias).
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@custodian/*/*'],
              message: 'Import a lib only through its public index (@custodian/<lib>).',
            },
            {
              group: ['**/libs/*/src/*', '**/libs/*/src/**'],
              message: 'Import a lib through its @custodian/<lib> alias, not a relative path.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@custodian/*/*'],
              message: 'Import a lib only through its public index (@custodian/<lib>).',
            },
            {
              group: ['**/apps/**', '@custodian/gateway', '@custodian/worker', '@custodian/admin'],
              message: 'Libs must not import apps.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/policy/**/*.ts', 'libs/otlp/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', pureLibRestrictions],
      'no-restricted-globals': ['error', 'fetch', 'process'],
    },
  },
  {
    files: ['libs/otlp/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...pureLibRestrictions.patterns.filter((p) => !p.group.includes('!@custodian/otlp')),
            { group: ['@custodian/*'], message: 'libs/otlp imports no other lib.' },
          ],
        },
      ],
    },
  },
  {
    // Specs of the pure libs may read their testdata/ files; the code under test still may not.
    files: [
      'libs/policy/**/*.spec.ts',
      'libs/otlp/**/*.spec.ts',
      'libs/{policy,otlp}/testdata/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: pureLibRestrictions.patterns.filter((p) => p.group !== ioPaths),
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
