/**
 * Match properties: which spans or log records a rule applies to. The shape is the
 * Collector's `include`/`exclude` MatchProperties (internal/filter/filterconfig), so the
 * attributes processor's YAML imports unchanged, and retention rules and routes reuse it:
 *
 * - every property given must match (AND); within one list any entry may match (OR), except
 *   `attributes` and `resources`, where every listed attribute must match;
 * - an attribute entry without `value` matches on the key's presence (Custodian uses this for
 *   "data that carries a raw prompt");
 * - `match_type: regexp` treats names and string values as RE2 patterns (unanchored, like Go's
 *   MatchString); `strict` compares exactly.
 *
 * Compiled once into a closure; the hot path does no parsing and no allocation.
 */
import type { AnyValue, InstrumentationScope, KeyValue, Span } from '@custodian/otlp';
import { fromRaw, getValue, getString, scalarEquals, asString } from './kv';
import { compileRe2, MemoizedRe2 } from './re2';
import {
  type PolicyProblem,
  checkKeys,
  expectRecord,
  joinPath,
  readList,
  readString,
  readStringList,
} from '../document/validate';

export type MatchType = 'strict' | 'regexp';

/** One attribute condition. */
export interface AttributeMatch {
  /** The attribute key. */
  key: string;
  /** The expected value; absent = the key only has to be present. */
  value?: string | number | boolean;
}

export interface LibraryMatch {
  /** Instrumentation scope name. */
  name: string;
  /** Scope version; absent = any version. */
  version?: string;
}

/** Which telemetry a rule applies to (the Collector's MatchProperties). */
export interface MatchProperties {
  /** How names and string values are compared: `strict` (default) or `regexp` (RE2). */
  match_type?: MatchType;
  /** `service.name` of the resource, any of. */
  services?: string[];
  /** Span names, any of (spans only: a log record never matches). */
  span_names?: string[];
  /** Span kinds, any of: SPAN_KIND_SERVER, SPAN_KIND_CLIENT, ... */
  span_kinds?: string[];
  /** Span or log record attributes, all of. */
  attributes?: AttributeMatch[];
  /** Resource attributes, all of. */
  resources?: AttributeMatch[];
  /** Instrumentation scopes, any of. */
  libraries?: LibraryMatch[];
}

const MATCH_KEYS = [
  'match_type',
  'services',
  'span_names',
  'span_kinds',
  'attributes',
  'resources',
  'libraries',
] as const;

export const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};

function validateAttributeMatches(
  list: unknown[] | undefined,
  path: string,
  problems: PolicyProblem[],
  regexp: boolean,
): AttributeMatch[] | undefined {
  if (list === undefined) return undefined;
  const out: AttributeMatch[] = [];
  list.forEach((item, i) => {
    const at = joinPath(path, i);
    const obj = expectRecord(item, at, problems);
    if (!obj) return;
    checkKeys(obj, ['key', 'value'], at, problems);
    const key = readString(obj, 'key', at, problems, { required: true });
    const value = obj.value;
    if (value !== undefined && value !== null) {
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        problems.push({ path: joinPath(at, 'value'), message: 'expected a scalar value' });
        return;
      }
      if (regexp && typeof value === 'string') {
        const r = compileRe2(value);
        if (!r.ok) problems.push({ path: joinPath(at, 'value'), message: r.message });
      }
    }
    if (key !== undefined) {
      out.push(
        value === undefined || value === null
          ? { key }
          : { key, value: value as string | number | boolean },
      );
    }
  });
  return out;
}

/** Validates match properties at `path`; reports every problem. */
export function validateMatchProperties(
  raw: unknown,
  path: string,
  problems: PolicyProblem[],
): MatchProperties | undefined {
  const obj = expectRecord(raw, path, problems);
  if (!obj) return undefined;
  const before = problems.length;
  checkKeys(obj, MATCH_KEYS, path, problems);
  const out: MatchProperties = {};
  const matchType = readString(obj, 'match_type', path, problems, {
    oneOf: ['strict', 'regexp'],
  }) as MatchType | undefined;
  if (matchType) out.match_type = matchType;
  const regexp = matchType === 'regexp';
  for (const field of ['services', 'span_names'] as const) {
    const list = readStringList(obj, field, path, problems);
    if (list) {
      if (regexp) {
        list.forEach((p, i) => {
          const r = compileRe2(p);
          if (!r.ok)
            problems.push({ path: joinPath(joinPath(path, field), i), message: r.message });
        });
      }
      out[field] = list;
    }
  }
  const kinds = readStringList(obj, 'span_kinds', path, problems);
  if (kinds) {
    kinds.forEach((k, i) => {
      if (!(k in SPAN_KINDS)) {
        problems.push({
          path: joinPath(joinPath(path, 'span_kinds'), i),
          message: `unknown span kind "${k}" (expected one of: ${Object.keys(SPAN_KINDS).join(', ')})`,
        });
      }
    });
    out.span_kinds = kinds;
  }
  const attrs = validateAttributeMatches(
    readList(obj, 'attributes', path, problems),
    joinPath(path, 'attributes'),
    problems,
    regexp,
  );
  if (attrs) out.attributes = attrs;
  const resources = validateAttributeMatches(
    readList(obj, 'resources', path, problems),
    joinPath(path, 'resources'),
    problems,
    regexp,
  );
  if (resources) out.resources = resources;
  const libs = readList(obj, 'libraries', path, problems);
  if (libs) {
    out.libraries = [];
    libs.forEach((item, i) => {
      const at = joinPath(joinPath(path, 'libraries'), i);
      const lib = expectRecord(item, at, problems);
      if (!lib) return;
      checkKeys(lib, ['name', 'version'], at, problems);
      const name = readString(lib, 'name', at, problems, { required: true });
      const version = readString(lib, 'version', at, problems);
      if (name !== undefined)
        out.libraries?.push(version === undefined ? { name } : { name, version });
    });
  }
  const hasAny = MATCH_KEYS.some((k) => k !== 'match_type' && obj[k] !== undefined);
  if (!hasAny) {
    problems.push({
      path,
      message:
        'matches nothing specific: give at least one of services, span_names, span_kinds, attributes, resources, libraries',
    });
  }
  return problems.length === before ? out : undefined;
}

