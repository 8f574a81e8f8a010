/**
 * TailSampler: the tail_sampling processor as a pure data structure. The worker owns the
 * clock and the I/O; this class only buffers, decides and hands back. Driven by explicit time
 * (`now`, ms, non-decreasing: an earlier value is treated as the latest seen), no timers.
 *
 * Guarantees (each covered by a property test):
 * - Every span added comes out exactly once, in a DecidedTrace: from `add` (late spans of an
 *   already decided trace, or traces decided early to stay within budget), from `poll` (its
 *   decision_wait elapsed) or from `flushAll` (shutdown, partition rebalance). Nothing is
 *   ever dropped silently; "not sampled" is an outcome the caller counts and discards.
 * - Memory is bounded: at most `num_traces` traces, `max_buffered_spans` spans and
 *   `max_buffered_bytes` estimated bytes (a batch may overshoot the span/byte budget until
 *   the end of its `add`). Past a bound, the OLDEST traces are decided early on what has
 *   arrived so far, and counted (`stats.earlyDecisions`). The Collector instead discards the
 *   oldest trace's data; deciding keeps error traces under a status_code policy.
 * - With a shared TailBufferBudget (./tail-budget.ts) the sampler also counts against the
 *   process-wide and per-tenant byte bounds; the budget may decide its oldest traces early
 *   (cause `budget`) while another sampler adds, and hands them to the seat's `onEvicted`.
 * - Late spans follow the cached decision (LRU caches as the Collector's decision_cache);
 *   `decisionFor(traceId)` lets logs that carry a trace id follow their trace too.
 *
 * Spans are grouped per trace without copying them: a trace holds ResourceSpans/ScopeSpans
 * shells that point at the original Resource and InstrumentationScope, so each output is an
 * exportable TracesData fragment. One shell is made per (trace, incoming ScopeSpans), not per
 * span, and consecutive spans of the same trace skip the trace-id lookup.
 *
 * With `retainSpans: false` the sampler holds no spans at all, only each trace's summary
 * (below) and counts: the caller keeps the spans' source (the worker keeps the Kafka records'
 * bytes, off the V8 heap) and rebuilds the traces that were kept. Holding decoded spans for
 * decision_wait is what costs most in a tail-sampling worker: every object of every span
 * survives young-generation collections and is copied on the way to the old generation.
 *
 * Policies are evaluated incrementally (policies.ts, SummaryPlan): each span is tested as it
 * is added, while it is cache-hot, against the "some span satisfies P" tests that have not
 * yet held for its trace, and the trace's min start / max end are kept; deciding then reads
 * flags. Deciding a burst of due traces in poll() thus costs O(policies) per trace, not a walk
 * over spans buffered up to decision_wait ago.
 */
import type { KeyValue, ResourceSpans, ScopeSpans, Span, TracesData } from '@custodian/otlp';
import { parseDurationMs } from '../document/validate';
import {
  createEvaluator,
  decide,
  type PolicyEvaluator,
  SummaryPlan,
  type TailDecision,
  type TraceSummary,
  type TraceView,
} from './policies';
import type { BudgetMember, TailBudgetSeat } from './tail-budget';
import type { TailSamplingConfig } from './tail-config';
import { sameBytes, traceIdHex } from './trace-id';

export const TAIL_DEFAULTS = {
  decisionWaitMs: 30_000,
  numTraces: 50_000,
  decisionCacheSize: 100_000,
} as const;

/** Why a trace left the buffer when it did. */
export type DecisionCause =
  /** decision_wait elapsed since its first span. */
  | 'decision_wait'
  /** Spans that arrived after their trace was decided; the cached decision applies. */
  | 'late_span'
  /** Decided early: num_traces reached. */
  | 'num_traces'
  /** Decided early: max_buffered_spans or max_buffered_bytes reached. */
  | 'budget'
  /** Decided by flushAll (shutdown, rebalance) on the data received so far. */
  | 'flush';

