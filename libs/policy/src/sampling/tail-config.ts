/**
 * The `sampling.tail` section: the Collector tail_sampling processor's YAML shape
 * (processor/tailsamplingprocessor/config.go), so a tenant's existing `tail_sampling:` block
 * pastes in unchanged. Differences, all deliberate:
 *
 * - `ottl_condition` and `bytes_limiting` are refused with a clear "not supported" problem
 *   (no OTTL engine in a pure library; a byte budget exists at the sampler level instead).
 * - `decision_cache` sizes default to 100000 each (the Collector's default is 0 = off),
 *   because late spans must follow the decision made for their trace.
 * - `max_buffered_spans` / `max_buffered_bytes` (Custodian): a memory budget next to
 *   `num_traces`; past it the OLDEST traces are decided early (counted), never dropped.
 * - Policy regexes (`enabled_regex_matching`) use RE2 semantics.
 * - `span_match` (Custodian extension): sampled when ONE span meets every condition given —
 *   status code, span name, attributes (present, or with one of the listed values). The
 *   Collector's attribute policies look at the trace as a whole (an `and` of status_code and
 *   string_attribute is satisfied by an error on one span and the attribute on another); an
 *   agent rule such as "a TOOL span failed" needs both on the same span, which the Collector
 *   says with ottl_condition.
 * - Sub-policies (`and_sub_policy`, `composite_sub_policy`, `drop_sub_policy`) may be any
 *   basic policy; `and` may also appear inside `composite` and `drop`. Deeper nesting is
 *   refused, as in the Collector.
 */
import {
  type PolicyProblem,
  type Validated,
  checkKeys,
  expectRecord,
  joinPath,
  readBool,
  readDurationMs,
  readList,
  readNumber,
  readString,
  readStringList,
} from '../document/validate';
import { compileRe2 } from '../attributes/re2';

export const BASIC_POLICY_TYPES = [
  'always_sample',
  'latency',
  'numeric_attribute',
  'probabilistic',
  'status_code',
  'string_attribute',
  'boolean_attribute',
  'rate_limiting',
  'span_count',
  'trace_state',
  'trace_flags',
  'span_match',
] as const;
export const POLICY_TYPES = [...BASIC_POLICY_TYPES, 'and', 'composite', 'drop'] as const;
export type TailPolicyType = (typeof POLICY_TYPES)[number];

/** Collector policy types Custodian does not run, with what to use instead. */
export const UNSUPPORTED_TYPES: Readonly<Record<string, string>> = {
  ottl_condition:
    'policy type "ottl_condition" is not supported by Custodian (no OTTL engine): express the condition with string_attribute, numeric_attribute, boolean_attribute, status_code or an "and" of them',
  bytes_limiting:
    'policy type "bytes_limiting" is not supported: use rate_limiting, or the sampler-wide max_buffered_bytes budget',
};

export interface LatencyCfg {
  /** Lower bound on trace duration (latest end − earliest start), in ms. */
  threshold_ms: number;
  /** Optional upper bound in ms; with it, threshold_ms < duration <= upper_threshold_ms. */
  upper_threshold_ms?: number;
}

export interface NumericAttributeCfg {
  /** Resource or span attribute key (int or double values). */
  key: string;
  /** Inclusive minimum; absent = no lower bound. */
  min_value?: number;
  /** Inclusive maximum; absent = no upper bound. */
  max_value?: number;
  /** Sample traces that do NOT match (deprecated in the Collector; prefer `drop`). */
  invert_match?: boolean;
}

export interface ProbabilisticCfg {
  /** Percentage of traces sampled, 0–100. */
  sampling_percentage: number;
  /** Salt hashed before the trace id; default "default-hash-seed" (the Collector's). */
  hash_salt?: string;
}

export interface StatusCodeCfg {
  /** Any of OK, ERROR, UNSET: sampled when some span has one of them. */
  status_codes: ('OK' | 'ERROR' | 'UNSET')[];
}

