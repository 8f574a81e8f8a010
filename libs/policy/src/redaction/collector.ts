/**
 * Imports the OpenTelemetry Collector redaction processor's configuration
 * (opentelemetry-collector-contrib processor/redactionprocessor, config.go) into a
 * RedactionConfig with the same semantics:
 *
 * - `allow_all_keys: false` (the default) with `allowed_keys` → allow-list that fails closed
 *   (empty list = every attribute removed); `allow_all_keys: true` → no allow-list.
 * - `ignored_keys`, `ignored_key_patterns` → passed through untouched.
 * - `blocked_key_patterns` → values of matching keys masked (or hashed, with `hash_function`).
 * - `blocked_values` → tenant patterns (Go regexp is RE2, so they compile unchanged); each match
 *   is masked (or hashed).
 * - `allowed_values` → allowedValues (a covering match exempts a detection; see config.ts).
 * - `hash_function` (md5, sha1, sha3, hmac-sha256, hmac-sha512) → our hash action: always
 *   HMAC-SHA256 under the tenant's key managed by Custodian (plain digests of low-entropy
 *   values are reversible by guessing; a per-tenant key makes them erasable). `hmac_key` is
 *   refused: Custodian never stores a key in a policy document.
 * - `summary` (debug | info | silent; absent = silent, as the Collector's default config) →
 *   summary, with the Collector's `redaction.*` attribute names (compile.ts).
 * - `redact_all_types` → scan.nonStringValues.
 * - `url_sanitizer`, `db_sanitizer`: not supported — refused when enabled, so an import never
 *   silently weakens a pipeline.
 *
 * Built-in detectors are off after an import (the Collector has none); GenAI content keys are
 * kept restricted, because restriction never removes data.
 */
import {
  DEFAULT_REDACTION_CONFIG,
  RedactionActionSpec,
  RedactionConfig,
  RedactionProblem,
  re2Problem,
} from './config';

export const COLLECTOR_HASH_FUNCTIONS = [
  'md5',
  'sha1',
  'sha3',
  'hmac-sha256',
  'hmac-sha512',
] as const;

const KNOWN = [
  'allow_all_keys',
  'allowed_keys',
  'ignored_keys',
  'ignored_key_patterns',
  'blocked_key_patterns',
  'blocked_values',
  'allowed_values',
  'hash_function',
  'hmac_key',
  'summary',
  'redact_all_types',
  'url_sanitizer',
  'db_sanitizer',
];

export interface CollectorImport {
  config?: RedactionConfig;
  problems: RedactionProblem[];
  /** Accepted, with a difference worth telling the operator. */
  warnings: RedactionProblem[];
}

/** Imports a parsed `processors.redaction` (or `redaction/<name>`) map; reports every problem. */
export function importCollectorRedactionConfig(raw: unknown, path = 'redaction'): CollectorImport {
  const problems: RedactionProblem[] = [];
  const warnings: RedactionProblem[] = [];
  const add = (p: string, message: string): void => void problems.push({ path: p, message });
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    return { problems: [{ path, message: 'must be a map' }], warnings };
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r))
    if (!KNOWN.includes(k))
      add(`${path}.${k}`, 'unknown field of the Collector redaction processor');

  const list = (k: string, re2: boolean): string[] => {
    const v = r[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      add(`${path}.${k}`, 'must be a list of strings');
      return [];
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item !== 'string') return add(`${path}.${k}[${i}]`, 'must be a string');
      const p = re2 ? re2Problem(item) : null;
      if (p) return add(`${path}.${k}[${i}]`, p);
      out.push(item);
    });
    return out;
  };

  let allowAll = false;
  if (r.allow_all_keys !== undefined) {
    if (typeof r.allow_all_keys !== 'boolean')
      add(`${path}.allow_all_keys`, 'must be true or false');
    else allowAll = r.allow_all_keys;
  }
  const allowedKeys = list('allowed_keys', false);
  if (allowAll && allowedKeys.length)
    warnings.push({ path: `${path}.allowed_keys`, message: 'ignored: allow_all_keys is true' });

  let action: RedactionActionSpec = { action: 'mask' };
  if (r.hash_function !== undefined && r.hash_function !== null && r.hash_function !== '') {
    if (
      typeof r.hash_function !== 'string' ||
      !(COLLECTOR_HASH_FUNCTIONS as readonly string[]).includes(r.hash_function)
    )
      add(`${path}.hash_function`, `must be one of ${COLLECTOR_HASH_FUNCTIONS.join(', ')}`);
    else {
      action = { action: 'hash' };
      if (r.hash_function !== 'hmac-sha256')
        warnings.push({
          path: `${path}.hash_function`,
          message: `${r.hash_function} becomes HMAC-SHA256 under the tenant's key: hashes differ from the Collector's`,
        });
    }
  }
  if (r.hmac_key !== undefined)
    add(
      `${path}.hmac_key`,
      "not accepted: Custodian keeps each tenant's HMAC key itself; remove it from the document",
    );

  let summary: RedactionConfig['summary'] = 'silent';
  if (r.summary !== undefined && r.summary !== null && r.summary !== '') {
    if (r.summary !== 'debug' && r.summary !== 'info' && r.summary !== 'silent')
      add(`${path}.summary`, 'must be one of debug, info, silent');
    else summary = r.summary;
  }
  let redactAllTypes = false;
  if (r.redact_all_types !== undefined) {
    if (typeof r.redact_all_types !== 'boolean')
      add(`${path}.redact_all_types`, 'must be true or false');
    else redactAllTypes = r.redact_all_types;
  }
  for (const k of ['url_sanitizer', 'db_sanitizer']) {
    const v = r[k];
    if (v === undefined || v === null) continue;
    const enabled = JSON.stringify(v).includes('"enabled":true');
    if (enabled) add(`${path}.${k}`, 'not supported by Custodian; remove it or disable it');
  }

  const blockedKeyPatterns = list('blocked_key_patterns', true);
  const blockedValues = list('blocked_values', true);
  const config: RedactionConfig = {
    ...(allowAll ? {} : { allowedKeys }),
    ignoredKeys: list('ignored_keys', false),
    ignoredKeyPatterns: list('ignored_key_patterns', true),
    blockedKeys: blockedKeyPatterns.length
      ? [{ name: 'blocked_key', patterns: blockedKeyPatterns, action }]
      : [],
    detectors: { enabled: [], action: { action: 'mask' }, overrides: {} },
    customPatterns: blockedValues.map((pattern, i) => ({
      name: `blocked_values.${i}`,
      pattern,
      action,
    })),
    allowedValues: list('allowed_values', true),
    contentKeys: structuredClone(DEFAULT_REDACTION_CONFIG.contentKeys),
    scan: { ...DEFAULT_REDACTION_CONFIG.scan, nonStringValues: redactAllTypes },
    summary,
  };
  return problems.length ? { problems, warnings } : { config, problems, warnings };
}

/** Error thrown by fromCollectorRedactionConfig; lists every problem. */
export class RedactionConfigError extends Error {
  constructor(readonly problems: RedactionProblem[]) {
    super(
      `invalid redaction configuration: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    );
    this.name = 'RedactionConfigError';
  }
}

/** The Collector processor's map → RedactionConfig; throws RedactionConfigError with every problem. */
export function fromCollectorRedactionConfig(
  yamlObject: unknown,
  path = 'redaction',
): RedactionConfig {
  const r = importCollectorRedactionConfig(yamlObject, path);
  if (!r.config) throw new RedactionConfigError(r.problems);
  return r.config;
}
