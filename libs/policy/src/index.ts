/**
 * Tenant policies: schema, compiler, redaction, sampling, retention, routes. Pure TypeScript:
 * no framework, no I/O (enforced by eslint.config.mjs). The engine arrives with its issue.
 */
export const POLICY_SCHEMA_VERSION = 1;
