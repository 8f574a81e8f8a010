/**
 * Span metrics (issue #5 item 7): calls, errors and a duration histogram per tenant, minute,
 * service, span name, tool (`tool.name` | `gen_ai.tool.name`) and model
 * (`gen_ai.request.model` | `llm.model`), from EVERY span before sampling — so the rates stay
 * true when tail sampling keeps 10% of healthy runs. Pure and synchronous: the worker feeds it
 * decoded batches; the flusher (span-metrics-flusher.ts) drains closed minutes to PostgreSQL.
 *
 * - Minute: the minute the worker saw the span (not its start time: a span with a skewed clock
 *   must not open series in the past). A redelivered record (at-least-once) is counted again.
 * - Cardinality: at most `maxSeriesPerTenant` series per tenant and minute; spans beyond fall
 *   into one series per service named `__overflow__` (tool and model empty) and are counted in
 *   `overflowed`, so a tenant putting ids into span names cannot exhaust memory.
 * - Values are truncated to 256 characters. They are read before redaction (that is what
 *   "before sampling" requires: head sampling runs inside the policy's prepare step); only
 *   these five low-risk dimensions are read, never other attribute values.
 * - Exemplars: up to MAX_EXEMPLARS trace ids per series (chosen among twice as many
 *   candidates), preferring spans of traces later kept
 *   by sampling (`kept()`, called when a trace is delivered), then errors, then the slowest.
 *   `drain` also returns each exemplar's span id, end time, duration and kept flag, for the
 *   OTLP export (span-metrics-export.ts), whose exemplars point at kept traces only.
 */
import type { TracesData } from '@custodian/otlp';
import { StatusCode } from '@custodian/otlp';
import { sameBytes, traceIdHex } from '@custodian/policy';
import { MAX_EXEMPLARS, SPAN_DURATION_BOUNDS_MS, type SpanMetricRollup } from '@custodian/store';

const RESOURCE_KEYS = ['service.name'];
const TOOL_KEYS = ['tool.name', 'gen_ai.tool.name'];
const MODEL_KEYS = ['gen_ai.request.model', 'llm.model'];

/**
 * Every attribute the aggregator reads (besides span names, ids, times and status): a first
 * pass that decodes only these (PartitionProcessor's `firstPassKeys`) loses it nothing.
 */
export const SPAN_METRICS_KEYS = {
  resource: RESOURCE_KEYS,
  span: [...TOOL_KEYS, ...MODEL_KEYS],
} as const;

export const OVERFLOW_SPAN_NAME = '__overflow__';
const MAX_VALUE_CHARS = 256;
const MINUTE_MS = 60_000;
const BOUNDS_NS = SPAN_DURATION_BOUNDS_MS.map((ms) => BigInt(ms) * 1_000_000n);
/** The same bounds as numbers (exact: far below 2^53 ns). */
const BOUNDS_NUM = SPAN_DURATION_BOUNDS_MS.map((ms) => ms * 1_000_000);
/**
 * A series sums durations as a number while that stays exact (below 2^52 ns, ~52 days) and
 * moves the sum into its bigint past that: a bigint addition per span allocated a bigint per
 * span.
 */
const EXACT_SUM = 2 ** 52;
/**
 * Candidates held per series: twice what is written, because whether a trace is kept is known
 * only after decision_wait, when the choice among errors and slow spans has been made.
 */
const CANDIDATES = MAX_EXEMPLARS * 2;

interface Candidate {
  traceId: string;
  /** Hex span id of the span that offered it (the slowest, or the error, of that trace). */
  spanId: string;
  endTimeUnixNano: bigint;
  error: boolean;
  durationNs: bigint;
  kept: boolean;
}

/** One exemplar of a drained series. */
export interface SpanMetricExemplar {
  traceId: string;
  spanId: string;
  endTimeUnixNano: bigint;
  durationNs: bigint;
  error: boolean;
  /** The trace was delivered by sampling (one can open it in a sink). */
  kept: boolean;
}

