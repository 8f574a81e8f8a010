/**
 * Tenant policies: the policy document (schema, validation, Collector import, compiler) and
 * its stages — attributes, redaction, sampling (head and tail), retention, routes. Pure
 * TypeScript: no framework, no I/O (enforced by eslint.config.mjs).
 */
export * from './document';
export * from './attributes';
export * from './redaction';
export * from './sampling';
export * from './retention';
export * from './routes';
export * from './dry-run';