export interface StringAttributeCfg {
  /** Resource or span attribute key (string values). */
  key: string;
  /** Exact values, or RE2 patterns with enabled_regex_matching. */
  values: string[];
  /** Treat `values` as RE2 patterns (unanchored). */
  enabled_regex_matching?: boolean;
  /** Size of the memo of regex results per attribute value; default 128. */
  cache_max_size?: number;
  /** Sample traces that do NOT match (deprecated in the Collector; prefer `drop`). */
  invert_match?: boolean;
}

export interface BooleanAttributeCfg {
  /** Resource or span attribute key (bool values). */
  key: string;
  /** The value to match. */
  value: boolean;
  /** Sample traces that do NOT match. */
  invert_match?: boolean;
}

export interface RateLimitingCfg {
  /** Spans sampled per second of the caller's clock, at most. */
  spans_per_second: number;
}

export interface SpanCountCfg {
  /** Minimum span count, inclusive. */
  min_spans: number;
  /** Maximum span count, inclusive; absent or 0 = no maximum. */
  max_spans?: number;
}

export interface TraceStateCfg {
  /** W3C tracestate key. */
  key: string;
  /** Values that match. */
  values: string[];
}

export interface SpanAttributeCondition {
  /** Span attribute key. */
  key: string;
  /** Values (compared with the value's string form); absent = the key is present. */
  values?: string[];
}

export interface SpanMatchCfg {
  /** The span's status is one of these; absent = any status. */
  status_codes?: ('OK' | 'ERROR' | 'UNSET')[];
  /** The span's name is one of these (exact); absent = any name. */
  span_names?: string[];
  /** The span carries every one of these attributes. */
  attributes?: SpanAttributeCondition[];
}

export interface AndCfg {
  /** All must sample for the `and` to sample. */
  and_sub_policy: TailPolicyConfig[];
}

export interface DropCfg {
  /** When all sample, the trace is dropped, whatever the other policies say. */
  drop_sub_policy: TailPolicyConfig[];
}

export interface RateAllocationCfg {
  /** Sub-policy name. */
  policy: string;
  /** Percent of max_total_spans_per_second for that sub-policy (0 = equal share). */
  percent: number;
}

export interface CompositeCfg {
  /** Spans per second sampled by the composite, at most. */
  max_total_spans_per_second: number;
  /** Sub-policy names, in evaluation order. */
  policy_order: string[];
  /** The sub-policies. */
  composite_sub_policy: TailPolicyConfig[];
  /** Budget per sub-policy; sub-policies without an allocation get none (Collector). */
  rate_allocation?: RateAllocationCfg[];
}

/** One tail sampling policy (the Collector's PolicyCfg). */
export interface TailPolicyConfig {
  /** Unique name, reported as the deciding policy. */
  name: string;
  /** Policy type; the block of the same name configures it. */
  type: TailPolicyType;
  latency?: LatencyCfg;
  numeric_attribute?: NumericAttributeCfg;
  probabilistic?: ProbabilisticCfg;
  status_code?: StatusCodeCfg;
  string_attribute?: StringAttributeCfg;
  boolean_attribute?: BooleanAttributeCfg;
  rate_limiting?: RateLimitingCfg;
  span_count?: SpanCountCfg;
  trace_state?: TraceStateCfg;
  span_match?: SpanMatchCfg;
  and?: AndCfg;
  drop?: DropCfg;
  composite?: CompositeCfg;
}

export interface DecisionCacheCfg {
  /** LRU size of trace ids decided "sampled"; 0 disables. Default 100000. */
  sampled_cache_size?: number;
  /** LRU size of trace ids decided "not sampled"; 0 disables. Default 100000. */
  non_sampled_cache_size?: number;
}