/** A drained series: the stored rollup plus its exemplars in full. */
export interface SpanMetricSeries extends SpanMetricRollup {
  /** Best first, at most MAX_EXEMPLARS (the same traces as exemplarTraceIds). */
  exemplars: SpanMetricExemplar[];
}

interface Series {
  tenantId: string;
  minute: number;
  /** When a span was last counted into it. */
  lastSeen: number;
  service: string;
  spanName: string;
  toolName: string;
  model: string;
  calls: number;
  errors: number;
  durationSumNs: bigint;
  /** The part of the sum not yet moved into durationSumNs (< EXACT_SUM + one duration). */
  durationSumSmall: number;
  buckets: number[];
  exemplars: Candidate[];
}

export interface SpanMetricsAggregatorOptions {
  /** Series per tenant and minute before spans go to `__overflow__`; default 2000. */
  maxSeriesPerTenant?: number;
}

function text(v: string | undefined): string {
  if (!v) return '';
  return v.length > MAX_VALUE_CHARS ? v.slice(0, MAX_VALUE_CHARS) : v;
}

function stringAttr(
  attrs: readonly { key: string; value: { stringValue?: string } }[],
  keys: readonly string[],
): string {
  for (const k of keys) {
    for (const kv of attrs) if (kv.key === k && kv.value.stringValue) return kv.value.stringValue;
  }
  return '';
}

/**
 * The span's TOOL_KEYS and MODEL_KEYS values in one pass over its attributes, into `out` in
 * that order (the first non-empty string of each key; '' for none): stringAttr per key list
 * read the attributes four times per span.
 */
function spanDims(
  attrs: readonly { key: string; value: { stringValue?: string } }[],
  out: string[],
): void {
  out[0] = out[1] = out[2] = out[3] = '';
  for (const kv of attrs) {
    const k = kv.key;
    const i =
      k === TOOL_KEYS[0]
        ? 0
        : k === TOOL_KEYS[1]
          ? 1
          : k === MODEL_KEYS[0]
            ? 2
            : k === MODEL_KEYS[1]
              ? 3
              : -1;
    if (i >= 0 && out[i] === '' && kv.value.stringValue) out[i] = kv.value.stringValue;
  }
}

/** Index of the histogram bucket a duration falls in (bounds inclusive). */
export function bucketIndex(durationNs: bigint): number {
  for (let i = 0; i < BOUNDS_NS.length; i++) if (durationNs <= BOUNDS_NS[i]) return i;
  return BOUNDS_NS.length;
}

/** bucketIndex of a duration given as a number of ns (exact below 2^53; larger: the last). */
function bucketIndexNum(durationNs: number): number {
  for (let i = 0; i < BOUNDS_NUM.length; i++) if (durationNs <= BOUNDS_NUM[i]) return i;
  return BOUNDS_NUM.length;
}

/** Series already found in one observe() call for one resource, by span name. */
interface Found {
  tool: string;
  model: string;
  series: Series;
  overflow: boolean;
}

function better(a: Candidate, b: Candidate): number {
  if (a.kept !== b.kept) return a.kept ? -1 : 1;
  if (a.error !== b.error) return a.error ? -1 : 1;
  return a.durationNs > b.durationNs ? -1 : a.durationNs < b.durationNs ? 1 : 0;
}

export class SpanMetricsAggregator {
  private readonly series = new Map<string, Series>();
  /** tenant|minute → series count, for the cardinality cap. */
  private readonly perTenantMinute = new Map<string, number>();
  /** tenant|trace → exemplar candidates naming it, so kept() can flag them. */
  private readonly byTrace = new Map<string, Candidate[]>();
  private readonly maxSeries: number;
  /** Spans counted into an `__overflow__` series. */
  overflowed = 0;

  constructor(opts: SpanMetricsAggregatorOptions = {}) {
    this.maxSeries = opts.maxSeriesPerTenant ?? 2000;
  }

  /** Series currently held. */
  get size(): number {
    return this.series.size;
  }

