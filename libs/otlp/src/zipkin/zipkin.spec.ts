// Specs read their golden files; the no-I/O rule guards the library's runtime code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeTracesJson, encodeTracesJson, hexToSpanId, hexToTraceId } from '../json';
import type { KeyValue, Span, TracesData } from '../model';
import { SpanKind, StatusCode } from '../model';
import { ZipkinError, decodeZipkinSpansJson, zipkinSpansToTraces } from './zipkin';

const testdata = (name: string) =>
  readFileSync(join(__dirname, '../../testdata/zipkin', name), 'utf8');

const attrs = (kvs: KeyValue[]) =>
  Object.fromEntries(
    kvs.map((kv) => [kv.key, kv.value.stringValue ?? kv.value.intValue ?? kv.value.boolValue]),
  );

const allSpans = (data: TracesData): Span[] =>
  data.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

function zipkinError(doc: unknown): ZipkinError {
  try {
    zipkinSpansToTraces(doc);
  } catch (e) {
    if (e instanceof ZipkinError) return e;
    throw e;
  }
  throw new Error('expected a ZipkinError');
}

const minimal = {
  traceId: '5af7183fb1d4cf5f',
  id: '352bff9a74ca9ad2',
  timestamp: 1556604172355737,
};

describe('Zipkin v2 JSON → OTLP', () => {
  it('converts spans shaped like Brave / zipkin-js instrumentation', () => {
    const data = decodeZipkinSpansJson(testdata('brave.json'));
    // Grouped by local service after a stable sort: sentinel (no service), backend, frontend.
    expect(data.resourceSpans.map((rs) => attrs(rs.resource?.attributes ?? []))).toEqual([
      {},
      { 'service.name': 'backend' },
      { 'service.name': 'frontend' },
    ]);
    const [[render], [backend], [client, root]] = data.resourceSpans.map(
      (rs) => rs.scopeSpans[0].spans,
    );

    expect(client.traceId).toEqual(hexToTraceId('00000000000000005af7183fb1d4cf5f'));
    expect(client.spanId).toEqual(hexToSpanId('352bff9a74ca9ad2'));
    expect(client.parentSpanId).toEqual(hexToSpanId('6b221d5bc9e6496c'));
    expect(client.kind).toBe(SpanKind.Client);
    expect(client.startTimeUnixNano).toBe(1556604172355737000n);
    expect(client.endTimeUnixNano).toBe(1556604172356123000n);
    expect(attrs(client.attributes)).toEqual({
      'http.method': 'GET',
      'http.path': '/api',
      'http.status_code': '500',
      error: '500', // only error="true" sets the status, as in the Collector
      'net.host.ip': '192.168.99.1',
      'net.host.port': 8080n,
      'peer.service': 'backend',
      'net.peer.ip': '172.19.0.2',
      'net.peer.port': 9000n,
    });
    expect(client.status).toBeUndefined();
    expect(client.events).toEqual([
      { timeUnixNano: 1556604172355900000n, name: 'ws', attributes: [], droppedAttributesCount: 0 },
      { timeUnixNano: 1556604172356100000n, name: 'wr', attributes: [], droppedAttributesCount: 0 },
    ]);

    expect(backend.kind).toBe(SpanKind.Server);
    expect(attrs(backend.attributes)).toMatchObject({
      'net.host.ip': '2001:db8::1',
      'net.peer.ip': '192.168.99.1',
      'net.peer.port': 58648n,
    });
    expect(root.parentSpanId).toHaveLength(0);
    expect(attrs(root.attributes)['net.peer.ip']).toBe('::1');

    expect(render.kind).toBe(SpanKind.Internal);
    expect(render.startTimeUnixNano).toBe(0n);
    expect(render.endTimeUnixNano).toBe(120000n);
    expect(attrs(render.attributes)).toEqual({
      lc: '',
      'otel.zipkin.absentField.startTime': true,
    });
  });

  it('restores what the Collector zipkin exporter wrote', () => {
    const data = decodeZipkinSpansJson(testdata('collector-exporter.json'), {
      parseStringTags: true,
    });
    const [agent, fn] = data.resourceSpans;
    expect(attrs(agent.resource?.attributes ?? [])).toEqual({
      'service.name': 'agent-runner',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.name': 'opentelemetry',
      'host.name': 'worker-7',
    });
    expect(agent.scopeSpans.map((ss) => ss.scope?.name)).toEqual([
      'custodian.agent',
      'custodian.tools',
    ]);
    expect(agent.scopeSpans[0].scope?.version).toBe('1.4.0');
    const [run, llm] = agent.scopeSpans[0].spans;
    expect(run.traceId).toEqual(hexToTraceId('4bf92f3577b34da6a3ce929d0e0e4736'));
    expect(run.traceState).toBe('congo=t61rcWkgMzE');
    expect(run.status).toEqual({ code: StatusCode.Error, message: 'tool timeout' });
    expect(attrs(run.attributes)).toEqual({ run_id: 'r-42', 'net.host.ip': '10.1.2.3' });
    expect(run.links).toEqual([
      {
        traceId: hexToTraceId('0af7651916cd43dd8448eb211c80319c'),
        spanId: hexToSpanId('b7ad6b7169203331'),
        traceState: 'k=v',
        attributes: [
          { key: 'link.kind', value: { stringValue: 'retry-of' } },
          { key: 'attempt', value: { intValue: 2n } },
        ],
        droppedAttributesCount: 1,
        flags: 0,
      },
    ]);
    expect(run.events[0]).toEqual({
      timeUnixNano: 1700000000100000000n,
      name: 'first_token',
      attributes: [
        { key: 'ttft_ms', value: { doubleValue: 42.5 } },
        { key: 'cached', value: { boolValue: false } },
        { key: 'model', value: { stringValue: 'gpt|4o' } },
      ],
      droppedAttributesCount: 3,
    });
    expect(llm.status).toEqual({ code: StatusCode.Ok, message: '' });
    expect(llm.attributes.slice(0, 4)).toEqual([
      { key: 'llm.model', value: { stringValue: 'gpt-4o' } },
      { key: 'llm.tokens', value: { intValue: 1234n } },
      { key: 'llm.temperature', value: { doubleValue: 0.2 } },
      { key: 'llm.cached', value: { boolValue: false } },
    ]);
    expect(attrs(llm.attributes)['net.peer.ip']).toBe('2606:4700::6810:85e5');
    expect(agent.scopeSpans[1].spans[0].kind).toBe(SpanKind.Internal);
    // otlp.service.name.source names the resource key that holds the local service name.
    expect(attrs(fn.resource?.attributes ?? [])).toEqual({ 'faas.name': 'my-function' });
    expect(fn.scopeSpans[0].spans[0].kind).toBe(SpanKind.Producer);
  });

  it.each([
    ['brave.json', {}],
    ['collector-exporter.json', { parseStringTags: true }],
  ])('matches the golden OTLP output of %s', (name, options) => {
    const data = decodeZipkinSpansJson(testdata(name), options);
    const golden = testdata(name.replace('.json', '.otlp.json'));
    expect(decodeTracesJson(encodeTracesJson(data))).toEqual(decodeTracesJson(golden));
    expect(JSON.parse(encodeTracesJson(data))).toEqual(JSON.parse(golden));
  });

  it('keeps tags as strings unless parseStringTags is on', () => {
    const doc = [
      { ...minimal, tags: { n: '42', d: '1.5', b: 'true', s: '1e3', big: '99999999999999999999' } },
    ];
    expect(allSpans(zipkinSpansToTraces(doc))[0].attributes.map((a) => a.value)).toEqual([
      { stringValue: '42' },
      { stringValue: '1.5' },
      { stringValue: 'true' },
      { stringValue: '1e3' },
      { stringValue: '99999999999999999999' },
    ]);
    const typed = allSpans(zipkinSpansToTraces(doc, { parseStringTags: true }))[0].attributes;
    expect(typed.map((a) => a.value)).toEqual([
      { intValue: 42n },
      { doubleValue: 1.5 },
      { boolValue: true },
      { stringValue: '1e3' },
      { intValue: 2n ** 63n - 1n },
    ]);
  });

  it('left-pads 64-bit and short ids (property)', () => {
    const hex = (max: number) =>
      fc
        .string({
          unit: fc.constantFrom(...'0123456789abcdefABCDEF'),
          minLength: 1,
          maxLength: max,
        })
        .filter((s) => /[1-9a-f]/i.test(s));
    fc.assert(
      fc.property(hex(32), hex(16), (traceId, id) => {
        const [span] = allSpans(zipkinSpansToTraces([{ traceId, id }]));
        expect(Buffer.from(span.traceId).toString('hex')).toBe(
          traceId.toLowerCase().padStart(32, '0'),
        );
        expect(Buffer.from(span.spanId).toString('hex')).toBe(id.toLowerCase().padStart(16, '0'));
      }),
    );
  });

  it('skips null elements and accepts an empty array', () => {
    expect(zipkinSpansToTraces([])).toEqual({ resourceSpans: [] });
    expect(allSpans(zipkinSpansToTraces([null, minimal]))).toHaveLength(1);
    expect(
      allSpans(zipkinSpansToTraces([{ ...minimal, parentId: minimal.id }]))[0].parentSpanId,
    ).toHaveLength(0);
  });

  it.each([
    [{ id: '1' }, 'spans[0].traceId: is required'],
    [{ traceId: '0', id: '1' }, 'spans[0].traceId: must not be all zeros'],
    [{ traceId: 'x'.repeat(16), id: '1' }, 'spans[0].traceId: expected 1 to 32 hex characters'],
    [{ traceId: 'a'.repeat(33), id: '1' }, 'spans[0].traceId: expected 1 to 32 hex characters'],
    [{ traceId: 12, id: '1' }, 'spans[0].traceId: expected 1 to 32 hex characters'],
    [{ traceId: '1' }, 'spans[0].id: is required'],
    [{ traceId: '1', id: '0000000000000000' }, 'spans[0].id: must not be all zeros'],
    [{ traceId: '1', id: 'a'.repeat(17) }, 'spans[0].id: expected 1 to 16 hex characters'],
    [{ ...minimal, parentId: 'zz' }, 'spans[0].parentId: expected 1 to 16 hex characters'],
    [{ ...minimal, name: 5 }, 'spans[0].name: expected a string'],
    [
      { ...minimal, timestamp: '1' },
      'spans[0].timestamp: expected a non-negative integer (microseconds)',
    ],
    [
      { ...minimal, duration: 1.5 },
      'spans[0].duration: expected a non-negative integer (microseconds)',
    ],
    [{ ...minimal, shared: 'yes' }, 'spans[0].shared: expected true or false'],
    [{ ...minimal, tags: { a: 1 } }, 'spans[0].tags.a: expected a string'],
    [{ ...minimal, tags: [] }, 'spans[0].tags: expected an object'],
    [{ ...minimal, annotations: {} }, 'spans[0].annotations: expected an array'],
    [
      { ...minimal, annotations: [{ timestamp: 1, value: 'a' }, { timestamp: -1 }] },
      'spans[0].annotations[1].timestamp: expected a non-negative integer (microseconds)',
    ],
    [
      { ...minimal, localEndpoint: { ipv4: '300.1.1.1' } },
      'spans[0].localEndpoint.ipv4: invalid IP address "300.1.1.1"',
    ],
    [
      { ...minimal, remoteEndpoint: { port: '80' } },
      'spans[0].remoteEndpoint.port: expected an integer',
    ],
    [
      { ...minimal, tags: { 'otlp.link.0': 'zz|b7ad6b7169203331||{}|0' } },
      'spans[0].tags.otlp.link.0: invalid link id "zz"',
    ],
    [
      { ...minimal, annotations: [{ timestamp: 1, value: 'ev|{bad|0' }] },
      'spans[0].annotations[0].value: invalid JSON attributes',
    ],
  ])('rejects %j', (span, message) => {
    const err = zipkinError([span]);
    expect(err.message).toBe(message);
    expect(err.spanIndex).toBe(0);
  });

  it('names the index of the bad span and rejects documents that are not span arrays', () => {
    const err = zipkinError([minimal, minimal, { ...minimal, kind: 7 }]);
    expect(err).toMatchObject({ spanIndex: 2, field: 'kind' });
    expect(zipkinError({ spans: [] }).message).toBe('expected a JSON array of spans');
    expect(zipkinError([minimal, 'x']).message).toBe('spans[1]: expected a span object');
    expect(() => decodeZipkinSpansJson('[')).toThrow(/^invalid JSON/);
    expect(() => decodeZipkinSpansJson(new Uint8Array([0x5b, 0xc3, 0x5d]))).toThrow(
      'invalid UTF-8',
    );
  });
});
