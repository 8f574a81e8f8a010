/**
 * Tail sampling policy evaluators, with the semantics of the Collector's
 * processor/tailsamplingprocessor/internal/sampling (one evaluator per policy type) and its
 * final-decision rule (processor.go makeDecision, README "Each policy will result in a
 * decision"):
 *
 * 1. any policy says Dropped (a `drop` policy whose sub-policies all sampled) → not sampled;
 * 2. any says InvertNotSampled (an `invert_match` policy that matched) → not sampled;
 * 3. any says Sampled → sampled;
 * 4. any says InvertSampled and none says NotSampled → sampled;
 * 5. otherwise → not sampled.
 *
 * Inside `and`, `drop` and `composite` the inverted decisions count as plain ones, as in the
 * Collector. Stateful policies (rate_limiting, composite) count spans per second of the
 * clock the caller passes in (`now`, ms), never the wall clock. The rate limiter is the
 * Collector's classic one: per clock second, a trace is sampled while the second's sampled
 * span count plus the trace's span count stays below `spans_per_second`.
 *
 * Incremental evaluation (the TailSampler's fast path): most policies ask "does ANY span (or
 * resource) satisfy P?" or need the trace's earliest start and latest end. Given a
 * SummaryPlan, createEvaluator registers each such P as a slot; the TailSampler tests P on
 * each span as it arrives (cache-hot, and never again for that trace once it held) and keeps
 * min start / max end, so deciding a trace reads a few flags instead of walking spans that
 * arrived up to decision_wait ago. Without a summary (a bare TraceView) evaluators scan; both
 * paths give the same verdicts (a property test holds them equal).
 */
import type { KeyValue, ResourceSpans, Span } from '@custodian/otlp';
import { StatusCode } from '@custodian/otlp';
import { asString, getValue } from '../attributes/kv';
import { compileRe2, MemoizedRe2 } from '../attributes/re2';
import type { TailPolicyConfig } from './tail-config';