/** One trace (or, for late spans, part of one) leaving the sampler. */
export interface DecidedTrace {
  /** Lowercase hex trace id. */
  traceId: string;
  decision: TailDecision;
  cause: DecisionCause;
  /**
   * The trace's spans, grouped as exportable ResourceSpans; empty when the sampler does not
   * retain spans and this trace was buffered (`spansRetained` false).
   */
  spans: ResourceSpans[];
  /**
   * False when `spans` is empty because the sampler was made with `retainSpans: false`: the
   * caller rebuilds the trace (for cause `late_span`: the late spans, of the batch just added)
   * from where its spans came from. The caller may have added spans it had not finished
   * preparing (needsPreparedSpans false), so nothing it added ever comes back out.
   */
  spansRetained: boolean;
  spanCount: number;
}

export interface TailSamplerStats {
  tracesBuffered: number;
  spansBuffered: number;
  bytesBuffered: number;
  tracesSampled: number;
  tracesNotSampled: number;
  spansSampled: number;
  spansNotSampled: number;
  /** Traces decided before decision_wait, by cause. */
  earlyDecisions: { num_traces: number; budget: number; flush: number };
  /** Spans that arrived after their trace's decision and followed the cache. */
  lateSpans: number;
}

/** Rough in-memory size of a span, for the byte budget; cheap, not exact. */
export function estimateSpanBytes(span: Span): number {
  let n = 160 + span.name.length * 2 + span.traceState.length * 2;
  const attrs = span.attributes;
  for (let i = 0; i < attrs.length; i++) {
    const v = attrs[i].value;
    n +=
      48 + attrs[i].key.length * 2 + (v.stringValue !== undefined ? v.stringValue.length * 2 : 16);
  }
  n += span.events.length * 96 + span.links.length * 96;
  return n;
}

const NO_ATTRS: KeyValue[] = [];

/** Collects one trace's spans into ResourceSpans/ScopeSpans shells, observing each span. */
class TraceBuilder implements TraceView, TraceSummary {
  readonly batches: ResourceSpans[] = [];
  spanCount = 0;
  bytes = 0;
  /** Set for late spans: the cached decision they follow. */
  decision: TailDecision | undefined;
  /** `this` when the sampler's plan observes spans; undefined for late-span groups. */
  readonly summary: TraceSummary | undefined;
  readonly hits: Uint8Array;
  /** Plan tests that have not held yet. */
  unhit: number;
  minStartNs = 0n;
  maxEndNs = 0n;
  private seenRsSeq = -1;
  private lastSrcRs: ResourceSpans | undefined;
  private lastSrcSs: ScopeSpans | undefined;
  private lastDstRs: ResourceSpans | undefined;
  private lastDstSs: ScopeSpans | undefined;

  constructor(
    readonly key: string,
    readonly traceId: Uint8Array,
    readonly firstSeen: number,
    private readonly plan: SummaryPlan | undefined,
  ) {
    const n = plan ? plan.spanTests.length : 0;
    this.hits = new Uint8Array(n);
    this.unhit = n;
    this.summary = plan ? this : undefined;
  }

  /**
   * Runs the plan's resource tests once per incoming ResourceSpans (spans not retained). The
   * ResourceSpans is told apart by the sampler's counter `rsSeq`, never kept: a reference
   * would keep the whole decoded batch alive as long as the trace waits.
   */
  seeResource(rs: ResourceSpans, rsSeq: number): void {
    if (this.seenRsSeq === rsSeq) return;
    this.seenRsSeq = rsSeq;
    if (this.unhit > 0) this.observeResource(rs.resource?.attributes ?? NO_ATTRS);
  }

  /** Returns the shell that receives spans from `ss` (inside `rs`). */
  target(rs: ResourceSpans, ss: ScopeSpans): ScopeSpans {
    if (this.lastSrcSs === ss && this.lastDstSs) return this.lastDstSs;
    const dstSs: ScopeSpans = { scope: ss.scope, spans: [], schemaUrl: ss.schemaUrl };
    if (this.lastSrcRs === rs && this.lastDstRs) this.lastDstRs.scopeSpans.push(dstSs);
    else {
      const dstRs: ResourceSpans = {
        resource: rs.resource,
        scopeSpans: [dstSs],
        schemaUrl: rs.schemaUrl,
      };
      this.batches.push(dstRs);
      this.lastSrcRs = rs;
      this.lastDstRs = dstRs;
      if (this.unhit > 0) this.observeResource(rs.resource?.attributes ?? NO_ATTRS);
    }
    this.lastSrcSs = ss;
    this.lastDstSs = dstSs;
    return dstSs;
  }

