/**
 * The arithmetic behind `usage` and `spanMetrics` (issue #6 item 3, "usage per tenant per
 * minute … and span metrics (RED by service, tool, model)"), pure so it is unit tested:
 *
 * - usage minutes (libs/store RollupRepository.usage, one row per minute and signal) are summed
 *   across signals and rolled up into buckets of `step` minutes aligned to the epoch;
 * - span metric rollups (one row per minute and series) are merged by the requested dimensions,
 *   and latency quantiles are estimated from the merged duration histogram the way Prometheus'
 *   histogram_quantile does: linear interpolation inside the bucket holding the rank, the first
 *   bucket starting at 0, and a rank in the open-ended last bucket answered with the highest
 *   finite bound (the histogram cannot say more).
 */
import {
  MAX_EXEMPLARS,
  SPAN_DURATION_BOUNDS_MS,
  type SpanMetricRollup,
  type UsageMinute,
} from '@custodian/store';

/** Usage over one bucket of `step` minutes: the store's minute rows, added up. */
export interface UsageBucket extends Omit<UsageMinute, 'minute' | 'signal'> {
  start: Date;
}

const MINUTE_MS = 60_000;

function addInto(target: Record<string, number>, src: Record<string, number>): void {
  for (const [k, v] of Object.entries(src)) target[k] = (target[k] ?? 0) + v;
}

export function emptyBucket(start: Date): UsageBucket {
  return {
    start,
    received: 0,
    accepted: 0,
    rejected: {},
    sampledOut: {},
    dropped: {},
    exported: {},
  };
}

/** Adds `m` into `b`. */
export function addUsage(b: UsageBucket, m: Omit<UsageBucket, 'start'>): void {
  b.received += m.received;
  b.accepted += m.accepted;
  addInto(b.rejected, m.rejected);
  addInto(b.sampledOut, m.sampledOut);
  addInto(b.dropped, m.dropped);
  addInto(b.exported, m.exported);
}

/**
 * Buckets of `stepMinutes` (aligned to the epoch, so minute buckets are the stored minutes),
 * oldest first, only those with data. `signal` keeps one signal's rows; exports are recorded
 * for all signals together (signal "all"), so they are kept under any signal filter.
 */
export function rollUpUsage(
  minutes: readonly UsageMinute[],
  stepMinutes: number,
  signal?: string,
): UsageBucket[] {
  const stepMs = stepMinutes * MINUTE_MS;
  const buckets = new Map<number, UsageBucket>();
  for (const m of minutes) {
    if (signal !== undefined && m.signal !== signal && m.signal !== 'all') continue;
    const at = Math.floor(m.minute.getTime() / stepMs) * stepMs;
    let b = buckets.get(at);
    if (!b) {
      b = emptyBucket(new Date(at));
      buckets.set(at, b);
    }
    addUsage(b, m);
  }
  return [...buckets.values()].sort((a, b) => a.start.getTime() - b.start.getTime());
}

export const SPAN_METRIC_DIMENSIONS = ['service', 'spanName', 'toolName', 'model'] as const;
export type SpanMetricDimension = (typeof SPAN_METRIC_DIMENSIONS)[number];

export interface SpanMetricSeries {
  service: string | null;
  spanName: string | null;
  toolName: string | null;
  model: string | null;
  calls: number;
  errors: number;
  /** errors / calls (0 without calls). */
  errorRate: number;
  durationAvgMs: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Merged histogram: counts per SPAN_DURATION_BOUNDS_MS bucket, then +Inf. */
  bucketCounts: number[];
  exemplarTraceIds: string[];
}

/**
 * The `q` quantile (0..1) of a histogram with inclusive upper `bounds` and counts
 * (bounds.length + 1 entries, the last open-ended). Null when empty.
 */
export function histogramQuantile(
  q: number,
  counts: readonly number[],
  bounds: readonly number[] = SPAN_DURATION_BOUNDS_MS,
): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c > 0 && seen + c >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1];
      const lower = i === 0 ? 0 : bounds[i - 1];
      const upper = bounds[i];
      return lower + (upper - lower) * ((rank - seen) / c);
    }
    seen += c;
  }
  return bounds[bounds.length - 1];
}

/**
 * Merges rollup rows into one series per distinct value of the `groupBy` dimensions (the
 * others come back null), busiest first. Exemplars: first seen, deduplicated, at most
 * MAX_EXEMPLARS per series.
 */
export function groupSpanMetrics(
  rows: readonly SpanMetricRollup[],
  groupBy: readonly SpanMetricDimension[],
): SpanMetricSeries[] {
  const dims = new Set(groupBy);
  const series = new Map<string, SpanMetricSeries & { sumNs: bigint }>();
  for (const r of rows) {
    const keyParts = SPAN_METRIC_DIMENSIONS.map((d) => (dims.has(d) ? r[d] : null));
    const key = JSON.stringify(keyParts);
    let s = series.get(key);
    if (!s) {
      s = {
        service: keyParts[0],
        spanName: keyParts[1],
        toolName: keyParts[2],
        model: keyParts[3],
        calls: 0,
        errors: 0,
        errorRate: 0,
        durationAvgMs: 0,
        p50Ms: null,
        p95Ms: null,
        p99Ms: null,
        bucketCounts: new Array<number>(SPAN_DURATION_BOUNDS_MS.length + 1).fill(0),
        exemplarTraceIds: [],
        sumNs: 0n,
      };
      series.set(key, s);
    }
    s.calls += r.calls;
    s.errors += r.errors;
    s.sumNs += r.durationSumNs;
    r.bucketCounts.forEach((c, i) => {
      if (i < s.bucketCounts.length) s.bucketCounts[i] += c;
    });
    for (const t of r.exemplarTraceIds) {
      if (s.exemplarTraceIds.length >= MAX_EXEMPLARS) break;
      if (!s.exemplarTraceIds.includes(t)) s.exemplarTraceIds.push(t);
    }
  }
  const out: SpanMetricSeries[] = [];
  for (const { sumNs, ...s } of series.values()) {
    s.errorRate = s.calls > 0 ? s.errors / s.calls : 0;
    s.durationAvgMs = s.calls > 0 ? Number(sumNs / 1000n) / 1000 / s.calls : 0;
    s.p50Ms = histogramQuantile(0.5, s.bucketCounts);
    s.p95Ms = histogramQuantile(0.95, s.bucketCounts);
    s.p99Ms = histogramQuantile(0.99, s.bucketCounts);
    out.push(s);
  }
  return out.sort(
    (a, b) =>
      b.calls - a.calls ||
      JSON.stringify([a.service, a.spanName, a.toolName, a.model]).localeCompare(
        JSON.stringify([b.service, b.spanName, b.toolName, b.model]),
      ),
  );
}
