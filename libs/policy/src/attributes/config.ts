/**
 * The `attributes` section: a list of attribute processors, each the Collector's attributes
 * processor config (processor/attributesprocessor, internal/coreinternal/attraction) so that
 * `attributes/<name>` blocks of a Collector config import unchanged. Same field names, same
 * action semantics, with these documented differences:
 *
 * - `hash` is HMAC-SHA256 under the tenant's key (hex), not the Collector's plain SHA-256 (or
 *   SHA-1 before the `coreinternal.attraction.hash.sha256` gate): a bare hash of a low-entropy
 *   value (an email, a user id) is reversible by dictionary; a keyed one is not, yet equal
 *   inputs still hash equal within a tenant so joins keep working. Scalars are encoded as the
 *   Collector does (UTF-8 string, int64/float64 little-endian, bool one byte); maps and lists,
 *   which the Collector hashes as the empty string, are hashed as their JSON text.
 * - `rename` is a Custodian addition: move `from_attribute` to `key` (upsert, then delete).
 * - `pattern` regexes use RE2 semantics (re2js): backtracking constructs are refused.
 * - `apply_to` (Custodian) chooses which attribute sets the actions touch: resource, scope,
 *   span, event, link, log. The Collector's processor touches span and log attributes only,
 *   which is the default here too.
 * - `from_context` reads the request context the worker passes (e.g. `tenant.id`,
 *   `metadata.<header>`), the analogue of the Collector's client.Info.
 * - `default_value` (insert/update/upsert), as in the Collector README: the value used when
 *   `from_attribute` / `from_context` provide none; alone, it is the value. Beside `value` it
 *   could never apply and is refused.
 */
import {
  type PolicyProblem,
  type Validated,
  checkKeys,
  expectRecord,
  joinPath,
  readList,
  readString,
  readStringList,
} from '../document/validate';
import { fromRaw } from './kv';
import { type MatchProperties, validateMatchProperties } from './match';
import { compileRe2 } from './re2';

export const ATTRIBUTE_ACTIONS = [
  'insert',
  'update',
  'upsert',
  'delete',
  'hash',
  'extract',
  'convert',
  'rename',
] as const;
export type AttributeActionName = (typeof ATTRIBUTE_ACTIONS)[number];

export const ATTRIBUTE_TARGETS = ['resource', 'scope', 'span', 'event', 'link', 'log'] as const;
export type AttributeTarget = (typeof ATTRIBUTE_TARGETS)[number];

export const CONVERTED_TYPES = ['int', 'double', 'string'] as const;
export type ConvertedType = (typeof CONVERTED_TYPES)[number];

/** A scalar, list or map given in the policy as an attribute value. */
export type RawAttributeValue =
  string | number | boolean | RawAttributeValue[] | { [key: string]: RawAttributeValue };

/** One action (the Collector's ActionKeyValue). */
export interface AttributeAction {
  /** What to do: insert, update, upsert, delete, hash, extract, convert, rename. */
  action: AttributeActionName;
  /** The attribute acted on (for extract: the source; for rename: the new name). */
  key?: string;
  /** delete/hash: RE2 pattern matched against keys; extract: RE2 with named groups. */
  pattern?: string;
  /** insert/update/upsert: the value to set (type inferred from the document). */
  value?: RawAttributeValue;
  /** insert/update/upsert: copy the value of this attribute; rename: the old name. */
  from_attribute?: string;
  /** insert/update/upsert: take the value from the request context (e.g. `tenant.id`). */
  from_context?: string;
  /** insert/update/upsert: used when from_attribute/from_context yield nothing. */
  default_value?: RawAttributeValue;
  /** convert: the target type, int, double or string. */
  converted_type?: ConvertedType;
}

/** One attribute processor: optional matching, then actions in order. */
export interface AttributesProcessorConfig {
  /** A name for reports and metrics (`attributes/<name>` when imported). */
  name?: string;
  /** Which attribute sets the actions touch; default span and log. */
  apply_to?: AttributeTarget[];
  /** Only telemetry matching these properties is processed. */
  include?: MatchProperties;
  /** Telemetry matching these properties is not processed. */
  exclude?: MatchProperties;
  /** The actions, applied in order. */
  actions: AttributeAction[];
}

export type AttributesConfig = AttributesProcessorConfig[];

const ACTION_KEYS = [
  'action',
  'key',
  'pattern',
  'value',
  'from_attribute',
  'from_context',
  'default_value',
  'converted_type',
] as const;