/**
 * A compiled matcher. `span` is undefined for log records; `attrs` are the span's or the log
 * record's attributes.
 */
export type Matcher = (
  resource: KeyValue[],
  scope: InstrumentationScope | undefined,
  span: Span | undefined,
  attrs: KeyValue[],
) => boolean;

type StringTest = (s: string) => boolean;

function stringTest(values: string[], regexp: boolean): StringTest {
  if (!regexp) {
    if (values.length === 1) {
      const only = values[0];
      return (s) => s === only;
    }
    const set = new Set(values);
    return (s) => set.has(s);
  }
  const res = values.map((v) => {
    const r = compileRe2(v);
    if (!r.ok) throw new Error(r.message);
    return new MemoizedRe2(r.re);
  });
  return (s) => {
    for (const re of res) if (re.test(s)) return true;
    return false;
  };
}

type AttrTest = (attrs: KeyValue[]) => boolean;

function attributeTest(m: AttributeMatch, regexp: boolean): AttrTest {
  const key = m.key;
  if (m.value === undefined) return (attrs) => getValue(attrs, key) !== undefined;
  if (regexp && typeof m.value === 'string') {
    const r = compileRe2(m.value);
    if (!r.ok) throw new Error(r.message);
    const re = r.re;
    return (attrs) => {
      const v = getValue(attrs, key);
      return v !== undefined && re.test(asString(v));
    };
  }
  const expected = fromRaw(m.value) as AnyValue;
  return (attrs) => {
    const v = getValue(attrs, key);
    return v !== undefined && scalarEquals(v, expected);
  };
}

/** Compiles validated match properties (throws only on a config that skipped validation). */
export function compileMatcher(props: MatchProperties): Matcher {
  const regexp = props.match_type === 'regexp';
  const services = props.services ? stringTest(props.services, regexp) : undefined;
  const names = props.span_names ? stringTest(props.span_names, regexp) : undefined;
  const kinds = props.span_kinds ? new Set(props.span_kinds.map((k) => SPAN_KINDS[k])) : undefined;
  const attrs = (props.attributes ?? []).map((a) => attributeTest(a, regexp));
  const resources = (props.resources ?? []).map((a) => attributeTest(a, regexp));
  const libs = props.libraries?.map((l) => ({
    name: stringTest([l.name], regexp),
    version: l.version === undefined ? undefined : stringTest([l.version], regexp),
  }));
  return (resource, scope, span, spanAttrs) => {
    if (services && !services(getString(resource, 'service.name') ?? '')) return false;
    if (names && (span === undefined || !names(span.name))) return false;
    if (kinds && (span === undefined || !kinds.has(span.kind))) return false;
    for (const t of resources) if (!t(resource)) return false;
    for (const t of attrs) if (!t(spanAttrs)) return false;
    if (libs) {
      if (!scope) return false;
      let any = false;
      for (const l of libs) {
        if (l.name(scope.name) && (l.version === undefined || l.version(scope.version))) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    return true;
  };
}

/** include/exclude as the Collector applies them: include must match, exclude must not. */
export function compileIncludeExclude(
  include: MatchProperties | undefined,
  exclude: MatchProperties | undefined,
): Matcher | undefined {
  if (!include && !exclude) return undefined;
  const inc = include ? compileMatcher(include) : undefined;
  const exc = exclude ? compileMatcher(exclude) : undefined;
  return (resource, scope, span, attrs) =>
    (inc === undefined || inc(resource, scope, span, attrs)) &&
    (exc === undefined || !exc(resource, scope, span, attrs));
}
