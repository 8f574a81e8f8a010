/**
 * Byte-for-byte interop with the OpenTelemetry JS exporters: what @opentelemetry/otlp-transformer
 * serializes from real SDK data (exactly what the OTLP/protobuf exporters put on the wire) must
 * decode with our decoder and re-encode with our encoder to the identical bytes.
 */
import {
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import type { AnyValue } from '../model';
import { decodeLogs, encodeLogs } from './logs';
import { decodeMetrics, encodeMetrics } from './metrics';
import { decodeExportResponse, encodeExportResponse } from './responses';
import { goldenSpans, richSpans, sdkLogRecords, sdkResourceMetrics } from './sdk-fixtures';
import { decodeTraces, encodeTraces } from './traces';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function attr(attrs: { key: string; value: AnyValue }[], key: string): AnyValue | undefined {
  return attrs.find((a) => a.key === key)?.value;
}

describe('interop with @opentelemetry/otlp-transformer (the OTel JS OTLP exporters)', () => {
  it('traces: decode → encode reproduces the exporter bytes exactly', () => {
    for (const spans of [goldenSpans(), richSpans()]) {
      const wire = ProtobufTraceSerializer.serializeRequest(spans)!;
      const data = decodeTraces(wire);
      expect(hex(encodeTraces(data))).toBe(hex(wire));
    }
  });

  it('traces: decoded values are the SDK values', () => {
    const spans = richSpans();
    const data = decodeTraces(ProtobufTraceSerializer.serializeRequest(spans)!);
    expect(data.resourceSpans).toHaveLength(2);
    const all = data.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    expect(all).toHaveLength(spans.length);
    const byName = new Map(all.map((s) => [s.name, s]));

    const root = byName.get('GET /cart')!;
    const sdkRoot = spans.find((s) => s.name === 'GET /cart')!;
    expect(hex(root.traceId)).toBe(sdkRoot.spanContext().traceId);
    expect(hex(root.spanId)).toBe(sdkRoot.spanContext().spanId);
    expect(hex(root.parentSpanId)).toBe('b7ad6b7169203331');
    expect(root.traceState).toBe('vendor=abc,other=1');
    expect(root.flags).toBe(0x301); // sampled | has_is_remote | is_remote
    expect(root.kind).toBe(2);
    expect(attr(root.attributes, 'http.big')).toEqual({ intValue: 2n ** 60n });
    expect(attr(root.attributes, 'neg.int')).toEqual({ intValue: -42n });
    expect(attr(root.attributes, 'float.v')).toEqual({ doubleValue: -0.125 });
    expect(attr(root.attributes, 'inf.v')).toEqual({ doubleValue: Number.POSITIVE_INFINITY });
    expect(attr(root.attributes, 'nan.v')?.doubleValue).toBeNaN();
    expect(attr(root.attributes, 'emoji.str')).toEqual({ stringValue: 'ok 👍🏽 — fine' });
    expect(attr(root.attributes, 'bool.f')).toEqual({ boolValue: false });
    expect(attr(root.attributes, 'arr.empty')).toEqual({ arrayValue: { values: [] } });
    expect(attr(root.attributes, 'arr.num')).toEqual({
      arrayValue: { values: [{ intValue: 1n }, { doubleValue: 2.5 }, { intValue: -3n }] },
    });

    const q5 = byName.get('query 5')!;
    expect(q5.droppedAttributesCount).toBe(9); // 3 set at start + 30 more, limit 24
    expect(q5.links).toHaveLength(0);
    const q0 = byName.get('query 0')!;
    expect(hex(q0.links[0].spanId)).toBe(sdkRoot.spanContext().spanId);
    expect(q0.events.map((e) => e.name)).toEqual(['fetch', 'no-attrs']);
    expect(byName.get('query 3')!.events[2].name).toBe('exception');
    expect(byName.get('query 4')!.status).toEqual({ message: '', code: 1 });

    const res = data.resourceSpans[0].resource!;
    expect(attr(res.attributes, 'é.ключ')).toEqual({ stringValue: 'значение ✓' });
    expect(attr(res.attributes, 'host.cores')).toEqual({ intValue: 8n });
    // Grouped by scope in the order spans finished (the root ends last).
    expect(data.resourceSpans[0].scopeSpans.map((s) => s.scope?.name)).toEqual(['db', 'http']);
    expect(data.resourceSpans[0].scopeSpans[1].schemaUrl).toBe('https://example.com/s/1');
    expect(data.resourceSpans[0].scopeSpans[1].scope?.version).toBe('0.9.1');
  });

  it('logs: decode → encode reproduces the exporter bytes exactly', () => {
    const records = sdkLogRecords();
    const wire = ProtobufLogsSerializer.serializeRequest(records)!;
    const data = decodeLogs(wire);
    expect(hex(encodeLogs(data))).toBe(hex(wire));

    const logs = data.resourceLogs[0].scopeLogs.flatMap((s) => s.logRecords);
    expect(logs).toHaveLength(4);
    expect(hex(logs[0].traceId)).toBe('5b8efff798038103d269b633813fc60c');
    expect(hex(logs[0].spanId)).toBe('eee19b7ec3c1b174');
    expect(logs[0].flags).toBe(1);
    expect(logs[0].severityNumber).toBe(9);
    expect(logs[0].body).toEqual({ stringValue: 'tool call finished' });
    expect(logs[1].eventName).toBe('agent.failure');
    expect(logs[1].traceId).toHaveLength(0);
    expect(logs[1].body).toEqual({
      kvlistValue: {
        values: [
          { key: 'kind', value: { stringValue: 'structured' } },
          { key: 'n', value: { intValue: 3n } },
          {
            key: 'list',
            value: { arrayValue: { values: [{ intValue: 1n }, { stringValue: 'two' }] } },
          },
          {
            key: 'nested',
            value: { kvlistValue: { values: [{ key: 'ok', value: { boolValue: false } }] } },
          },
        ],
      },
    });
    expect(attr(logs[3].attributes, 'bytes.v')).toEqual({
      bytesValue: Uint8Array.from([0, 1, 255]),
    });
  });

  it('metrics: decode → encode reproduces the exporter bytes exactly, every instrument type', async () => {
    const rm = await sdkResourceMetrics();
    const wire = ProtobufMetricsSerializer.serializeRequest(rm)!;
    const data = decodeMetrics(wire);
    expect(hex(encodeMetrics(data))).toBe(hex(wire));

    const metrics = new Map(
      data.resourceMetrics[0].scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.name, m]),
    );
    expect(metrics.get('spans.received')!.sum!.isMonotonic).toBe(true);
    expect(metrics.get('spans.received')!.sum!.dataPoints.map((d) => d.asDouble)).toEqual([10, 5]);
    expect(metrics.get('bytes.int')!.sum!.dataPoints[0].asInt).toBe(1234567890123n);
    expect(metrics.get('inflight')!.sum!.dataPoints[0].asInt).toBe(-3n);
    const h = metrics.get('latency')!.histogram!.dataPoints[0];
    expect(h.count).toBe(4n);
    expect(h.explicitBounds).toEqual([1, 5, 25]);
    expect(h.bucketCounts).toEqual([1n, 2n, 0n, 1n]);
    expect([h.min, h.max, h.sum]).toEqual([0.5, 40, 46.5]);
    const e = metrics.get('exp.size')!.exponentialHistogram!.dataPoints[0];
    expect(e.count).toBe(6n);
    expect(e.zeroCount).toBe(2n);
    expect(e.positive!.bucketCounts.reduce((a, b) => a + b, 0n)).toBe(4n);
    expect(metrics.get('queue.depth')!.gauge!.dataPoints[0].asDouble).toBe(7.25);
    expect(metrics.get('temp')!.gauge!.dataPoints[0].asInt).toBe(-12n);
  });

  it('export responses: the exporters read back what we encode', () => {
    const bytes = encodeExportResponse('traces', {
      rejected: 7n,
      errorMessage: 'invalid trace id',
    });
    expect(ProtobufTraceSerializer.deserializeResponse(bytes)).toEqual({
      partialSuccess: { rejectedSpans: 7, errorMessage: 'invalid trace id' },
    });
    expect(ProtobufLogsSerializer.deserializeResponse(encodeExportResponse('logs'))).toEqual({});
    expect(
      ProtobufMetricsSerializer.deserializeResponse(
        encodeExportResponse('metrics', { rejected: 2n, errorMessage: '' }),
      ),
    ).toEqual({ partialSuccess: { rejectedDataPoints: 2 } });
    expect(decodeExportResponse('traces', bytes)).toEqual({
      partialSuccess: { rejected: 7n, errorMessage: 'invalid trace id' },
    });
  });
});