function validateAction(
  raw: unknown,
  path: string,
  problems: PolicyProblem[],
): AttributeAction | undefined {
  const obj = expectRecord(raw, path, problems);
  if (!obj) return undefined;
  const before = problems.length;
  checkKeys(obj, ACTION_KEYS, path, problems);
  const rawAction = readString(obj, 'action', path, problems, { required: true });
  const action = rawAction?.toLowerCase();
  if (action !== undefined && !(ATTRIBUTE_ACTIONS as readonly string[]).includes(action)) {
    problems.push({
      path: joinPath(path, 'action'),
      message: `unsupported action "${rawAction}" (expected one of: ${ATTRIBUTE_ACTIONS.join(', ')})`,
    });
  }
  const key = readString(obj, 'key', path, problems, { nonEmpty: true });
  const pattern = readString(obj, 'pattern', path, problems, { nonEmpty: true });
  const fromAttribute = readString(obj, 'from_attribute', path, problems, { nonEmpty: true });
  const fromContext = readString(obj, 'from_context', path, problems, { nonEmpty: true });
  const convertedType = readString(obj, 'converted_type', path, problems, {
    oneOf: CONVERTED_TYPES,
  }) as ConvertedType | undefined;
  const hasValue = obj.value !== undefined && obj.value !== null;
  if (hasValue && fromRaw(obj.value) === undefined) {
    problems.push({
      path: joinPath(path, 'value'),
      message: 'expected a string, number, boolean, list or map',
    });
  }
  const hasDefault = obj.default_value !== undefined && obj.default_value !== null;
  if (hasDefault && fromRaw(obj.default_value) === undefined) {
    problems.push({
      path: joinPath(path, 'default_value'),
      message: 'expected a string, number, boolean, list or map',
    });
  }
  const sources = (hasValue ? 1 : 0) + (obj.from_attribute ? 1 : 0) + (obj.from_context ? 1 : 0);
  const forbid = (field: string, present: boolean) => {
    if (present) {
      problems.push({
        path: joinPath(path, field),
        message: `action "${action}" does not use "${field}"`,
      });
    }
  };
  const requireKey = () => {
    if (obj.key === undefined)
      problems.push({ path: joinPath(path, 'key'), message: 'is required' });
  };

  switch (action) {
    case 'insert':
    case 'update':
    case 'upsert':
      requireKey();
      if (sources === 0 && !hasDefault) {
        problems.push({
          path,
          message: `action "${action}" needs one of "value", "from_attribute", "from_context" or "default_value"`,
        });
      } else if (hasValue && hasDefault) {
        problems.push({
          path: joinPath(path, 'default_value'),
          message: 'is never used beside "value" (use one of them)',
        });
      } else if (sources > 1) {
        problems.push({
          path,
          message: `action "${action}" takes only one of "value", "from_attribute" or "from_context"`,
        });
      }
      forbid('pattern', obj.pattern !== undefined);
      forbid('converted_type', obj.converted_type !== undefined);
      break;
    case 'delete':
    case 'hash':
      forbid('default_value', hasDefault);
      if (obj.key === undefined && obj.pattern === undefined) {
        problems.push({ path, message: `action "${action}" needs "key" and/or "pattern"` });
      }
      forbid('value', hasValue);
      forbid('from_attribute', obj.from_attribute !== undefined);
      forbid('from_context', obj.from_context !== undefined);
      forbid('converted_type', obj.converted_type !== undefined);
      break;
    case 'extract':
      forbid('default_value', hasDefault);
      requireKey();
      if (obj.pattern === undefined) {
        problems.push({ path: joinPath(path, 'pattern'), message: 'is required for "extract"' });
      }
      forbid('value', hasValue);
      forbid('from_attribute', obj.from_attribute !== undefined);
      forbid('from_context', obj.from_context !== undefined);
      forbid('converted_type', obj.converted_type !== undefined);
      break;
    case 'convert':
      forbid('default_value', hasDefault);
      requireKey();
      if (obj.converted_type === undefined) {
        problems.push({
          path: joinPath(path, 'converted_type'),
          message: `is required for "convert" (one of: ${CONVERTED_TYPES.join(', ')})`,
        });
      }
      forbid('value', hasValue);
      forbid('from_attribute', obj.from_attribute !== undefined);
      forbid('from_context', obj.from_context !== undefined);
      forbid('pattern', obj.pattern !== undefined);
      break;
    case 'rename':
      forbid('default_value', hasDefault);
      requireKey();
      if (obj.from_attribute === undefined) {
        problems.push({
          path: joinPath(path, 'from_attribute'),
          message: 'is required for "rename" (the attribute to rename)',
        });
      }
      forbid('value', hasValue);
      forbid('from_context', obj.from_context !== undefined);
      forbid('pattern', obj.pattern !== undefined);
      forbid('converted_type', obj.converted_type !== undefined);
      break;
  }

  if (pattern !== undefined) {
    const r = compileRe2(pattern);
    if (!r.ok) problems.push({ path: joinPath(path, 'pattern'), message: r.message });
    else if (action === 'extract') {
      const named = Object.keys(r.re.namedGroups()).length;
      if (named === 0) {
        problems.push({
          path: joinPath(path, 'pattern'),
          message: 'contains no named groups: name each group, e.g. (?P<user>\\w+)',
        });
      } else if (named !== r.re.groupCount()) {
        problems.push({
          path: joinPath(path, 'pattern'),
          message: 'contains an unnamed group: every group must be named (use (?:...) otherwise)',
        });
      }
    }
  }
  if (problems.length !== before || action === undefined) return undefined;
  const out: AttributeAction = { action: action as AttributeActionName };
  if (key !== undefined) out.key = key;
  if (pattern !== undefined) out.pattern = pattern;
  if (hasValue) out.value = obj.value as RawAttributeValue;
  if (fromAttribute !== undefined) out.from_attribute = fromAttribute;
  if (fromContext !== undefined) out.from_context = fromContext;
  if (hasDefault) out.default_value = obj.default_value as RawAttributeValue;
  if (convertedType !== undefined) out.converted_type = convertedType;
  return out;
}