  private observeResource(attrs: KeyValue[]): void {
    const tests = this.plan!.resourceTests;
    const hits = this.hits;
    for (let i = 0; i < tests.length; i++) {
      const t = tests[i];
      if (t !== undefined && hits[i] === 0 && t(attrs)) {
        hits[i] = 1;
        this.unhit--;
      }
    }
  }

  /** Runs the plan on one span of this (undecided) trace. */
  observe(span: Span): void {
    const plan = this.plan!;
    if (this.unhit > 0) {
      const tests = plan.spanTests;
      const hits = this.hits;
      for (let i = 0; i < tests.length; i++) {
        if (hits[i] === 0 && tests[i](span)) {
          hits[i] = 1;
          this.unhit--;
        }
      }
    }
    if (plan.duration) {
      const start = span.startTimeUnixNano;
      const end = span.endTimeUnixNano;
      if (this.minStartNs === 0n || start < this.minStartNs) this.minStartNs = start;
      if (this.maxEndNs === 0n || end > this.maxEndNs) this.maxEndNs = end;
    }
  }
}

/** A size-bounded LRU of trace decisions (Map keeps insertion order; re-set on hit). */
class DecisionLru {
  private readonly map = new Map<string, TailDecision>();
  constructor(private readonly capacity: number) {}

  get(key: string): TailDecision | undefined {
    const d = this.map.get(key);
    if (d !== undefined) {
      this.map.delete(key);
      this.map.set(key, d);
    }
    return d;
  }

  set(key: string, d: TailDecision): void {
    if (this.capacity <= 0) return;
    this.map.delete(key);
    this.map.set(key, d);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
  }

  get size(): number {
    return this.map.size;
  }
}

export interface TailSamplerOptions {
  /** Estimate of a span's size for max_buffered_bytes; default estimateSpanBytes. */
  spanBytes?: (span: Span) => number;
  /**
   * A seat at the process-wide byte budget shared with other samplers (other partitions and
   * tenants). The policy's max_buffered_bytes then also caps the tenant across its samplers.
   */
  budget?: TailBudgetSeat;
  /**
   * Default true. False: the sampler keeps no spans, only what deciding needs; every
   * DecidedTrace comes out with `spans` empty and `spansRetained` false, late spans too, and
   * the caller rebuilds them (it must then give `spanBytes` an estimate of what IT holds per
   * span).
   */
  retainSpans?: boolean;
}

export class TailSampler {
  readonly decisionWaitMs: number;
  readonly numTraces: number;
  readonly maxSpans: number;
  readonly maxBytes: number;
  private readonly evaluators: PolicyEvaluator[];
  /** Span tests run as spans arrive; undefined when no policy needs any. */
  private readonly plan: SummaryPlan | undefined;
  private readonly sampleOnFirstMatch: boolean;
  private readonly pending = new Map<string, TraceBuilder>();
  private readonly sampledCache: DecisionLru;
  private readonly notSampledCache: DecisionLru;
  private readonly spanBytes: (span: Span) => number;
  private readonly member: BudgetMember | undefined;
  private readonly retainSpans: boolean;
  private spans = 0;
  private bytes = 0;
  /** Counts incoming ResourceSpans (TraceBuilder.seeResource). */
  private rsSeq = 0;
  private lastNow = -Infinity;
  private readonly counters = {
    tracesSampled: 0,
    tracesNotSampled: 0,
    spansSampled: 0,
    spansNotSampled: 0,
    lateSpans: 0,
    early: { num_traces: 0, budget: 0, flush: 0 },
  };