/** A policy's verdict (the Collector's sampling.Decision). */
export const Verdict = {
  NotSampled: 0,
  Sampled: 1,
  InvertSampled: 2,
  InvertNotSampled: 3,
  Dropped: 4,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Facts gathered span by span while a trace is buffered (see SummaryPlan). */
export interface TraceSummary {
  /** hits[i] is 1 once the plan's test i held for some span or resource of the trace. */
  readonly hits: Uint8Array;
  /** Earliest span start and latest span end (ns; 0n = none), when the plan asks for them. */
  readonly minStartNs: bigint;
  readonly maxEndNs: bigint;
}

/** What an evaluator sees: the buffered trace. */
export interface TraceView {
  readonly traceId: Uint8Array;
  readonly spanCount: number;
  readonly batches: readonly ResourceSpans[];
  /** Present only when every span was observed under the evaluators' SummaryPlan. */
  readonly summary?: TraceSummary;
}

/** The per-span tests a set of evaluators wants run as spans arrive. */
export class SummaryPlan {
  readonly spanTests: ((span: Span) => boolean)[] = [];
  /** Same index as spanTests; undefined when the test does not look at resources. */
  readonly resourceTests: (((attrs: KeyValue[]) => boolean) | undefined)[] = [];
  /** Some policy needs the trace duration. */
  duration = false;
  /**
   * Some policy reads span or resource attributes or span names — what attribute actions and
   * redaction change. Without one, a decision depends only on ids, times, status codes, flags,
   * trace state and counts, which preparing a span never changes.
   */
  readsContent = false;

  slot(onSpan: (span: Span) => boolean, onResource?: (attrs: KeyValue[]) => boolean): number {
    this.spanTests.push(onSpan);
    this.resourceTests.push(onResource);
    return this.spanTests.length - 1;
  }

  get isEmpty(): boolean {
    return this.spanTests.length === 0 && !this.duration;
  }
}

export interface PolicyEvaluator {
  readonly name: string;
  evaluate(trace: TraceView, nowMs: number): Verdict;
}

const NO_ATTRS: KeyValue[] = [];

/** True when some span (or the resource of some span) satisfies the predicate. */
function anyResourceOrSpan(
  trace: TraceView,
  onResource: (attrs: KeyValue[]) => boolean,
  onSpan: (span: Span) => boolean,
): boolean {
  for (const rs of trace.batches) {
    if (onResource(rs.resource?.attributes ?? NO_ATTRS)) return true;
    for (const ss of rs.scopeSpans) {
      const spans = ss.spans;
      for (let i = 0; i < spans.length; i++) if (onSpan(spans[i])) return true;
    }
  }
  return false;
}

function anySpan(trace: TraceView, pred: (span: Span) => boolean): boolean {
  for (const rs of trace.batches) {
    for (const ss of rs.scopeSpans) {
      const spans = ss.spans;
      for (let i = 0; i < spans.length; i++) if (pred(spans[i])) return true;
    }
  }
  return false;
}

/** "Some span (or resource) satisfies P": a summary slot when planned, else a scan. */
function anyTest(
  plan: SummaryPlan | undefined,
  onSpan: (span: Span) => boolean,
  onResource?: (attrs: KeyValue[]) => boolean,
): (trace: TraceView) => boolean {
  const slot = plan ? plan.slot(onSpan, onResource) : -1;
  if (onResource) {
    return (t) =>
      slot >= 0 && t.summary !== undefined
        ? t.summary.hits[slot] === 1
        : anyResourceOrSpan(t, onResource, onSpan);
  }
  return (t) =>
    slot >= 0 && t.summary !== undefined ? t.summary.hits[slot] === 1 : anySpan(t, onSpan);
}

/** An attribute condition evaluated on resources and spans, with `invert_match`. */
function attributePolicy(
  name: string,
  matches: (attrs: KeyValue[]) => boolean,
  invert: boolean,
  plan: SummaryPlan | undefined,
): PolicyEvaluator {
  if (plan) plan.readsContent = true;
  const any = anyTest(plan, (s: Span) => matches(s.attributes), matches);
  return {
    name,
    evaluate(trace) {
      const hit = any(trace);
      if (invert) return hit ? Verdict.InvertNotSampled : Verdict.InvertSampled;
      return hit ? Verdict.Sampled : Verdict.NotSampled;
    },
  };
}

const DEFAULT_HASH_SALT = 'default-hash-seed';
const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MAX_U64 = 2n ** 64n - 1n;

/** FNV-1a 64 of salt ‖ trace id: the Collector's tail `probabilistic` hashTraceID. */
export function fnv1a64(salt: Uint8Array, id: Uint8Array): bigint {
  let h = FNV64_OFFSET;
  for (let i = 0; i < salt.length; i++) h = BigInt.asUintN(64, (h ^ BigInt(salt[i])) * FNV64_PRIME);
  for (let i = 0; i < id.length; i++) h = BigInt.asUintN(64, (h ^ BigInt(id[i])) * FNV64_PRIME);
  return h;
}

const STATUS_CODES: Record<string, number> = {
  OK: StatusCode.Ok,
  ERROR: StatusCode.Error,
  UNSET: StatusCode.Unset,
};

/** Status codes as a lookup table by numeric code (unknown codes: undefined). */
function codeTable(codes: readonly string[]): boolean[] {
  const t: boolean[] = [false, false, false];
  for (const c of codes) t[STATUS_CODES[c]] = true;
  return t;
}

/** Parses a W3C tracestate and returns the value of `key`, if present. */
export function traceStateValue(traceState: string, key: string): string | undefined {
  if (traceState === '') return undefined;
  for (const member of traceState.split(',')) {
    const eq = member.indexOf('=');
    if (eq < 0) continue;
    if (member.slice(0, eq).trim() === key) return member.slice(eq + 1).trim();
  }
  return undefined;
}

function traceDurationMs(trace: TraceView): number {
  const sum = trace.summary;
  if (sum !== undefined) {
    const d = sum.maxEndNs - sum.minStartNs;
    return sum.maxEndNs > sum.minStartNs ? Number(d / 1_000_000n) : 0;
  }
  let min = 0n;
  let max = 0n;
  anySpan(trace, (s) => {
    if (min === 0n || s.startTimeUnixNano < min) min = s.startTimeUnixNano;
    if (max === 0n || s.endTimeUnixNano > max) max = s.endTimeUnixNano;
    return false;
  });
  return max > min ? Number((max - min) / 1_000_000n) : 0;
}

/**
 * Builds the evaluator for one validated policy config. With a plan, its span tests are
 * registered there for incremental evaluation (module comment).
 */
export function createEvaluator(cfg: TailPolicyConfig, plan?: SummaryPlan): PolicyEvaluator {
  const name = cfg.name;
  const sub = (c: TailPolicyConfig) => createEvaluator(c, plan);
  switch (cfg.type) {
    case 'always_sample':
      return { name, evaluate: () => Verdict.Sampled };

    case 'trace_flags': {
      const any = anyTest(plan, (s) => (s.flags & 1) === 1);
      return { name, evaluate: (t) => (any(t) ? Verdict.Sampled : Verdict.NotSampled) };
    }

    case 'latency': {
      const lo = cfg.latency?.threshold_ms ?? 0;
      const hi = cfg.latency?.upper_threshold_ms ?? 0;
      if (plan) plan.duration = true;
      return {
        name,
        evaluate(t) {
          const d = traceDurationMs(t);
          const ok = hi === 0 ? d >= lo : lo < d && d <= hi;
          return ok ? Verdict.Sampled : Verdict.NotSampled;
        },
      };
    }

    case 'numeric_attribute': {
      const c = cfg.numeric_attribute!;
      const min = c.min_value ?? -Infinity;
      const max = c.max_value ?? Infinity;
      const key = c.key;
      return attributePolicy(
        name,
        (attrs) => {
          const v = getValue(attrs, key);
          if (v === undefined) return false;
          const n = v.intValue !== undefined ? Number(v.intValue) : v.doubleValue;
          return n !== undefined && n >= min && n <= max;
        },
        c.invert_match === true,
        plan,
      );
    }

    case 'probabilistic': {
      const c = cfg.probabilistic!;
      const salt = new TextEncoder().encode(c.hash_salt || DEFAULT_HASH_SALT);
      const ratio = c.sampling_percentage / 100;
      // ratio × MaxUint64, as the Collector's calculateThreshold (53 significant bits here).
      const threshold = ratio >= 1 ? MAX_U64 : BigInt(Math.floor(ratio * 2 ** 64));
      return {
        name,
        evaluate: (t) =>
          fnv1a64(salt, t.traceId) <= threshold ? Verdict.Sampled : Verdict.NotSampled,
      };
    }

    case 'status_code': {
      const has = codeTable(cfg.status_code!.status_codes);
      const any = anyTest(plan, (s) => has[s.status?.code ?? StatusCode.Unset] === true);
      return { name, evaluate: (t) => (any(t) ? Verdict.Sampled : Verdict.NotSampled) };
    }

    case 'string_attribute': {
      const c = cfg.string_attribute!;
      const key = c.key;
      let test: (s: string) => boolean;
      if (c.enabled_regex_matching) {
        const res = c.values.map((v) => {
          const r = compileRe2(v);
          if (!r.ok) throw new Error(r.message);
          return new MemoizedRe2(r.re, c.cache_max_size || 128);
        });
        test = (s) => {
          for (const re of res) if (re.test(s)) return true;
          return false;
        };
      } else {
        const set = new Set(c.values);
        test = (s) => set.has(s);
      }
      return attributePolicy(
        name,
        (attrs) => {
          const v = getValue(attrs, key);
          return v !== undefined && v.stringValue !== undefined && test(v.stringValue);
        },
        c.invert_match === true,
        plan,
      );
    }

    case 'boolean_attribute': {
      const c = cfg.boolean_attribute!;
      return attributePolicy(
        name,
        (attrs) => getValue(attrs, c.key)?.boolValue === c.value,
        c.invert_match === true,
        plan,
      );
    }

    case 'rate_limiting': {
      const limit = cfg.rate_limiting!.spans_per_second;
      let second = -Infinity;
      let spansInSecond = 0;
      return {
        name,
        evaluate(t, now) {
          const s = Math.floor(now / 1000);
          if (s !== second) {
            second = s;
            spansInSecond = 0;
          }
          const ifSampled = spansInSecond + t.spanCount;
          if (ifSampled < limit) {
            spansInSecond = ifSampled;
            return Verdict.Sampled;
          }
          return Verdict.NotSampled;
        },
      };
    }

    case 'span_count': {
      const min = cfg.span_count!.min_spans;
      const max = cfg.span_count!.max_spans ?? 0;
      return {
        name,
        evaluate: (t) =>
          t.spanCount >= min && (max === 0 || t.spanCount <= max)
            ? Verdict.Sampled
            : Verdict.NotSampled,
      };
    }

    case 'trace_state': {
      const { key, values } = cfg.trace_state!;
      const set = new Set(values);
      const any = anyTest(plan, (s) => {
        const v = traceStateValue(s.traceState, key);
        return v !== undefined && set.has(v);
      });
      return { name, evaluate: (t) => (any(t) ? Verdict.Sampled : Verdict.NotSampled) };
    }

    case 'span_match': {
      const c = cfg.span_match!;
      const codes = c.status_codes ? codeTable(c.status_codes) : undefined;
      const names = c.span_names ? new Set(c.span_names) : undefined;
      const conds = (c.attributes ?? []).map((a) => ({
        key: a.key,
        values: a.values ? new Set(a.values) : undefined,
      }));
      const matches = (s: Span): boolean => {
        if (codes !== undefined && codes[s.status?.code ?? StatusCode.Unset] !== true) return false;
        if (names !== undefined && !names.has(s.name)) return false;
        for (let i = 0; i < conds.length; i++) {
          const v = getValue(s.attributes, conds[i].key);
          if (v === undefined) return false;
          const values = conds[i].values;
          if (values !== undefined && !values.has(v.stringValue ?? asString(v))) return false;
        }
        return true;
      };
      if (plan) plan.readsContent = true;
      const any = anyTest(plan, matches);
      return { name, evaluate: (t) => (any(t) ? Verdict.Sampled : Verdict.NotSampled) };
    }

    case 'and': {
      const subs = cfg.and!.and_sub_policy.map(sub);
      return {
        name,
        evaluate(t, now) {
          for (const sub of subs) {
            const v = sub.evaluate(t, now);
            if (v === Verdict.NotSampled || v === Verdict.InvertNotSampled)
              return Verdict.NotSampled;
          }
          return Verdict.Sampled;
        },
      };
    }

    case 'drop': {
      const subs = cfg.drop!.drop_sub_policy.map(sub);
      return {
        name,
        evaluate(t, now) {
          for (const sub of subs) {
            const v = sub.evaluate(t, now);
            if (v === Verdict.NotSampled || v === Verdict.InvertNotSampled)
              return Verdict.NotSampled;
          }
          return Verdict.Dropped;
        },
      };
    }

    case 'composite': {
      const c = cfg.composite!;
      const maxTotal = c.max_total_spans_per_second;
      const byName = new Map(c.composite_sub_policy.map((p) => [p.name, p]));
      const alloc = new Map<string, number>();
      const equalShare = maxTotal / c.composite_sub_policy.length;
      for (const a of c.rate_allocation ?? []) {
        alloc.set(a.policy, a.percent > 0 ? (a.percent / 100) * maxTotal : equalShare);
      }
      const subs = c.policy_order.map((n) => ({
        evaluator: sub(byName.get(n)!),
        allocated: Math.trunc(alloc.get(n) ?? 0),
        sampled: 0,
      }));
      let second = -Infinity;
      return {
        name,
        evaluate(t, now) {
          const s = Math.floor(now / 1000);
          if (s !== second) {
            second = s;
            for (const sub of subs) sub.sampled = 0;
          }
          for (const sub of subs) {
            const v = sub.evaluator.evaluate(t, now);
            if (v === Verdict.Sampled || v === Verdict.InvertSampled) {
              const ifSampled = sub.sampled + t.spanCount;
              if (ifSampled <= sub.allocated && ifSampled <= maxTotal) {
                sub.sampled = ifSampled;
                return Verdict.Sampled;
              }
              return Verdict.NotSampled;
            }
          }
          return Verdict.NotSampled;
        },
      };
    }
  }
}

/** Why a trace was or was not sampled. */
export type DecisionReason =
  'sampled' | 'inverted_sampled' | 'dropped' | 'inverted_not_sampled' | 'no_policy_sampled';

/** A final tail decision: always explicit, with the policy that decided when there is one. */
export interface TailDecision {
  readonly sampled: boolean;
  readonly reason: DecisionReason;
  /** The deciding policy; absent only for `no_policy_sampled`. */
  readonly policy?: string;
}

export const NO_POLICY_SAMPLED: TailDecision = Object.freeze({
  sampled: false,
  reason: 'no_policy_sampled',
});

/** Evaluates every policy (or up to the first sample) and combines them (module comment). */
export function decide(
  evaluators: readonly PolicyEvaluator[],
  trace: TraceView,
  nowMs: number,
  sampleOnFirstMatch = false,
): TailDecision {
  let dropped: string | undefined;
  let invertNot: string | undefined;
  let sampled: string | undefined;
  let invertSampled: string | undefined;
  let anyNotSampled = false;
  for (const ev of evaluators) {
    const v = ev.evaluate(trace, nowMs);
    switch (v) {
      case Verdict.Dropped:
        dropped ??= ev.name;
        break;
      case Verdict.InvertNotSampled:
        invertNot ??= ev.name;
        break;
      case Verdict.Sampled:
        sampled ??= ev.name;
        break;
      case Verdict.InvertSampled:
        invertSampled ??= ev.name;
        break;
      default:
        anyNotSampled = true;
    }
    if (sampleOnFirstMatch && sampled !== undefined) break;
  }
  if (dropped !== undefined) return { sampled: false, reason: 'dropped', policy: dropped };
  if (invertNot !== undefined)
    return { sampled: false, reason: 'inverted_not_sampled', policy: invertNot };
  if (sampled !== undefined) return { sampled: true, reason: 'sampled', policy: sampled };
  if (invertSampled !== undefined && !anyNotSampled) {
    return { sampled: true, reason: 'inverted_sampled', policy: invertSampled };
  }
  return NO_POLICY_SAMPLED;
}