/** Validates one attribute processor. */
export function validateAttributesProcessor(
  raw: unknown,
  path: string,
  problems: PolicyProblem[],
): AttributesProcessorConfig | undefined {
  const obj = expectRecord(raw, path, problems);
  if (!obj) return undefined;
  const before = problems.length;
  checkKeys(obj, ['name', 'apply_to', 'include', 'exclude', 'actions'], path, problems);
  const name = readString(obj, 'name', path, problems, { nonEmpty: true });
  const applyTo = readStringList(obj, 'apply_to', path, problems);
  applyTo?.forEach((t, i) => {
    if (!(ATTRIBUTE_TARGETS as readonly string[]).includes(t)) {
      problems.push({
        path: joinPath(joinPath(path, 'apply_to'), i),
        message: `unknown target "${t}" (expected one of: ${ATTRIBUTE_TARGETS.join(', ')})`,
      });
    }
  });
  const include =
    obj.include === undefined
      ? undefined
      : validateMatchProperties(obj.include, joinPath(path, 'include'), problems);
  const exclude =
    obj.exclude === undefined
      ? undefined
      : validateMatchProperties(obj.exclude, joinPath(path, 'exclude'), problems);
  const rawActions = readList(obj, 'actions', path, problems, true);
  if (rawActions && rawActions.length === 0) {
    problems.push({ path: joinPath(path, 'actions'), message: 'must list at least one action' });
  }
  const actions: AttributeAction[] = [];
  rawActions?.forEach((a, i) => {
    const v = validateAction(a, joinPath(joinPath(path, 'actions'), i), problems);
    if (v) actions.push(v);
  });
  if (problems.length !== before) return undefined;
  const out: AttributesProcessorConfig = { actions };
  if (name !== undefined) out.name = name;
  if (applyTo !== undefined) out.apply_to = applyTo as AttributeTarget[];
  if (include) out.include = include;
  if (exclude) out.exclude = exclude;
  return out;
}

/** Validates the `attributes` section (a list of processors); reports every problem. */
export function validateAttributesConfig(
  raw: unknown,
  path = 'attributes',
): Validated<AttributesConfig> {
  const problems: PolicyProblem[] = [];
  if (!Array.isArray(raw)) {
    problems.push({ path, message: 'expected a list of attribute processors' });
    return { problems };
  }
  const config: AttributesConfig = [];
  raw.forEach((p, i) => {
    const v = validateAttributesProcessor(p, joinPath(path, i), problems);
    if (v) config.push(v);
  });
  return problems.length ? { problems } : { config, problems };
}
