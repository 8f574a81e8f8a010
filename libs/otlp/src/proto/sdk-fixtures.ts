/**
 * Telemetry produced by the real OpenTelemetry JS SDK, in memory (no network), for the
 * interop and golden tests: whatever these SDK objects turn into through
 * @opentelemetry/otlp-transformer is byte for byte what the OTel JS OTLP/protobuf exporters
 * send. Ids and times are fixed where the SDK lets us, so golden files are reproducible.
 * Test support only; not exported from the lib.
 */
import { context, trace, SpanKind, SpanStatusCode, ValueType } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import {
  AggregationType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  type IdGenerator,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** Deterministic ids: trace ids and span ids from counters. */
class CountingIds implements IdGenerator {
  private trace = 0;
  private span = 0;
  generateTraceId(): string {
    this.trace++;
    return `4bf92f3577b34da6a3ce929d0e0e${(0x4700 + this.trace).toString(16)}`;
  }
  generateSpanId(): string {
    this.span++;
    return `00f067aa0ba9${(0x0200 + this.span).toString(16).padStart(4, '0')}`;
  }
}

const T0 = 1_760_000_000; // seconds
const at = (ms: number): [number, number] => [T0 + Math.floor(ms / 1000), (ms % 1000) * 1e6 + 7];

function tracerProvider(attrs: Record<string, string | number | boolean | string[]>) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(attrs),
    idGenerator: new CountingIds(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    spanLimits: { attributeCountLimit: 24, eventCountLimit: 4, linkCountLimit: 4 },
  });
  return { exporter, provider };
}

/** A small agent run: two scopes, parent/child, an event, a link, an error status. */
export function goldenSpans(): ReadableSpan[] {
  const { exporter, provider } = tracerProvider({
    'service.name': 'agent',
    'deployment.env': 'prod',
  });
  const agent = provider.getTracer('agent', '1.2.0', {
    schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
  });
  const llm = provider.getTracer('llm');
  const run = agent.startSpan('agent.run', {
    kind: SpanKind.SERVER,
    startTime: at(0),
    attributes: { run_id: 'r-1', 'prompt.version': 3 },
  });
  const ctx = trace.setSpan(context.active(), run);
  const call = llm.startSpan(
    'llm.call',
    {
      kind: SpanKind.CLIENT,
      startTime: at(10),
      attributes: { 'llm.model': 'gpt-x', 'gen_ai.usage.input_tokens': 812, temperature: 0.2 },
      links: [{ context: run.spanContext(), attributes: { why: 'retry' } }],
    },
    ctx,
  );
  call.addEvent('token', { n: 1 }, at(20));
  call.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' });
  call.end(at(30));
  run.end(at(40));
  return exporter.getFinishedSpans();
}

/** Many spans across two resources with every attribute type the SDK can express. */
export function richSpans(): ReadableSpan[] {
  const a = tracerProvider({
    'service.name': 'checkout',
    'host.cores': 8,
    'feature.on': true,
    ratio: 0.75,
    regions: ['eu', 'us'],
    'é.ключ': 'значение ✓',
  });
  const b = tracerProvider({ 'service.name': 'rag-worker' });
  const t1 = a.provider.getTracer('http', '0.9.1', { schemaUrl: 'https://example.com/s/1' });
  const t2 = a.provider.getTracer('db');
  const t3 = b.provider.getTracer('retriever', '2.0.0');

  const remote = trace.setSpanContext(context.active(), {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    isRemote: true,
    traceState: new TraceState('vendor=abc,other=1'),
  });
  const root = t1.startSpan(
    'GET /cart',
    {
      kind: SpanKind.SERVER,
      startTime: at(0),
      attributes: {
        'http.method': 'GET',
        'http.status_code': 200,
        'http.big': 2 ** 60,
        'neg.int': -42,
        'float.v': -0.125,
        'nan.v': Number.NaN,
        'inf.v': Number.POSITIVE_INFINITY,
        'empty.str': '',
        'emoji.str': 'ok 👍🏽 — fine',
        'bool.f': false,
        'arr.str': ['a', '', 'ü'],
        'arr.num': [1, 2.5, -3],
        'arr.bool': [true, false],
        'arr.empty': [],
      },
    },
    remote,
  );
  const rootCtx = trace.setSpan(context.active(), root);
  for (let i = 0; i < 6; i++) {
    const kind = [SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER][i % 4];
    const s = t2.startSpan(
      `query ${i}`,
      {
        kind,
        startTime: at(5 + i),
        attributes: {
          'db.system': 'postgresql',
          'db.rows': i * 1000,
          'db.statement': 'x'.repeat(i * 40),
        },
        links: i % 2 === 0 ? [{ context: root.spanContext() }] : [],
      },
      rootCtx,
    );
    s.addEvent('fetch', { rows: i, partial: i % 2 === 1 }, at(6 + i));
    s.addEvent('no-attrs', at(7 + i));
    if (i === 3) s.recordException(new Error('deadlock detected'), at(8 + i));
    if (i === 4) s.setStatus({ code: SpanStatusCode.OK });
    if (i === 5) {
      for (let k = 0; k < 30; k++) s.setAttribute(`extra.${k}`, k); // beyond the limit: dropped
    }
    s.end(at(20 + i));
  }
  root.end(at(100));

  const r = t3.startSpan('retrieve', {
    startTime: at(1),
    attributes: { 'rag.k': 5, query: 'résumé of Q3' },
  });
  r.end(at(3));
  return [...a.exporter.getFinishedSpans(), ...b.exporter.getFinishedSpans()];
}

