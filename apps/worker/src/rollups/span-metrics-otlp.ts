/**
 * A tenant's closed span-metric minutes as OTLP metrics (issue #5 item 7: "exported to a sink
 * as OTLP metrics with exemplars pointing to kept traces"). Pure: rows in, MetricsData out.
 *
 * Shape, close to the Collector's spanmetrics connector so dashboards built for it fit:
 * - one ResourceMetrics per service (resource `service.name`), scope `custodian.span_metrics`;
 * - `custodian.span.calls` and `custodian.span.errors`: monotonic Sums, delta temporality,
 *   one point per series and minute (start = the minute, time = the minute's end);
 * - `custodian.span.duration`: a delta Histogram in ms with the documented bounds
 *   (libs/store SPAN_DURATION_BOUNDS_MS), sum from the exact nanosecond total;
 * - point attributes: `service.name`, `span.name`, and `tool.name` / `gen_ai.request.model`
 *   when the spans had them;
 * - exemplars: trace_id and span_id of the series' exemplar spans whose trace was KEPT by
 *   sampling — a trace that was sampled out exists nowhere, so it makes no exemplar. The
 *   duration histogram carries them with the span's duration, calls with 1, errors only the
 *   error spans'.
 */
import type {
  Exemplar,
  KeyValue,
  Metric,
  MetricsData,
  NumberDataPoint,
  ResourceMetrics,
} from '@custodian/otlp';
import { SPAN_DURATION_BOUNDS_MS } from '@custodian/store';
import type { SpanMetricExemplar, SpanMetricSeries } from './span-metrics-aggregator';

export const SPAN_METRICS_SCOPE = 'custodian.span_metrics';
export const SPAN_CALLS_METRIC = 'custodian.span.calls';
export const SPAN_ERRORS_METRIC = 'custodian.span.errors';
export const SPAN_DURATION_METRIC = 'custodian.span.duration';
/** AGGREGATION_TEMPORALITY_DELTA: each point counts one minute only. */
const DELTA = 1;
const MINUTE_NS = 60_000_000_000n;

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

function pointAttributes(s: SpanMetricSeries): KeyValue[] {
  const out = [str('service.name', s.service), str('span.name', s.spanName)];
  if (s.toolName) out.push(str('tool.name', s.toolName));
  if (s.model) out.push(str('gen_ai.request.model', s.model));
  return out;
}

function exemplar(e: SpanMetricExemplar, value: { asInt?: bigint; asDouble?: number }): Exemplar {
  return {
    filteredAttributes: [],
    timeUnixNano: e.endTimeUnixNano,
    ...value,
    spanId: Buffer.from(e.spanId, 'hex'),
    traceId: Buffer.from(e.traceId, 'hex'),
  };
}

/** Number of data points `rows` become (3 per series): what delivery counts. */
export function spanMetricsPoints(rows: readonly SpanMetricSeries[]): number {
  return rows.length * 3;
}

/** The rows (one tenant's) as one ExportMetricsServiceRequest. */
export function spanMetricsToOtlp(rows: readonly SpanMetricSeries[]): MetricsData {
  const byService = new Map<string, SpanMetricSeries[]>();
  for (const r of rows) {
    const list = byService.get(r.service);
    if (list) list.push(r);
    else byService.set(r.service, [r]);
  }
  const resourceMetrics: ResourceMetrics[] = [];
  for (const [service, series] of byService) {
    const calls: NumberDataPoint[] = [];
    const errors: NumberDataPoint[] = [];
    const duration: Metric['histogram'] = { dataPoints: [], aggregationTemporality: DELTA };
    for (const s of series) {
      const start = BigInt(s.minute.getTime()) * 1_000_000n;
      const end = start + MINUTE_NS;
      const attributes = pointAttributes(s);
      const kept = s.exemplars.filter((e) => e.kept);
      calls.push({
        attributes,
        startTimeUnixNano: start,
        timeUnixNano: end,
        asInt: BigInt(s.calls),
        exemplars: kept.map((e) => exemplar(e, { asInt: 1n })),
        flags: 0,
      });
      errors.push({
        attributes,
        startTimeUnixNano: start,
        timeUnixNano: end,
        asInt: BigInt(s.errors),
        exemplars: kept.filter((e) => e.error).map((e) => exemplar(e, { asInt: 1n })),
        flags: 0,
      });
      duration.dataPoints.push({
        attributes,
        startTimeUnixNano: start,
        timeUnixNano: end,
        count: BigInt(s.calls),
        sum: Number(s.durationSumNs) / 1e6,
        bucketCounts: s.bucketCounts.map((n) => BigInt(n)),
        explicitBounds: [...SPAN_DURATION_BOUNDS_MS],
        exemplars: kept.map((e) => exemplar(e, { asDouble: Number(e.durationNs) / 1e6 })),
        flags: 0,
      });
    }
    const sum = (name: string, description: string, dataPoints: NumberDataPoint[]): Metric => ({
      name,
      description,
      unit: '{call}',
      sum: { dataPoints, aggregationTemporality: DELTA, isMonotonic: true },
      metadata: [],
    });
    resourceMetrics.push({
      resource: { attributes: [str('service.name', service)], droppedAttributesCount: 0 },
      scopeMetrics: [
        {
          scope: {
            name: SPAN_METRICS_SCOPE,
            version: '1',
            attributes: [],
            droppedAttributesCount: 0,
          },
          metrics: [
            sum(SPAN_CALLS_METRIC, 'Spans, counted before sampling.', calls),
            sum(SPAN_ERRORS_METRIC, 'Spans with status ERROR, counted before sampling.', errors),
            {
              name: SPAN_DURATION_METRIC,
              description: 'Span durations, counted before sampling.',
              unit: 'ms',
              histogram: duration,
              metadata: [],
            },
          ],
          schemaUrl: '',
        },
      ],
      schemaUrl: '',
    });
  }
  return { resourceMetrics };
}