/** The `sampling.tail` section. */
export interface TailSamplingConfig {
  /** Wait after a trace's first span before deciding; Go duration, default "30s". */
  decision_wait?: string;
  /** Traces held at most; past it the oldest is decided early. Default 50000. */
  num_traces?: number;
  /** Sizing hint, as in the Collector; default 0. */
  expected_new_traces_per_sec?: number;
  /** Decision caches that let late spans follow their trace's decision. */
  decision_cache?: DecisionCacheCfg;
  /** Stop evaluating at the first policy that samples. */
  sample_on_first_match?: boolean;
  /** Custodian: spans held at most; past it the oldest traces are decided early. */
  max_buffered_spans?: number;
  /** Custodian: estimated bytes held at most; past it the oldest are decided early. */
  max_buffered_bytes?: number;
  /** Policies, evaluated in order. */
  policies: TailPolicyConfig[];
}

const TAIL_KEYS = [
  'decision_wait',
  'num_traces',
  'expected_new_traces_per_sec',
  'decision_cache',
  'sample_on_first_match',
  'max_buffered_spans',
  'max_buffered_bytes',
  'policies',
] as const;

type Ctx = {
  problems: PolicyProblem[];
  /** Paths where an unsupported policy type was met (for skipUnsupported). */
  unsupported: { path: string; type: string }[];
};

function block(
  obj: Record<string, unknown>,
  type: string,
  path: string,
  ctx: Ctx,
  keys: readonly string[],
): Record<string, unknown> | undefined {
  const at = joinPath(path, type);
  if (obj[type] === undefined || obj[type] === null) {
    ctx.problems.push({ path: at, message: `is required for a policy of type "${type}"` });
    return undefined;
  }
  const b = expectRecord(obj[type], at, ctx.problems);
  if (b) checkKeys(b, keys, at, ctx.problems);
  return b;
}

function validateSubPolicies(
  list: unknown[] | undefined,
  path: string,
  ctx: Ctx,
  allowAnd: boolean,
): TailPolicyConfig[] {
  const out: TailPolicyConfig[] = [];
  if (list === undefined) return out;
  if (list.length === 0) ctx.problems.push({ path, message: 'must list at least one policy' });
  const names = new Set<string>();
  list.forEach((raw, i) => {
    const p = validatePolicy(raw, joinPath(path, i), ctx, allowAnd ? 'in_composite' : 'sub', names);
    if (p) out.push(p);
  });
  return out;
}