/** Log records: with and without span context, every body type, event names, severities. */
export function sdkLogRecords(): ReadableLogRecord[] {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'agent', pid: 4242 }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const app = provider.getLogger('app', '1.0.0', {
    schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
  });
  const audit = provider.getLogger('audit');
  const spanCtx = trace.setSpanContext(context.active(), {
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: 'eee19b7ec3c1b174',
    traceFlags: 1,
  });
  app.emit({
    timestamp: at(0),
    observedTimestamp: at(1),
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: 'tool call finished',
    attributes: { 'tool.name': 'search', 'latency.ms': 12.5 },
    context: spanCtx,
  });
  app.emit({
    timestamp: at(2),
    observedTimestamp: at(3),
    severityNumber: SeverityNumber.ERROR,
    body: { kind: 'structured', n: 3, list: [1, 'two'], nested: { ok: false } },
    eventName: 'agent.failure',
  });
  audit.emit({ timestamp: at(4), observedTimestamp: at(5), body: 'plain, no severity' });
  audit.emit({
    timestamp: at(6),
    observedTimestamp: at(7),
    body: 42,
    attributes: { 'bytes.v': new Uint8Array([0, 1, 255]) },
  });
  return exporter.getFinishedLogRecords();
}

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** One collection of every instrument type the SDK has, times pinned to fixed values. */
export async function sdkResourceMetrics(): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'gateway' }),
    readers: [reader],
    views: [
      { instrumentName: 'exp.*', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } },
    ],
  });
  const meter = provider.getMeter('custodian', '0.1.0', { schemaUrl: 'https://example.com/m' });
  const other = provider.getMeter('other');
  const spans = meter.createCounter('spans.received', { description: 'spans in', unit: '{span}' });
  spans.add(10, { tenant: 'a' });
  spans.add(5, { tenant: 'b' });
  meter.createCounter('bytes.int', { valueType: ValueType.INT }).add(1234567890123, { t: 'x' });
  meter.createUpDownCounter('inflight', { valueType: ValueType.INT }).add(-3);
  const h = meter.createHistogram('latency', {
    unit: 'ms',
    advice: { explicitBucketBoundaries: [1, 5, 25] },
  });
  for (const v of [0.5, 3, 3, 40]) h.record(v, { route: '/v1/traces' });
  const e = meter.createHistogram('exp.size');
  for (const v of [1, 2, 4, 1000, -0, 0]) e.record(v);
  meter.createGauge('queue.depth').record(7.25, { q: 'retry' });
  other
    .createObservableGauge('temp', { valueType: ValueType.INT })
    .addCallback((r) => r.observe(-12, { room: 'b' }));

  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const m of sm.metrics) {
      for (const dp of m.dataPoints) {
        // The SDK's fields are readonly in its types only; pinning them makes goldens stable.
        Object.assign(dp, { startTime: at(0), endTime: at(60_000) });
      }
    }
  }
  return resourceMetrics;
}