  /** Counts every span of `data` for `tenantId` in the minute of `now`. */
  observe(tenantId: string, data: TracesData, now: number): void {
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    // Every span is counted, so the per-span work avoids allocating: spans whose dimensions
    // were seen earlier in this call (per resource: the span name is interned by the decoder,
    // so its lookup is cheap) reuse their series (no key string), and consecutive spans of
    // one trace reuse its hex id.
    let lastTrace: Uint8Array | undefined;
    let lastTraceHex = '';
    const found = new Map<string, Found[]>();
    const dims = ['', '', '', ''];
    for (const rs of data.resourceSpans) {
      const service = text(stringAttr(rs.resource?.attributes ?? [], RESOURCE_KEYS));
      found.clear();
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          const start = span.startTimeUnixNano;
          const duration = span.endTimeUnixNano > start ? span.endTimeUnixNano - start : 0n;
          const durationNum = Number(duration);
          const error = span.status?.code === StatusCode.Error;
          const name = text(span.name);
          spanDims(span.attributes, dims);
          const tool = text(dims[0] || dims[1]);
          const model = text(dims[2] || dims[3]);
          let list = found.get(name);
          let f: Found | undefined;
          if (list === undefined) found.set(name, (list = []));
          else
            for (const e of list)
              if (e.tool === tool && e.model === model) {
                f = e;
                break;
              }
          if (f === undefined) {
            const before = this.overflowed;
            const series = this.seriesFor(tenantId, minute, service, name, tool, model);
            // seriesFor counted this span if it overflowed; later ones are counted below
            f = { tool, model, series, overflow: this.overflowed !== before };
            list.push(f);
          } else if (f.overflow) this.overflowed++;
          const s = f.series;
          s.lastSeen = now;
          s.calls++;
          if (error) s.errors++;
          if (durationNum < EXACT_SUM) {
            s.durationSumSmall += durationNum;
            if (s.durationSumSmall >= EXACT_SUM) {
              s.durationSumNs += BigInt(s.durationSumSmall);
              s.durationSumSmall = 0;
            }
          } else s.durationSumNs += duration;
          s.buckets[bucketIndexNum(durationNum)]++;
          if (span.traceId.length === 16) {
            if (lastTrace === undefined || !sameBytes(lastTrace, span.traceId)) {
              lastTrace = span.traceId;
              lastTraceHex = traceIdHex(span.traceId);
            }
            this.offerExemplar(
              tenantId,
              s,
              lastTraceHex,
              span.spanId,
              span.endTimeUnixNano,
              error,
              duration,
            );
          }
        }
      }
    }
  }

  /** The trace was kept by sampling: its spans make the best exemplars. */
  kept(tenantId: string, traceHex: string): void {
    const list = this.byTrace.get(`${tenantId}|${traceHex}`);
    if (list) for (const c of list) c.kept = true;
  }

  /**
   * Removes and returns the series of minutes that ended at or before `closedBefore`, and those
   * no span reached since `idleSince` (every series when `closedBefore` is undefined). Writing
   * a minute in parts is fine: the rollup upsert adds.
   */
  drain(closedBefore?: number, idleSince?: number): SpanMetricSeries[] {
    const out: SpanMetricSeries[] = [];
    for (const [key, s] of this.series) {
      if (
        closedBefore !== undefined &&
        s.minute + MINUTE_MS > closedBefore &&
        (idleSince === undefined || s.lastSeen > idleSince)
      )
        continue;
      this.series.delete(key);
      const tm = `${s.tenantId}|${s.minute}`;
      const n = (this.perTenantMinute.get(tm) ?? 1) - 1;
      if (n <= 0) this.perTenantMinute.delete(tm);
      else this.perTenantMinute.set(tm, n);
      for (const c of s.exemplars) this.forget(s.tenantId, c);
      const best = [...s.exemplars].sort(better).slice(0, MAX_EXEMPLARS);
      out.push({
        tenantId: s.tenantId,
        minute: new Date(s.minute),
        service: s.service,
        spanName: s.spanName,
        toolName: s.toolName,
        model: s.model,
        calls: s.calls,
        errors: s.errors,
        durationSumNs: s.durationSumNs + BigInt(s.durationSumSmall),
        bucketCounts: s.buckets,
        exemplarTraceIds: best.map((c) => c.traceId),
        exemplars: best.map((c) => ({
          traceId: c.traceId,
          spanId: c.spanId,
          endTimeUnixNano: c.endTimeUnixNano,
          durationNs: c.durationNs,
          error: c.error,
          kept: c.kept,
        })),
      });
    }
    return out;
  }

  private seriesFor(
    tenantId: string,
    minute: number,
    service: string,
    spanName: string,
    toolName: string,
    model: string,
  ): Series {
    const key = `${tenantId}|${minute}|${service}|${spanName}|${toolName}|${model}`;
    let s = this.series.get(key);
    if (s) return s;
    const tm = `${tenantId}|${minute}`;
    const count = this.perTenantMinute.get(tm) ?? 0;
    if (count >= this.maxSeries) {
      this.overflowed++;
      const okey = `${tenantId}|${minute}|${service}|${OVERFLOW_SPAN_NAME}||`;
      s = this.series.get(okey);
      if (s) return s;
      // The overflow series itself may exceed the cap by one per service: bounded by services.
      return this.create(okey, tenantId, minute, service, OVERFLOW_SPAN_NAME, '', '', tm, count);
    }
    return this.create(key, tenantId, minute, service, spanName, toolName, model, tm, count);
  }

  private create(
    key: string,
    tenantId: string,
    minute: number,
    service: string,
    spanName: string,
    toolName: string,
    model: string,
    tm: string,
    count: number,
  ): Series {
    const s: Series = {
      tenantId,
      minute,
      lastSeen: minute,
      service,
      spanName,
      toolName,
      model,
      calls: 0,
      errors: 0,
      durationSumNs: 0n,
      durationSumSmall: 0,
      buckets: new Array<number>(BOUNDS_NS.length + 1).fill(0),
      exemplars: [],
    };
    this.series.set(key, s);
    this.perTenantMinute.set(tm, count + 1);
    return s;
  }

  private offerExemplar(
    tenantId: string,
    s: Series,
    traceId: string,
    spanIdBytes: Uint8Array,
    endTimeUnixNano: bigint,
    error: boolean,
    durationNs: bigint,
  ): void {
    const existing = s.exemplars.find((c) => c.traceId === traceId);
    if (existing) {
      // The exemplar names the trace's most telling span: its first error, else its slowest.
      if (
        (error && !existing.error) ||
        (error === existing.error && durationNs > existing.durationNs)
      ) {
        existing.spanId = traceIdHex(spanIdBytes);
        existing.endTimeUnixNano = endTimeUnixNano;
      }
      existing.error ||= error;
      if (durationNs > existing.durationNs) existing.durationNs = durationNs;
      return;
    }
    const c: Candidate = { traceId, spanId: '', endTimeUnixNano, error, durationNs, kept: false };
    if (s.exemplars.length < CANDIDATES) {
      s.exemplars.push(c);
    } else {
      let worst = 0;
      for (let i = 1; i < s.exemplars.length; i++)
        if (better(s.exemplars[i], s.exemplars[worst]) > 0) worst = i;
      if (better(c, s.exemplars[worst]) >= 0) return;
      this.forget(tenantId, s.exemplars[worst]);
      s.exemplars[worst] = c;
    }
    c.spanId = traceIdHex(spanIdBytes); // only for a span that became a candidate
    const k = `${tenantId}|${traceId}`;
    const list = this.byTrace.get(k);
    if (list) list.push(c);
    else this.byTrace.set(k, [c]);
  }

  private forget(tenantId: string, c: Candidate): void {
    const k = `${tenantId}|${c.traceId}`;
    const list = this.byTrace.get(k);
    if (!list) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byTrace.delete(k);
  }
}
