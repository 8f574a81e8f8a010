/**
 * Interop: what the OpenTelemetry JS SDK's OTLP/HTTP-JSON exporters send (the serializers of
 * @opentelemetry/otlp-transformer, fed real SDK data built in memory) decodes field by field.
 * Nobody here wrote either side of this wire.
 */
import {
  SpanKind as ApiSpanKind,
  SpanStatusCode,
  TraceFlags,
  ValueType,
  context,
  trace,
} from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { KeyValue } from '../model';
import { SpanKind, StatusCode } from '../model';
import { bytesToHex } from './hex';
import { decodeLogsJson } from './logs';
import { decodeMetricsJson } from './metrics';
import { decodeTracesJson } from './traces';

const resource = resourceFromAttributes({
  'service.name': 'agent-runner',
  'service.version': '1.2.3',
  'host.cpus': 8,
});

const attr = (attrs: KeyValue[], key: string) => attrs.find((a) => a.key === key)?.value;

describe('interop with the OTel JS SDK JSON exporters (otlp-transformer 0.223.1)', () => {
  it('decodes spans', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('custodian.test', '0.0.1');
    const linked = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    };
    {
      const root = tracer.startSpan('agent.run', { kind: ApiSpanKind.SERVER });
      const child = tracer.startSpan(
        'llm.call',
        {
          kind: ApiSpanKind.CLIENT,
          startTime: [1700000000, 123456789],
          attributes: {
            'llm.model': 'gpt-4o',
            'llm.tokens': 1234,
            'llm.temperature': 0.25,
            'llm.cached': true,
            'tool.names': ['search', 'fetch'],
          },
          links: [{ context: linked, attributes: { 'link.kind': 'retry-of' } }],
        },
        trace.setSpan(context.active(), root),
      );
      child.addEvent('first_token', { ttft_ms: 42.5 }, [1700000000, 500000000]);
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' });
      child.end([1700000001, 1]);
      root.end();
    }
    const spans = exporter.getFinishedSpans();
    const json = JsonTraceSerializer.serializeRequest(spans);
    expect(json).toBeDefined();
    const data = decodeTracesJson(json as Uint8Array);

    const rs = data.resourceSpans[0];
    expect(attr(rs.resource?.attributes ?? [], 'service.name')).toEqual({
      stringValue: 'agent-runner',
    });
    expect(attr(rs.resource?.attributes ?? [], 'host.cpus')).toEqual({ intValue: 8n });
    const ss = rs.scopeSpans[0];
    expect(ss.scope).toMatchObject({ name: 'custodian.test', version: '0.0.1' });
    const byName = new Map(ss.spans.map((s) => [s.name, s]));
    const llm = byName.get('llm.call');
    const root = byName.get('agent.run');
    const sdkLlm = spans.find((s) => s.name === 'llm.call');
    if (llm === undefined || root === undefined || sdkLlm === undefined) throw new Error('spans');

    expect(bytesToHex(llm.traceId)).toBe(sdkLlm.spanContext().traceId);
    expect(bytesToHex(llm.spanId)).toBe(sdkLlm.spanContext().spanId);
    expect(llm.parentSpanId).toEqual(root.spanId);
    expect(root.parentSpanId).toHaveLength(0);
    expect(llm.kind).toBe(SpanKind.Client);
    expect(root.kind).toBe(SpanKind.Server);
    expect(llm.flags).toBe(0x100 | TraceFlags.SAMPLED); // HAS_IS_REMOTE, local parent
    expect(llm.startTimeUnixNano).toBe(1700000000123456789n);
    expect(llm.endTimeUnixNano).toBe(1700000001000000001n);
    expect(llm.attributes).toEqual([
      { key: 'llm.model', value: { stringValue: 'gpt-4o' } },
      { key: 'llm.tokens', value: { intValue: 1234n } },
      { key: 'llm.temperature', value: { doubleValue: 0.25 } },
      { key: 'llm.cached', value: { boolValue: true } },
      {
        key: 'tool.names',
        value: { arrayValue: { values: [{ stringValue: 'search' }, { stringValue: 'fetch' }] } },
      },
    ]);
    expect(llm.events).toEqual([
      {
        name: 'first_token',
        timeUnixNano: 1700000000500000000n,
        attributes: [{ key: 'ttft_ms', value: { doubleValue: 42.5 } }],
        droppedAttributesCount: 0,
      },
    ]);
    expect(llm.links).toEqual(
      [
        {
          traceId: Buffer.from(linked.traceId, 'hex'),
          spanId: Buffer.from(linked.spanId, 'hex'),
          traceState: '',
          attributes: [{ key: 'link.kind', value: { stringValue: 'retry-of' } }],
          droppedAttributesCount: 0,
          flags: 0x300 | TraceFlags.SAMPLED,
        },
      ].map((l) => ({
        ...l,
        traceId: new Uint8Array(l.traceId),
        spanId: new Uint8Array(l.spanId),
      })),
    );
    expect(llm.status).toEqual({ code: StatusCode.Error, message: 'rate limited' });
    expect(llm.droppedAttributesCount).toBe(0);
    await provider.shutdown();
  });

  it('decodes log records', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      resource,
      processors: [new SimpleLogRecordProcessor({ exporter })],
    });
    const logger = provider.getLogger('custodian.logger', '2.0.0');
    logger.emit({
      timestamp: [1700000000, 5],
      observedTimestamp: [1700000000, 6],
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: { message: 'tool failed', attempt: 2 },
      eventName: 'tool.failed',
      attributes: { 'tool.name': 'search', bytes: new Uint8Array([1, 2, 3]) },
    });
    await provider.forceFlush();
    const records = exporter.getFinishedLogRecords();
    const data = decodeLogsJson(JsonLogsSerializer.serializeRequest(records) as Uint8Array);
    const sl = data.resourceLogs[0].scopeLogs[0];
    expect(sl.scope).toMatchObject({ name: 'custodian.logger', version: '2.0.0' });
    expect(sl.logRecords[0]).toEqual({
      timeUnixNano: 1700000000000000005n,
      observedTimeUnixNano: 1700000000000000006n,
      severityNumber: 13,
      severityText: 'WARN',
      body: {
        kvlistValue: {
          values: [
            { key: 'message', value: { stringValue: 'tool failed' } },
            { key: 'attempt', value: { intValue: 2n } },
          ],
        },
      },
      eventName: 'tool.failed',
      attributes: [
        { key: 'tool.name', value: { stringValue: 'search' } },
        { key: 'bytes', value: { bytesValue: new Uint8Array([1, 2, 3]) } },
      ],
      droppedAttributesCount: 0,
      flags: 0,
      traceId: new Uint8Array(0),
      spanId: new Uint8Array(0),
    });
    await provider.shutdown();
  });

  it('decodes metrics of every SDK aggregation', async () => {
    class CollectingReader extends MetricReader {
      protected onShutdown(): Promise<void> {
        return Promise.resolve();
      }
      protected onForceFlush(): Promise<void> {
        return Promise.resolve();
      }
    }
    const reader = new CollectingReader();
    const provider = new MeterProvider({ resource, readers: [reader] });
    const meter = provider.getMeter('custodian.meter', '3.0.0');
    meter.createCounter('llm.tokens', { unit: '1', valueType: ValueType.INT }).add(5, { m: 'a' });
    meter.createUpDownCounter('queue.depth').add(-2.5);
    meter.createGauge('temp', { unit: 'C' }).record(21.5);
    const latency = meter.createHistogram('llm.latency', { unit: 'ms' });
    latency.record(3);
    latency.record(700);
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const data = decodeMetricsJson(
      JsonMetricsSerializer.serializeRequest(resourceMetrics) as Uint8Array,
    );
    const sm = data.resourceMetrics[0].scopeMetrics[0];
    expect(sm.scope).toMatchObject({ name: 'custodian.meter', version: '3.0.0' });
    const byName = new Map(sm.metrics.map((m) => [m.name, m]));

    const tokens = byName.get('llm.tokens');
    expect(tokens?.unit).toBe('1');
    expect(tokens?.sum).toMatchObject({ aggregationTemporality: 2, isMonotonic: true });
    expect(tokens?.sum?.dataPoints[0]).toMatchObject({
      asInt: 5n,
      attributes: [{ key: 'm', value: { stringValue: 'a' } }],
    });
    expect(tokens?.sum?.dataPoints[0].timeUnixNano).toBeGreaterThan(0n);

    expect(byName.get('queue.depth')?.sum).toMatchObject({ isMonotonic: false });
    expect(byName.get('queue.depth')?.sum?.dataPoints[0].asDouble).toBe(-2.5);
    expect(byName.get('temp')?.gauge?.dataPoints[0].asDouble).toBe(21.5);

    const h = byName.get('llm.latency')?.histogram;
    expect(h?.aggregationTemporality).toBe(2);
    const point = h?.dataPoints[0];
    expect(point).toMatchObject({ count: 2n, sum: 703, min: 3, max: 700 });
    expect(point?.explicitBounds).toEqual([
      0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000,
    ]);
    expect(point?.bucketCounts).toHaveLength(16);
    expect(point?.bucketCounts[1]).toBe(1n);
    expect(point?.bucketCounts[9]).toBe(1n);
    await provider.shutdown();
  });
});
