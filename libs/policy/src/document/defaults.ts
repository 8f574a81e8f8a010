/**
 * DEFAULT_POLICY: what a tenant gets before writing any policy, safe out of the box:
 * - redaction: every built-in detector on (mask), credential-named keys masked, and the GenAI
 *   content attributes (prompts, completions, tool arguments and results) restricted — this
 *   is the redaction stage's own DEFAULT_REDACTION_CONFIG;
 * - sampling: nothing sampled out (no head rate below 100%, no tail stage);
 * - retention: one class, `standard`, 30 days;
 * - routes: everything to Custodian's own store, which may hold restricted values (encrypted).
 * Deep-frozen: compile it, or structuredClone it to derive a tenant's policy.
 */
import { DEFAULT_REDACTION_CONFIG, validateRedactionConfig } from '../redaction';
import { DEFAULT_RETENTION_CONFIG } from '../retention/retention';
import { DEFAULT_ROUTES } from '../routes/routes';
import { POLICY_SCHEMA_VERSION, type PolicyDocument } from './policy';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export const DEFAULT_POLICY: PolicyDocument = deepFreeze({
  version: POLICY_SCHEMA_VERSION,
  description:
    'Platform default: every detector masks, GenAI content restricted, nothing sampled out, 30-day retention.',
  attributes: [],
  redaction:
    validateRedactionConfig(structuredClone(DEFAULT_REDACTION_CONFIG)).config ??
    structuredClone(DEFAULT_REDACTION_CONFIG),
  sampling: {},
  retention: structuredClone(DEFAULT_RETENTION_CONFIG),
  routes: structuredClone(DEFAULT_ROUTES),
});