  constructor(config: TailSamplingConfig, opts: TailSamplerOptions = {}) {
    this.decisionWaitMs =
      config.decision_wait === undefined
        ? TAIL_DEFAULTS.decisionWaitMs
        : (parseDurationMs(config.decision_wait) ?? TAIL_DEFAULTS.decisionWaitMs);
    this.numTraces = config.num_traces ?? TAIL_DEFAULTS.numTraces;
    this.maxSpans = config.max_buffered_spans ?? Infinity;
    this.maxBytes = config.max_buffered_bytes ?? Infinity;
    const plan = new SummaryPlan();
    this.evaluators = config.policies.map((p) => createEvaluator(p, plan));
    this.plan = plan.isEmpty ? undefined : plan;
    this.sampleOnFirstMatch = config.sample_on_first_match === true;
    this.sampledCache = new DecisionLru(
      config.decision_cache?.sampled_cache_size ?? TAIL_DEFAULTS.decisionCacheSize,
    );
    this.notSampledCache = new DecisionLru(
      config.decision_cache?.non_sampled_cache_size ?? TAIL_DEFAULTS.decisionCacheSize,
    );
    this.spanBytes = opts.spanBytes ?? estimateSpanBytes;
    this.retainSpans = opts.retainSpans !== false;
    const seat = opts.budget;
    this.member = seat?.budget.join(seat.tenantId, this, seat.onEvicted, config.max_buffered_bytes);
  }

  private clock(now: number | undefined): number {
    if (now !== undefined && now > this.lastNow) this.lastNow = now;
    return this.lastNow === -Infinity ? 0 : this.lastNow;
  }

  /**
   * Buffers a batch's spans by trace. Returns what the batch made leave the sampler at once:
   * late spans of decided traces, and traces decided early to stay within the budget.
   */
  add(data: TracesData, now: number): DecidedTrace[] {
    const t = this.clock(now);
    const out: DecidedTrace[] = [];
    let late: Map<string, TraceBuilder> | undefined;
    const measure = this.maxBytes !== Infinity || this.member !== undefined;
    const retain = this.retainSpans;
    let added = 0;
    for (const rs of data.resourceSpans) {
      const rsSeq = this.rsSeq++;
      for (const ss of rs.scopeSpans) {
        const spans = ss.spans;
        let curId: Uint8Array | undefined;
        let cur: TraceBuilder | undefined;
        let curDst: ScopeSpans | undefined;
        for (let i = 0; i < spans.length; i++) {
          const span = spans[i];
          if (cur === undefined || curId === undefined || !sameBytes(curId, span.traceId)) {
            const key = traceIdHex(span.traceId);
            cur = this.pending.get(key);
            if (cur === undefined) {
              const cached = this.sampledCache.get(key) ?? this.notSampledCache.get(key);
              if (cached !== undefined) {
                late ??= new Map();
                cur = late.get(key);
                if (cur === undefined) {
                  cur = new TraceBuilder(key, span.traceId, t, undefined);
                  cur.decision = cached;
                  late.set(key, cur);
                }
              } else {
                if (this.pending.size >= this.numTraces) this.decideOldest('num_traces', t, out);
                cur = new TraceBuilder(key, span.traceId, t, this.plan);
                this.pending.set(key, cur);
              }
            }
            curId = span.traceId;
            if (retain) curDst = cur.target(rs, ss);
            else {
              curDst = undefined;
              cur.seeResource(rs, rsSeq);
            }
          }
          if (curDst !== undefined) curDst.spans.push(span);
          cur.spanCount++;
          if (cur.decision === undefined) {
            this.spans++;
            if (cur.summary !== undefined) cur.observe(span);
            if (measure) {
              const b = this.spanBytes(span);
              cur.bytes += b;
              this.bytes += b;
              added += b;
            }
          }
        }
      }
    }
    if (late) {
      for (const b of late.values()) {
        const decision = b.decision!;
        this.counters.lateSpans += b.spanCount;
        this.count(decision, b.spanCount);
        out.push({
          traceId: b.key,
          decision,
          cause: 'late_span',
          spans: b.batches,
          spansRetained: this.retainSpans,
          spanCount: b.spanCount,
        });
      }
    }
    this.member?.charge(added);
    while ((this.spans > this.maxSpans || this.bytes > this.maxBytes) && this.pending.size > 0) {
      this.decideOldest('budget', t, out);
    }
    this.member?.enforce(out);
    return out;
  }

  /** Decides and returns every trace whose decision_wait has elapsed at `now`. */
  poll(now: number): DecidedTrace[] {
    const t = this.clock(now);
    const out: DecidedTrace[] = [];
    for (const b of this.pending.values()) {
      if (b.firstSeen + this.decisionWaitMs > t) break;
      this.finish(b, 'decision_wait', t, out);
    }
    return out;
  }