function validatePolicy(
  raw: unknown,
  path: string,
  ctx: Ctx,
  level: 'top' | 'in_composite' | 'sub',
  names: Set<string>,
): TailPolicyConfig | undefined {
  const { problems } = ctx;
  const obj = expectRecord(raw, path, problems);
  if (!obj) return undefined;
  const before = problems.length;
  const name = readString(obj, 'name', path, problems, { required: true });
  if (name !== undefined) {
    if (names.has(name)) {
      problems.push({ path: joinPath(path, 'name'), message: `duplicate policy name "${name}"` });
    }
    names.add(name);
  }
  const type = readString(obj, 'type', path, problems, { required: true });
  if (type === undefined) return undefined;
  if (type in UNSUPPORTED_TYPES) {
    problems.push({ path: joinPath(path, 'type'), message: UNSUPPORTED_TYPES[type] });
    ctx.unsupported.push({ path, type });
    return undefined;
  }
  if (!(POLICY_TYPES as readonly string[]).includes(type)) {
    problems.push({
      path: joinPath(path, 'type'),
      message: `unknown policy type "${type}" (expected one of: ${POLICY_TYPES.join(', ')})`,
    });
    return undefined;
  }
  const nested = type === 'and' || type === 'composite' || type === 'drop';
  if (level === 'sub' && nested) {
    problems.push({
      path: joinPath(path, 'type'),
      message: `"${type}" cannot be nested here (sub-policies are basic policies)`,
    });
    return undefined;
  }
  if (level === 'in_composite' && (type === 'composite' || type === 'drop')) {
    problems.push({
      path: joinPath(path, 'type'),
      message: `"${type}" cannot be nested inside another composite or drop policy`,
    });
    return undefined;
  }
  checkKeys(obj, ['name', 'type', type], path, problems);
  const p: TailPolicyConfig = { name: name ?? '', type: type as TailPolicyType };
  switch (type) {
    case 'always_sample':
    case 'trace_flags':
      break;
    case 'latency': {
      const b = block(obj, type, path, ctx, ['threshold_ms', 'upper_threshold_ms']);
      if (!b) break;
      const at = joinPath(path, type);
      const lo = readNumber(b, 'threshold_ms', at, problems, {
        required: true,
        integer: true,
        min: 0,
      });
      const hi = readNumber(b, 'upper_threshold_ms', at, problems, { integer: true, min: 0 });
      if (lo !== undefined && hi !== undefined && hi !== 0 && hi < lo) {
        problems.push({
          path: joinPath(at, 'upper_threshold_ms'),
          message: `must be >= threshold_ms (${lo})`,
        });
      }
      if (lo !== undefined)
        p.latency = hi ? { threshold_ms: lo, upper_threshold_ms: hi } : { threshold_ms: lo };
      break;
    }
    case 'numeric_attribute': {
      const b = block(obj, type, path, ctx, ['key', 'min_value', 'max_value', 'invert_match']);
      if (!b) break;
      const at = joinPath(path, type);
      const key = readString(b, 'key', at, problems, { required: true });
      const min = readNumber(b, 'min_value', at, problems);
      const max = readNumber(b, 'max_value', at, problems);
      const inv = readBool(b, 'invert_match', at, problems);
      if (b.min_value === undefined && b.max_value === undefined) {
        problems.push({ path: at, message: 'needs min_value and/or max_value' });
      }
      if (min !== undefined && max !== undefined && max < min) {
        problems.push({
          path: joinPath(at, 'max_value'),
          message: `must be >= min_value (${min})`,
        });
      }
      if (key !== undefined) {
        p.numeric_attribute = { key };
        if (min !== undefined) p.numeric_attribute.min_value = min;
        if (max !== undefined) p.numeric_attribute.max_value = max;
        if (inv !== undefined) p.numeric_attribute.invert_match = inv;
      }
      break;
    }
    case 'probabilistic': {
      const b = block(obj, type, path, ctx, ['sampling_percentage', 'hash_salt']);
      if (!b) break;
      const at = joinPath(path, type);
      const pct = readNumber(b, 'sampling_percentage', at, problems, {
        required: true,
        min: 0,
        max: 100,
      });
      const salt = readString(b, 'hash_salt', at, problems);
      if (pct !== undefined) {
        p.probabilistic = { sampling_percentage: pct };
        if (salt) p.probabilistic.hash_salt = salt;
      }
      break;
    }
    case 'status_code': {
      const b = block(obj, type, path, ctx, ['status_codes']);
      if (!b) break;
      const at = joinPath(path, type);
      const codes = readStringList(b, 'status_codes', at, problems, true);
      codes?.forEach((c, i) => {
        if (!['OK', 'ERROR', 'UNSET'].includes(c)) {
          problems.push({
            path: joinPath(joinPath(at, 'status_codes'), i),
            message: `unknown status code "${c}" (expected OK, ERROR or UNSET)`,
          });
        }
      });
      if (codes) p.status_code = { status_codes: codes as StatusCodeCfg['status_codes'] };
      break;
    }
    case 'string_attribute': {
      const b = block(obj, type, path, ctx, [
        'key',
        'values',
        'enabled_regex_matching',
        'cache_max_size',
        'invert_match',
      ]);
      if (!b) break;
      const at = joinPath(path, type);
      const key = readString(b, 'key', at, problems, { required: true });
      const values = readStringList(b, 'values', at, problems, true);
      const regex = readBool(b, 'enabled_regex_matching', at, problems);
      const cache = readNumber(b, 'cache_max_size', at, problems, { integer: true, min: 0 });
      const inv = readBool(b, 'invert_match', at, problems);
      if (regex && values) {
        values.forEach((v, i) => {
          const r = compileRe2(v);
          if (!r.ok)
            problems.push({ path: joinPath(joinPath(at, 'values'), i), message: r.message });
        });
      }
      if (key !== undefined && values) {
        p.string_attribute = { key, values };
        if (regex !== undefined) p.string_attribute.enabled_regex_matching = regex;
        if (cache !== undefined) p.string_attribute.cache_max_size = cache;
        if (inv !== undefined) p.string_attribute.invert_match = inv;
      }
      break;
    }
    case 'boolean_attribute': {
      const b = block(obj, type, path, ctx, ['key', 'value', 'invert_match']);
      if (!b) break;
      const at = joinPath(path, type);
      const key = readString(b, 'key', at, problems, { required: true });
      const value = readBool(b, 'value', at, problems);
      if (b.value === undefined)
        problems.push({ path: joinPath(at, 'value'), message: 'is required' });
      const inv = readBool(b, 'invert_match', at, problems);
      if (key !== undefined && value !== undefined) {
        p.boolean_attribute = { key, value };
        if (inv !== undefined) p.boolean_attribute.invert_match = inv;
      }
      break;
    }
    case 'rate_limiting': {
      const b = block(obj, type, path, ctx, ['spans_per_second']);
      if (!b) break;
      const sps = readNumber(b, 'spans_per_second', joinPath(path, type), problems, {
        required: true,
        integer: true,
        min: 1,
      });
      if (sps !== undefined) p.rate_limiting = { spans_per_second: sps };
      break;
    }
    case 'span_count': {
      const b = block(obj, type, path, ctx, ['min_spans', 'max_spans']);
      if (!b) break;
      const at = joinPath(path, type);
      const min = readNumber(b, 'min_spans', at, problems, {
        required: true,
        integer: true,
        min: 0,
      });
      const max = readNumber(b, 'max_spans', at, problems, { integer: true, min: 0 });
      if (min !== undefined && max !== undefined && max !== 0 && max < min) {
        problems.push({
          path: joinPath(at, 'max_spans'),
          message: `must be >= min_spans (${min})`,
        });
      }
      if (min !== undefined)
        p.span_count = max ? { min_spans: min, max_spans: max } : { min_spans: min };
      break;
    }
    case 'trace_state': {
      const b = block(obj, type, path, ctx, ['key', 'values']);
      if (!b) break;
      const at = joinPath(path, type);
      const key = readString(b, 'key', at, problems, { required: true });
      const values = readStringList(b, 'values', at, problems, true);
      if (key !== undefined && values) p.trace_state = { key, values };
      break;
    }
    case 'span_match': {
      const b = block(obj, type, path, ctx, ['status_codes', 'span_names', 'attributes']);
      if (!b) break;
      const at = joinPath(path, type);
      const before = problems.length;
      const cfg: SpanMatchCfg = {};
      const codes = readStringList(b, 'status_codes', at, problems);
      codes?.forEach((c, i) => {
        if (!['OK', 'ERROR', 'UNSET'].includes(c)) {
          problems.push({
            path: joinPath(joinPath(at, 'status_codes'), i),
            message: `unknown status code "${c}" (expected OK, ERROR or UNSET)`,
          });
        }
      });
      if (codes?.length) cfg.status_codes = codes as SpanMatchCfg['status_codes'];
      const names = readStringList(b, 'span_names', at, problems);
      if (names?.length) cfg.span_names = names;
      const attrs: SpanAttributeCondition[] = [];
      readList(b, 'attributes', at, problems)?.forEach((raw, i) => {
        const aat = joinPath(joinPath(at, 'attributes'), i);
        const a = expectRecord(raw, aat, problems);
        if (!a) return;
        checkKeys(a, ['key', 'values'], aat, problems);
        const key = readString(a, 'key', aat, problems, { required: true });
        const values = readStringList(a, 'values', aat, problems);
        if (key !== undefined) attrs.push(values ? { key, values } : { key });
      });
      if (attrs.length) cfg.attributes = attrs;
      if (!cfg.status_codes && !cfg.span_names && !cfg.attributes && problems.length === before) {
        problems.push({
          path: at,
          message: 'needs at least one of status_codes, span_names or attributes',
        });
      }
      p.span_match = cfg;
      break;
    }
    case 'and': {
      const b = block(obj, type, path, ctx, ['and_sub_policy']);
      if (!b) break;
      const at = joinPath(path, type);
      const subs = validateSubPolicies(
        readList(b, 'and_sub_policy', at, problems, true),
        joinPath(at, 'and_sub_policy'),
        ctx,
        false,
      );
      p.and = { and_sub_policy: subs };
      break;
    }
    case 'drop': {
      const b = block(obj, type, path, ctx, ['drop_sub_policy']);
      if (!b) break;
      const at = joinPath(path, type);
      const subs = validateSubPolicies(
        readList(b, 'drop_sub_policy', at, problems, true),
        joinPath(at, 'drop_sub_policy'),
        ctx,
        true,
      );
      p.drop = { drop_sub_policy: subs };
      break;
    }
    case 'composite': {
      const b = block(obj, type, path, ctx, [
        'max_total_spans_per_second',
        'policy_order',
        'composite_sub_policy',
        'rate_allocation',
      ]);
      if (!b) break;
      const at = joinPath(path, type);
      const max = readNumber(b, 'max_total_spans_per_second', at, problems, {
        required: true,
        integer: true,
        min: 1,
      });
      const order = readStringList(b, 'policy_order', at, problems, true);
      const subs = validateSubPolicies(
        readList(b, 'composite_sub_policy', at, problems, true),
        joinPath(at, 'composite_sub_policy'),
        ctx,
        true,
      );
      const subNames = new Set(subs.map((s) => s.name));
      order?.forEach((n, i) => {
        if (!subNames.has(n)) {
          problems.push({
            path: joinPath(joinPath(at, 'policy_order'), i),
            message: `names no sub-policy "${n}"`,
          });
        }
      });
      const allocs: RateAllocationCfg[] = [];
      let total = 0;
      readList(b, 'rate_allocation', at, problems)?.forEach((raw, i) => {
        const aat = joinPath(joinPath(at, 'rate_allocation'), i);
        const a = expectRecord(raw, aat, problems);
        if (!a) return;
        checkKeys(a, ['policy', 'percent'], aat, problems);
        const pol = readString(a, 'policy', aat, problems, { required: true });
        const pct = readNumber(a, 'percent', aat, problems, { required: true, min: 0, max: 100 });
        if (pol !== undefined && !subNames.has(pol)) {
          problems.push({ path: joinPath(aat, 'policy'), message: `names no sub-policy "${pol}"` });
        }
        if (pol !== undefined && pct !== undefined) {
          allocs.push({ policy: pol, percent: pct });
          total += pct;
        }
      });
      if (total > 100) {
        problems.push({
          path: joinPath(at, 'rate_allocation'),
          message: `percentages add up to ${total}, more than 100`,
        });
      }
      if (max !== undefined && order) {
        p.composite = {
          max_total_spans_per_second: max,
          policy_order: order,
          composite_sub_policy: subs,
        };
        if (allocs.length) p.composite.rate_allocation = allocs;
      }
      break;
    }
  }
  return problems.length === before ? p : undefined;
}

