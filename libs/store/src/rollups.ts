/**
 * Per-minute rollups in PostgreSQL (issue #5 item 7 span metrics; issue #6 usage): span metrics
 * (calls, errors, a duration histogram and exemplar trace ids per tenant, minute, service, span
 * name, tool and model) and usage (received, rejected by reason, sampled out, dropped,
 * exported per tenant, minute and signal).
 *
 * Both tables are written only by ADDITIVE upserts: every process aggregates in memory and
 * flushes deltas, so several gateways and workers, and several flushes of the same minute,
 * sum up instead of overwriting one another. Raw SQL (migration 20261124110000_trace_store).
 */
import type { Pool } from 'pg';

/**
 * Upper bounds (inclusive, milliseconds) of the span duration histogram's buckets; the last
 * bucket (+Inf) has no bound, so `bucket_counts` has SPAN_DURATION_BOUNDS_MS.length + 1 entries.
 */
export const SPAN_DURATION_BOUNDS_MS = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000,
] as const;
/** Exemplar trace ids kept per series and minute. */
export const MAX_EXEMPLARS = 5;

export interface SpanMetricRollup {
  tenantId: string;
  /** The minute (UTC, seconds zero). */
  minute: Date;
  service: string;
  spanName: string;
  /** '' when the spans had none. */
  toolName: string;
  model: string;
  calls: number;
  errors: number;
  durationSumNs: bigint;
  /** SPAN_DURATION_BOUNDS_MS.length + 1 counts. */
  bucketCounts: number[];
  /** Hex trace ids, best first (kept by sampling, then errors, then slowest). */
  exemplarTraceIds: string[];
}

export const USAGE_METRICS = [
  'accepted',
  'rejected',
  'sampled_out',
  'dropped',
  'exported',
] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];

export interface UsageDelta {
  tenantId: string;
  minute: Date;
  signal: string;
  metric: UsageMetric;
  /** The reason (rejected, sampled_out, dropped), the sink id (exported), or ''. */
  reason: string;
  count: number;
}

/** One tenant's usage in one minute and signal. */
export interface UsageMinute {
  minute: Date;
  signal: string;
  /** accepted + rejected: everything the gateway was sent. */
  received: number;
  accepted: number;
  rejected: Record<string, number>;
  sampledOut: Record<string, number>;
  dropped: Record<string, number>;
  /** By sink id. */
  exported: Record<string, number>;
}

export interface SpanMetricsQuery {
  from: Date;
  to: Date;
  service?: string;
  toolName?: string;
  model?: string;
}

/** Rows per statement. */
const CHUNK = 500;

export class RollupRepository {
  constructor(private readonly pool: Pool) {}

