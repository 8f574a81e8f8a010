import type { KeyValue, Span, TracesData } from '@custodian/otlp';
import { AttributeKeys, StatusCode, decodeTraces, encodeTraces } from '@custodian/otlp';
import { SPAN_DURATION_BOUNDS_MS } from '@custodian/store';
import {
  OVERFLOW_SPAN_NAME,
  SPAN_METRICS_KEYS,
  SpanMetricsAggregator,
  bucketIndex,
} from './span-metrics-aggregator';

const T = '11111111-1111-4111-8111-111111111111';
const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const MIN = 60_000;
const t0 = Date.UTC(2026, 10, 24, 10, 0, 0);

function span(
  trace: number,
  name: string,
  ms: number,
  attrs: KeyValue[] = [],
  error = false,
): Span {
  return {
    traceId: new Uint8Array(16).fill(trace),
    spanId: new Uint8Array(8).fill(trace),
    traceState: '',
    parentSpanId: new Uint8Array(0),
    flags: 0,
    name,
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

const batch = (spans: Span[], service = 'agent'): TracesData => ({
  resourceSpans: [
    {
      resource: { attributes: [str('service.name', service)], droppedAttributesCount: 0 },
      scopeSpans: [{ spans, schemaUrl: '' }],
      schemaUrl: '',
    },
  ],
});

describe('SpanMetricsAggregator', () => {
  it('counts calls, errors and durations per service, span name, tool and model', () => {
    const a = new SpanMetricsAggregator();
    a.observe(
      T,
      batch([
        span(1, 'execute_tool', 7, [str('gen_ai.tool.name', 'search')]),
        span(2, 'execute_tool', 300, [str('tool.name', 'search')], true),
        span(3, 'chat', 1200, [str('gen_ai.request.model', 'gpt-4o')]),
      ]),
      t0 + 5000,
    );
    const rows = a.drain();
    expect(rows).toHaveLength(2);
    const tool = rows.find((r) => r.toolName === 'search')!;
    expect(tool).toMatchObject({
      tenantId: T,
      minute: new Date(t0),
      service: 'agent',
      spanName: 'execute_tool',
      model: '',
      calls: 2,
      errors: 1,
      durationSumNs: 307_000_000n,
    });
    expect(tool.bucketCounts).toHaveLength(SPAN_DURATION_BOUNDS_MS.length + 1);
    expect(tool.bucketCounts[bucketIndex(7_000_000n)]).toBe(1);
    expect(tool.bucketCounts[bucketIndex(300_000_000n)]).toBe(1);
    expect(rows.find((r) => r.model === 'gpt-4o')).toMatchObject({ calls: 1, errors: 0 });
    expect(a.size).toBe(0);
  });

  it('counts the same from a skeleton decoded with SPAN_METRICS_KEYS as from whole spans', () => {
    const noise = [str('prompt', 'x'.repeat(50)), str('http.route', '/v1')];
    const data = batch([
      span(1, 'execute_tool', 7, [...noise, str('gen_ai.tool.name', 'search')]),
      span(2, 'execute_tool', 300, [str('tool.name', 'fetch'), ...noise], true),
      span(3, 'chat', 1200, [str('llm.model', 'claude'), str('gen_ai.request.model', 'gpt-4o')]),
      span(4, 'plan', 40, noise),
    ]);
    const bytes = encodeTraces(data);
    const skeleton = {
      resourceKeys: new AttributeKeys(SPAN_METRICS_KEYS.resource),
      spanKeys: new AttributeKeys(SPAN_METRICS_KEYS.span),
    };
    const whole = new SpanMetricsAggregator();
    whole.observe(T, decodeTraces(bytes), t0);
    const bare = new SpanMetricsAggregator();
    const sk = decodeTraces(bytes, { skeleton });
    expect(sk.resourceSpans[0].scopeSpans[0].spans[3].attributes).toEqual([]);
    bare.observe(T, sk, t0);
    const rows = whole.drain();
    expect(rows.map((r) => `${r.spanName}/${r.toolName}/${r.model}`).sort()).toEqual([
      'chat//gpt-4o',
      'execute_tool/fetch/',
      'execute_tool/search/',
      'plan//',
    ]);
    expect(bare.drain()).toEqual(rows);
  });

  it('puts bounds in their own bucket and beyond the last bound in +Inf', () => {
    expect(bucketIndex(5_000_000n)).toBe(0);
    expect(bucketIndex(5_000_001n)).toBe(1);
    expect(bucketIndex(10n ** 15n)).toBe(SPAN_DURATION_BOUNDS_MS.length);
  });

  it('drains only minutes that have closed', () => {
    const a = new SpanMetricsAggregator();
    a.observe(T, batch([span(1, 'a', 1)]), t0 + 1000);
    a.observe(T, batch([span(2, 'a', 1)]), t0 + MIN + 1000);
    expect(a.drain(t0 + MIN + 2000).map((r) => r.minute)).toEqual([new Date(t0)]);
    expect(a.drain().map((r) => r.minute)).toEqual([new Date(t0 + MIN)]);
  });

  it('prefers exemplars of kept traces, then errors, then the slowest', () => {
    const a = new SpanMetricsAggregator();
    const spans = [1, 2, 3, 4, 5, 6, 7].map((i) => span(i, 'op', i * 10, [], i === 2));
    a.observe(T, batch(spans), t0);
    a.kept(T, '01'.repeat(16));
    const [row] = a.drain();
    expect(row.exemplarTraceIds).toHaveLength(5);
    expect(row.exemplarTraceIds.slice(0, 3)).toEqual([
      '01'.repeat(16),
      '02'.repeat(16),
      '07'.repeat(16),
    ]);
  });

  it('caps series per tenant and minute, counting overflow into one series', () => {
    const a = new SpanMetricsAggregator({ maxSeriesPerTenant: 3 });
    a.observe(T, batch([1, 2, 3, 4, 5].map((i) => span(i, `op-${i}`, 1))), t0);
    const rows = a.drain();
    expect(rows.map((r) => r.spanName).sort()).toEqual([
      OVERFLOW_SPAN_NAME,
      'op-1',
      'op-2',
      'op-3',
    ]);
    expect(rows.find((r) => r.spanName === OVERFLOW_SPAN_NAME)!.calls).toBe(2);
    expect(a.overflowed).toBe(2);
  });
});

describe('SpanMetricsAggregator: runs of alike spans (the per-span fast path)', () => {
  it('counts runs of spans with the same dimensions, overflow included, as one span at a time would', () => {
    const a = new SpanMetricsAggregator({ maxSeriesPerTenant: 2 });
    const names = ['a', 'a', 'b', 'b', 'c', 'c', 'c', 'a', 'd', 'b', 'd'];
    a.observe(T, batch(names.map((n, i) => span(i + 1, n, 1))), t0);
    const rows = a.drain();
    const calls = Object.fromEntries(rows.map((r) => [r.spanName, r.calls]));
    expect(calls).toEqual({ a: 3, b: 3, [OVERFLOW_SPAN_NAME]: 5 });
    expect(a.overflowed).toBe(5);
  });

  it('names the slowest span of a trace as its exemplar, across consecutive spans of that trace', () => {
    const a = new SpanMetricsAggregator();
    const s1 = span(9, 'op', 10);
    const s2 = { ...span(9, 'op', 50), spanId: new Uint8Array(8).fill(0xaa) };
    const s3 = { ...span(9, 'op', 20), spanId: new Uint8Array(8).fill(0xbb) };
    const other = { ...span(8, 'op', 5), spanId: new Uint8Array(8).fill(0xcc) };
    a.observe(T, batch([s1, s2, s3, other]), t0);
    const [row] = a.drain();
    expect(row.calls).toBe(4);
    expect(row.exemplars.map((e) => [e.traceId, e.spanId])).toEqual([
      ['09'.repeat(16), 'aa'.repeat(8)],
      ['08'.repeat(16), 'cc'.repeat(8)],
    ]);
  });

  it('sums durations exactly past what a double holds exactly', () => {
    const a = new SpanMetricsAggregator();
    const long = (ns: bigint): Span => ({
      ...span(3, 'op', 0),
      endTimeUnixNano: 1_000_000_000n + ns,
    });
    const ds = [2n ** 51n + 7n, 2n ** 51n + 9n, 2n ** 51n + 11n, 2n ** 53n + 3n, 1n, 5n];
    a.observe(T, batch(ds.map(long)), t0);
    a.observe(T, batch([long(2n ** 52n - 2n)]), t0);
    const [row] = a.drain();
    expect(row.calls).toBe(7);
    expect(row.durationSumNs).toBe(ds.reduce((x, y) => x + y, 0n) + 2n ** 52n - 2n);
  });

  it('keeps spans of one name apart by tool and model within one batch', () => {
    const a = new SpanMetricsAggregator();
    const tools = ['search', 'fetch', 'search', '', 'fetch', 'search'];
    a.observe(
      T,
      batch(tools.map((t, i) => span(i + 1, 'execute_tool', 1, t ? [str('tool.name', t)] : []))),
      t0,
    );
    const calls = Object.fromEntries(a.drain().map((r) => [r.toolName, r.calls]));
    expect(calls).toEqual({ search: 3, fetch: 2, '': 1 });
  });

  it('keeps dimensions apart per resource (service)', () => {
    const a = new SpanMetricsAggregator();
    const data = batch([span(1, 'op', 1)], 'svc-1');
    data.resourceSpans.push(batch([span(2, 'op', 1)], 'svc-2').resourceSpans[0]);
    a.observe(T, data, t0);
    expect(
      a
        .drain()
        .map((r) => [r.service, r.calls])
        .sort(),
    ).toEqual([
      ['svc-1', 1],
      ['svc-2', 1],
    ]);
  });
});

describe('SpanMetricsAggregator idle series', () => {
  it('drains a series of the open minute once no span reached it since the idle cut-off', () => {
    const a = new SpanMetricsAggregator();
    a.observe(T, batch([span(1, 'quiet', 1)]), t0 + 1000);
    a.observe(T, batch([span(2, 'busy', 1)]), t0 + 20_000);
    const rows = a.drain(t0 + 30_000, t0 + 10_000);
    expect(rows.map((r) => r.spanName)).toEqual(['quiet']);
    expect(a.size).toBe(1);
  });
});
