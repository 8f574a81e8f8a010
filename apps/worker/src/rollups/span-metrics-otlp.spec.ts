import {
  decodeMetrics,
  encodeMetrics,
  type KeyValue,
  type Span,
  type TracesData,
} from '@custodian/otlp';
import { StatusCode } from '@custodian/otlp';
import { SPAN_DURATION_BOUNDS_MS } from '@custodian/store';
import { SpanMetricsAggregator } from './span-metrics-aggregator';
import {
  SPAN_CALLS_METRIC,
  SPAN_DURATION_METRIC,
  SPAN_ERRORS_METRIC,
  spanMetricsPoints,
  spanMetricsToOtlp,
} from './span-metrics-otlp';

const T = '11111111-1111-4111-8111-111111111111';
const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const t0 = Date.UTC(2026, 10, 24, 10, 0, 0);

function span(trace: number, spanByte: number, ms: number, attrs: KeyValue[], error = false): Span {
  return {
    traceId: new Uint8Array(16).fill(trace),
    spanId: new Uint8Array(8).fill(spanByte),
    traceState: '',
    parentSpanId: new Uint8Array(0),
    flags: 0,
    name: 'execute_tool search',
    kind: 1,
    startTimeUnixNano: 1_000_000_000n,
    endTimeUnixNano: 1_000_000_000n + BigInt(ms) * 1_000_000n,
    attributes: attrs,
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: error ? { code: StatusCode.Error, message: '' } : undefined,
  };
}

const batch = (spans: Span[]): TracesData => ({
  resourceSpans: [
    {
      resource: { attributes: [str('service.name', 'agent')], droppedAttributesCount: 0 },
      scopeSpans: [{ spans, schemaUrl: '' }],
      schemaUrl: '',
    },
  ],
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const attrs = (kvs: KeyValue[]) => Object.fromEntries(kvs.map((k) => [k.key, k.value.stringValue]));

describe('span metrics as OTLP', () => {
  function rows() {
    const agg = new SpanMetricsAggregator();
    const tool = [str('tool.name', 'search'), str('gen_ai.request.model', 'gpt-4o')];
    agg.observe(
      T,
      batch([
        span(1, 0xa1, 3, tool), // kept, fast
        span(2, 0xb2, 700, tool, true), // kept, error, slow
        span(3, 0xc3, 30, tool), // sampled out
      ]),
      t0 + 5_000,
    );
    agg.kept(T, '01'.repeat(16));
    agg.kept(T, '02'.repeat(16));
    return agg.drain();
  }

  it('builds delta Sums for calls and errors and a ms Histogram with the documented bounds', () => {
    const data = spanMetricsToOtlp(rows());
    expect(data.resourceMetrics).toHaveLength(1);
    const rm = data.resourceMetrics[0];
    expect(attrs(rm.resource!.attributes)).toEqual({ 'service.name': 'agent' });
    const byName = Object.fromEntries(rm.scopeMetrics[0].metrics.map((m) => [m.name, m]));
    const calls = byName[SPAN_CALLS_METRIC].sum!;
    const errors = byName[SPAN_ERRORS_METRIC].sum!;
    const duration = byName[SPAN_DURATION_METRIC];
    expect(calls).toMatchObject({ aggregationTemporality: 1, isMonotonic: true });
    expect(calls.dataPoints[0].asInt).toBe(3n);
    expect(errors.dataPoints[0].asInt).toBe(1n);
    const start = BigInt(t0) * 1_000_000n;
    expect(calls.dataPoints[0].startTimeUnixNano).toBe(start);
    expect(calls.dataPoints[0].timeUnixNano).toBe(start + 60_000_000_000n);
    expect(attrs(calls.dataPoints[0].attributes)).toEqual({
      'service.name': 'agent',
      'span.name': 'execute_tool search',
      'tool.name': 'search',
      'gen_ai.request.model': 'gpt-4o',
    });
    expect(duration.unit).toBe('ms');
    const h = duration.histogram!.dataPoints[0];
    expect(h.explicitBounds).toEqual([...SPAN_DURATION_BOUNDS_MS]);
    expect(h.count).toBe(3n);
    expect(h.sum).toBe(733);
    expect(h.bucketCounts.reduce((a, b) => a + b, 0n)).toBe(3n);
    // 3 ms ≤ 5, 30 ms ≤ 50, 700 ms ≤ 1000.
    expect(h.bucketCounts[0]).toBe(1n);
    expect(h.bucketCounts[SPAN_DURATION_BOUNDS_MS.indexOf(50)]).toBe(1n);
    expect(h.bucketCounts[SPAN_DURATION_BOUNDS_MS.indexOf(1000)]).toBe(1n);
  });

  it('gives exemplars only for kept traces, with their trace and span ids', () => {
    const data = spanMetricsToOtlp(rows());
    const metrics = data.resourceMetrics[0].scopeMetrics[0].metrics;
    const h = metrics.find((m) => m.name === SPAN_DURATION_METRIC)!.histogram!.dataPoints[0];
    const ex = h.exemplars.map((e) => [hex(e.traceId), hex(e.spanId), e.asDouble]);
    expect(ex.sort()).toEqual(
      [
        ['01'.repeat(16), 'a1'.repeat(8), 3],
        ['02'.repeat(16), 'b2'.repeat(8), 700],
      ].sort(),
    );
    const errors = metrics.find((m) => m.name === SPAN_ERRORS_METRIC)!.sum!.dataPoints[0];
    expect(errors.exemplars.map((e) => hex(e.traceId))).toEqual(['02'.repeat(16)]);
  });

  it('round-trips through the OTLP protobuf codec', () => {
    const r = rows();
    const data = spanMetricsToOtlp(r);
    const back = decodeMetrics(encodeMetrics(data));
    expect(back.resourceMetrics[0].scopeMetrics[0].metrics.map((m) => m.name)).toEqual([
      SPAN_CALLS_METRIC,
      SPAN_ERRORS_METRIC,
      SPAN_DURATION_METRIC,
    ]);
    expect(spanMetricsPoints(r)).toBe(3);
  });
});