  /** Adds span metric deltas. */
  async addSpanMetrics(rows: readonly SpanMetricRollup[]): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      const params: unknown[] = [];
      const tuples = chunk.map((r) => {
        const b = params.length;
        params.push(
          r.tenantId,
          r.minute.toISOString(),
          r.service,
          r.spanName,
          r.toolName,
          r.model,
          r.calls,
          r.errors,
          r.durationSumNs.toString(),
          r.bucketCounts,
          r.exemplarTraceIds.slice(0, MAX_EXEMPLARS),
        );
        return `($${b + 1}::uuid, $${b + 2}::timestamptz, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}::bigint, $${b + 8}::bigint, $${b + 9}::numeric, $${b + 10}::bigint[], $${b + 11}::text[])`;
      });
      await this.pool.query(
        `INSERT INTO span_metric_rollups AS t (tenant_id, minute, service_name, span_name, tool_name,
           model, calls, errors, duration_sum_ns, bucket_counts, exemplar_trace_ids)
         VALUES ${tuples.join(', ')}
         ON CONFLICT (tenant_id, minute, service_name, span_name, tool_name, model) DO UPDATE SET
           calls = t.calls + EXCLUDED.calls,
           errors = t.errors + EXCLUDED.errors,
           duration_sum_ns = t.duration_sum_ns + EXCLUDED.duration_sum_ns,
           bucket_counts = ARRAY(
             SELECT coalesce(a, 0) + coalesce(b, 0)
               FROM unnest(t.bucket_counts, EXCLUDED.bucket_counts) WITH ORDINALITY AS u(a, b, i)
              ORDER BY i),
           exemplar_trace_ids = ARRAY(
             SELECT x FROM unnest(t.exemplar_trace_ids || EXCLUDED.exemplar_trace_ids)
               WITH ORDINALITY AS e(x, i) GROUP BY x ORDER BY min(i) LIMIT ${MAX_EXEMPLARS})`,
        params,
      );
    }
  }

  /** Adds usage deltas (rows with a zero count are skipped). */
  async addUsage(rows: readonly UsageDelta[]): Promise<void> {
    const live = rows.filter((r) => r.count > 0);
    for (let i = 0; i < live.length; i += CHUNK) {
      const chunk = live.slice(i, i + CHUNK);
      const params: unknown[] = [];
      const tuples = chunk.map((r) => {
        const b = params.length;
        params.push(r.tenantId, r.minute.toISOString(), r.signal, r.metric, r.reason, r.count);
        return `($${b + 1}::uuid, $${b + 2}::timestamptz, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}::bigint)`;
      });
      await this.pool.query(
        `INSERT INTO usage_rollups AS t (tenant_id, minute, signal, metric, reason, count)
         VALUES ${tuples.join(', ')}
         ON CONFLICT (tenant_id, minute, signal, metric, reason) DO UPDATE SET count = t.count + EXCLUDED.count`,
        params,
      );
    }
  }

  /** The tenant's usage per minute and signal in [from, to), oldest first. */
  async usage(tenantId: string, from: Date, to: Date): Promise<UsageMinute[]> {
    const r = await this.pool.query<{
      minute: Date;
      signal: string;
      metric: UsageMetric;
      reason: string;
      count: string;
    }>(
      `SELECT minute, signal, metric, reason, count::text FROM usage_rollups
        WHERE tenant_id = $1 AND minute >= $2 AND minute < $3
        ORDER BY minute, signal, metric, reason`,
      [tenantId, from.toISOString(), to.toISOString()],
    );
    const out: UsageMinute[] = [];
    const byKey = new Map<string, UsageMinute>();
    for (const row of r.rows) {
      const key = `${row.minute.getTime()}|${row.signal}`;
      let m = byKey.get(key);
      if (!m) {
        m = {
          minute: row.minute,
          signal: row.signal,
          received: 0,
          accepted: 0,
          rejected: {},
          sampledOut: {},
          dropped: {},
          exported: {},
        };
        byKey.set(key, m);
        out.push(m);
      }
      const n = Number(row.count);
      switch (row.metric) {
        case 'accepted':
          m.accepted += n;
          m.received += n;
          break;
        case 'rejected':
          m.rejected[row.reason] = (m.rejected[row.reason] ?? 0) + n;
          m.received += n;
          break;
        case 'sampled_out':
          m.sampledOut[row.reason] = (m.sampledOut[row.reason] ?? 0) + n;
          break;
        case 'dropped':
          m.dropped[row.reason] = (m.dropped[row.reason] ?? 0) + n;
          break;
        case 'exported':
          m.exported[row.reason] = (m.exported[row.reason] ?? 0) + n;
          break;
      }
    }
    return out;
  }

  /** The tenant's span metric rollups in [from, to), by minute then series. */
  async spanMetrics(tenantId: string, q: SpanMetricsQuery): Promise<SpanMetricRollup[]> {
    const params: unknown[] = [tenantId, q.from.toISOString(), q.to.toISOString()];
    const where = ['tenant_id = $1', 'minute >= $2', 'minute < $3'];
    if (q.service !== undefined) {
      params.push(q.service);
      where.push(`service_name = $${params.length}`);
    }
    if (q.toolName !== undefined) {
      params.push(q.toolName);
      where.push(`tool_name = $${params.length}`);
    }
    if (q.model !== undefined) {
      params.push(q.model);
      where.push(`model = $${params.length}`);
    }
    const r = await this.pool.query<{
      minute: Date;
      service_name: string;
      span_name: string;
      tool_name: string;
      model: string;
      calls: string;
      errors: string;
      duration_sum_ns: string;
      bucket_counts: string[];
      exemplar_trace_ids: string[];
    }>(
      `SELECT minute, service_name, span_name, tool_name, model, calls::text, errors::text,
              duration_sum_ns::text, bucket_counts::text[], exemplar_trace_ids
         FROM span_metric_rollups WHERE ${where.join(' AND ')}
        ORDER BY minute, service_name, span_name, tool_name, model`,
      params,
    );
    return r.rows.map((x) => ({
      tenantId,
      minute: x.minute,
      service: x.service_name,
      spanName: x.span_name,
      toolName: x.tool_name,
      model: x.model,
      calls: Number(x.calls),
      errors: Number(x.errors),
      durationSumNs: BigInt(x.duration_sum_ns),
      bucketCounts: x.bucket_counts.map(Number),
      exemplarTraceIds: x.exemplar_trace_ids,
    }));
  }
}