export interface TailValidateOptions {
  /**
   * Leave out, with a warning, each top-level policy that is or contains a type Custodian does
   * not run (ottl_condition, bytes_limiting) instead of refusing the config. The whole
   * top-level policy goes, never only the sub-policy: dropping one leg of an `and` or `drop`
   * would widen what it matches. The Collector import uses this; a policy document does not.
   */
  skipUnsupported?: boolean;
}

export interface ValidatedTail extends Validated<TailSamplingConfig> {
  /** Policies left out under skipUnsupported, one entry each. */
  warnings: PolicyProblem[];
}

/** Validates `sampling.tail`; reports every problem with its path. */
export function validateTailSamplingConfig(
  raw: unknown,
  path = 'sampling.tail',
  opts: TailValidateOptions = {},
): ValidatedTail {
  const problems: PolicyProblem[] = [];
  const warnings: PolicyProblem[] = [];
  const obj = expectRecord(raw, path, problems);
  if (!obj) return { problems, warnings };
  checkKeys(obj, TAIL_KEYS, path, problems);
  const config: TailSamplingConfig = { policies: [] };
  if (readDurationMs(obj, 'decision_wait', path, problems, { min: 0 }) !== undefined) {
    config.decision_wait = obj.decision_wait as string;
  }
  const num = readNumber(obj, 'num_traces', path, problems, { integer: true, min: 1 });
  if (num !== undefined) config.num_traces = num;
  const expected = readNumber(obj, 'expected_new_traces_per_sec', path, problems, {
    integer: true,
    min: 0,
  });
  if (expected !== undefined) config.expected_new_traces_per_sec = expected;
  if (obj.decision_cache !== undefined) {
    const at = joinPath(path, 'decision_cache');
    const dc = expectRecord(obj.decision_cache, at, problems);
    if (dc) {
      checkKeys(dc, ['sampled_cache_size', 'non_sampled_cache_size'], at, problems);
      const s = readNumber(dc, 'sampled_cache_size', at, problems, { integer: true, min: 0 });
      const n = readNumber(dc, 'non_sampled_cache_size', at, problems, { integer: true, min: 0 });
      config.decision_cache = {};
      if (s !== undefined) config.decision_cache.sampled_cache_size = s;
      if (n !== undefined) config.decision_cache.non_sampled_cache_size = n;
    }
  }
  const first = readBool(obj, 'sample_on_first_match', path, problems);
  if (first !== undefined) config.sample_on_first_match = first;
  const maxSpans = readNumber(obj, 'max_buffered_spans', path, problems, { integer: true, min: 1 });
  if (maxSpans !== undefined) config.max_buffered_spans = maxSpans;
  const maxBytes = readNumber(obj, 'max_buffered_bytes', path, problems, { integer: true, min: 1 });
  if (maxBytes !== undefined) config.max_buffered_bytes = maxBytes;
  const list = readList(obj, 'policies', path, problems, true);
  if (list && list.length === 0) {
    problems.push({ path: joinPath(path, 'policies'), message: 'must list at least one policy' });
  }
  const ctx: Ctx = { problems, unsupported: [] };
  const names = new Set<string>();
  list?.forEach((raw, i) => {
    const at = joinPath(joinPath(path, 'policies'), i);
    const mark = problems.length;
    const seen = ctx.unsupported.length;
    const p = validatePolicy(raw, at, ctx, 'top', names);
    if (opts.skipUnsupported && ctx.unsupported.length > seen) {
      // Its other problems do not matter any more: the policy is not imported.
      problems.length = mark;
      const name = (raw as { name?: unknown }).name;
      const found = ctx.unsupported.slice(seen);
      const what = found
        .map((u) => (u.path === at ? u.type : `${u.type} at ${u.path.slice(at.length + 1)}`))
        .join(', ');
      warnings.push({
        path: at,
        message: `policy ${typeof name === 'string' ? `"${name}" ` : ''}(${what}) was not imported: ${UNSUPPORTED_TYPES[found[0].type]}`,
      });
      return;
    }
    if (p) config.policies.push(p);
  });
  if (list && list.length > 0 && config.policies.length === 0 && warnings.length === list.length) {
    problems.push({
      path: joinPath(path, 'policies'),
      message: 'no policy left to import: every policy uses an unsupported type',
    });
  }
  return problems.length ? { problems, warnings } : { config, problems, warnings };
}