  /** Decides every buffered trace now, on what has arrived (shutdown, rebalance). */
  flushAll(now?: number): DecidedTrace[] {
    const t = this.clock(now);
    const out: DecidedTrace[] = [];
    for (const b of this.pending.values()) this.finish(b, 'flush', t, out);
    return out;
  }

  /**
   * True when a policy reads span or resource attributes or span names, which attribute
   * actions and redaction change: spans must then be added prepared. False: every decision
   * depends only on what preparing never changes (ids, times, status codes, flags, trace
   * state, counts), so spans may be added after head sampling alone, and only the kept ones
   * need preparing (the worker does so when it rebuilds them).
   */
  get needsPreparedSpans(): boolean {
    return this.plan !== undefined && this.plan.readsContent;
  }

  /** When the next buffered trace becomes due (ms), or undefined when none is buffered. */
  nextDueAt(): number | undefined {
    const first = this.pending.values().next();
    return first.done ? undefined : first.value.firstSeen + this.decisionWaitMs;
  }

  /**
   * The decision for a trace id (16 bytes or hex): the cached decision, 'pending' while its
   * spans are buffered, or undefined when the sampler knows nothing of it.
   */
  decisionFor(traceId: Uint8Array | string): TailDecision | 'pending' | undefined {
    const key = typeof traceId === 'string' ? traceId.toLowerCase() : traceIdHex(traceId);
    if (this.pending.has(key)) return 'pending';
    return this.sampledCache.get(key) ?? this.notSampledCache.get(key);
  }

  get stats(): TailSamplerStats {
    const c = this.counters;
    return {
      tracesBuffered: this.pending.size,
      spansBuffered: this.spans,
      bytesBuffered: this.bytes,
      tracesSampled: c.tracesSampled,
      tracesNotSampled: c.tracesNotSampled,
      spansSampled: c.spansSampled,
      spansNotSampled: c.spansNotSampled,
      earlyDecisions: { ...c.early },
      lateSpans: c.lateSpans,
    };
  }

  /** firstSeen of the oldest buffered trace (for the shared budget), or undefined. */
  oldestFirstSeen(): number | undefined {
    const first = this.pending.values().next();
    return first.done ? undefined : first.value.firstSeen;
  }

  /** Decides the oldest buffered trace now with cause `budget` (the shared budget's call). */
  decideOldestForBudget(out: DecidedTrace[]): boolean {
    const first = this.pending.values().next();
    if (first.done) return false;
    this.finish(first.value, 'budget', this.clock(undefined), out);
    return true;
  }

  /**
   * Gives up this sampler's seat at the shared budget (policy changed, partition revoked), so
   * what it still holds no longer counts. Call after flushAll, or when dropping it uncommitted.
   */
  leaveBudget(): void {
    this.member?.leave();
  }

  private decideOldest(cause: 'num_traces' | 'budget', now: number, out: DecidedTrace[]): void {
    const first = this.pending.values().next();
    if (!first.done) this.finish(first.value, cause, now, out);
  }

  private finish(b: TraceBuilder, cause: DecisionCause, now: number, out: DecidedTrace[]): void {
    this.pending.delete(b.key);
    this.spans -= b.spanCount;
    this.bytes -= b.bytes;
    this.member?.charge(-b.bytes);
    const decision = decide(this.evaluators, b, now, this.sampleOnFirstMatch);
    (decision.sampled ? this.sampledCache : this.notSampledCache).set(b.key, decision);
    if (cause === 'num_traces' || cause === 'budget' || cause === 'flush')
      this.counters.early[cause]++;
    this.count(decision, b.spanCount);
    if (decision.sampled) this.counters.tracesSampled++;
    else this.counters.tracesNotSampled++;
    out.push({
      traceId: b.key,
      decision,
      cause,
      spans: b.batches,
      spansRetained: this.retainSpans,
      spanCount: b.spanCount,
    });
  }

  private count(decision: TailDecision, spans: number): void {
    if (decision.sampled) this.counters.spansSampled += spans;
    else this.counters.spansNotSampled += spans;
  }
}
