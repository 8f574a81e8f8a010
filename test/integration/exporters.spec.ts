/**
 * Sink exporters against real peers: the Zipkin server (a backend nobody here wrote) stores
 * what the Zipkin exporter sends, readable back through Zipkin's own API; and the error
 * classification the delivery layer relies on (retryable with the server's delay, or
 * permanent) over real HTTP and gRPC connections.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import {
  Metadata,
  Server as GrpcServer,
  ServerCredentials,
  status,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  ExportError,
  OtlpGrpcExporter,
  OtlpHttpExporter,
  ZipkinExporter,
} from '@custodian/exporters';
import type { TracesData } from '@custodian/otlp';
import { freePort, waitFor } from '../support/ports';

function trace(): { data: TracesData; traceId: string; rootId: string; childId: string } {
  const traceId = randomBytes(16);
  const rootId = randomBytes(8);
  const childId = randomBytes(8);
  const now = BigInt(Date.now()) * 1_000_000n;
  const span = (
    id: Buffer,
    parent: Uint8Array,
    name: string,
    kind: number,
    status?: { code: number; message: string },
  ) => ({
    traceId,
    spanId: id,
    traceState: '',
    parentSpanId: parent,
    flags: 1,
    name,
    kind,
    startTimeUnixNano: now,
    endTimeUnixNano: now + 2_500_000n,
    attributes: [
      { key: 'run_id', value: { stringValue: 'run-42' } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: 1234n } },
    ],
    droppedAttributesCount: 0,
    events: [
      { timeUnixNano: now + 1000n, name: 'retry', attributes: [], droppedAttributesCount: 0 },
    ],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status,
  });
  return {
    traceId: traceId.toString('hex'),
    rootId: rootId.toString('hex'),
    childId: childId.toString('hex'),
    data: {
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'agent-svc' } },
              { key: 'deployment.environment', value: { stringValue: 'test' } },
            ],
            droppedAttributesCount: 0,
          },
          schemaUrl: '',
          scopeSpans: [
            {
              scope: {
                name: 'custodian-test',
                version: '1.2.3',
                attributes: [],
                droppedAttributesCount: 0,
              },
              schemaUrl: '',
              spans: [
                span(rootId, new Uint8Array(0), 'agent.run', 2),
                span(childId, rootId, 'execute_tool search', 3, {
                  code: 2,
                  message: 'tool timed out',
                }),
              ],
            },
          ],
        },
      ],
    },
  };
}

describe('ZipkinExporter → the real Zipkin server', () => {
  it('stores the trace so that Zipkin itself returns it, with the Collector-style mapping', async () => {
    const zipkinUrl = process.env.ZIPKIN_URL!;
    const t = trace();
    const exporter = new ZipkinExporter({ endpoint: zipkinUrl });
    expect(
      await exporter.export({
        signal: 'traces',
        protobuf: new Uint8Array(0),
        data: t.data,
        items: 2,
      }),
    ).toEqual({ rejected: 0 });
    await exporter.close();
    const spans = await waitFor('zipkin to index the trace', async () => {
      const res = await fetch(`${zipkinUrl}/api/v2/trace/${t.traceId}`);
      if (res.status !== 200) return undefined;
      const body = (await res.json()) as Record<string, unknown>[];
      return body.length === 2 ? body : undefined;
    });
    const byId = new Map(spans.map((s) => [s.id as string, s]));
    expect(byId.get(t.rootId)).toMatchObject({
      traceId: t.traceId,
      name: 'agent.run',
      kind: 'SERVER',
      duration: 2500,
      localEndpoint: { serviceName: 'agent-svc' },
      tags: {
        run_id: 'run-42',
        'gen_ai.usage.input_tokens': '1234',
        'deployment.environment': 'test',
        'otel.scope.name': 'custodian-test',
      },
      annotations: [{ value: 'retry', timestamp: expect.any(Number) }],
    });
    expect(byId.get(t.childId)).toMatchObject({
      parentId: t.rootId,
      name: 'execute_tool search',
      kind: 'CLIENT',
      tags: { 'otel.status_code': 'ERROR', error: 'tool timed out' },
    });
  });

  it('fails retryably when the server is unreachable', async () => {
    const exporter = new ZipkinExporter({
      endpoint: `http://127.0.0.1:${await freePort()}`,
      timeoutMs: 1000,
    });
    const err = await exporter
      .export({ signal: 'traces', protobuf: new Uint8Array(0), data: trace().data, items: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExportError);
    expect((err as ExportError).retryable).toBe(true);
    await exporter.close();
  });
});

describe('OTLP/HTTP exporter error classification over real HTTP', () => {
  let server: Server;
  let port: number;
  let reply: { status: number; headers?: Record<string, string>; body?: string | Buffer } = {
    status: 200,
  };
  const seen: { path: string; headers: Record<string, unknown>; bytes: number }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', headers: req.headers, bytes });
        res.writeHead(reply.status, reply.headers).end(reply.body);
      });
    });
    port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const batch = { signal: 'traces' as const, protobuf: Buffer.from([0x0a, 0x00]), items: 1 };

  it('sends gzip protobuf to /v1/<signal> with the configured headers and reads partial success', async () => {
    // partial_success { rejected_spans: 3, error_message: "bad" }
    reply = {
      status: 200,
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from([0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, 0x62, 0x61, 0x64]),
    };
    const e = new OtlpHttpExporter({
      endpoint: `http://127.0.0.1:${port}/tempo`,
      headers: { 'X-Scope-OrgID': 'acme' },
    });
    expect(await e.export(batch)).toEqual({ rejected: 3, message: 'bad' });
    const last = seen[seen.length - 1];
    expect(last.path).toBe('/tempo/v1/traces');
    expect(last.headers).toMatchObject({
      'x-scope-orgid': 'acme',
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
    });
    await e.close();
  });

  it.each([
    [429, { 'retry-after': '7' }, true, 7000],
    [503, {}, true, undefined],
    [502, {}, true, undefined],
    [400, {}, false, undefined],
    [401, {}, false, undefined],
    [413, {}, false, undefined],
    [500, {}, false, undefined],
  ])('HTTP %i → retryable=%p', async (code, headers, retryable, delay) => {
    reply = { status: code, headers: headers as Record<string, string>, body: 'nope' };
    const e = new OtlpHttpExporter({ endpoint: `http://127.0.0.1:${port}` });
    const err = (await e.export(batch).catch((x: unknown) => x)) as ExportError;
    expect(err).toBeInstanceOf(ExportError);
    expect([err.retryable, err.retryAfterMs]).toEqual([retryable, delay]);
    expect(err.message).toContain(`HTTP ${code}`);
    await e.close();
  });
});

describe('OTLP/gRPC exporter over a real gRPC connection', () => {
  it('passes bytes and metadata through, and classifies UNAVAILABLE and RESOURCE_EXHAUSTED', async () => {
    const server = new GrpcServer();
    const got: { bytes: number; auth: unknown }[] = [];
    let next: { code: number; retryInfo?: boolean } | null = null;
    server.addService(
      {
        Export: {
          path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      {
        Export: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
          got.push({ bytes: call.request.length, auth: call.metadata.get('api-key')[0] });
          if (!next) return cb(null, Buffer.alloc(0));
          const md = new Metadata();
          if (next.retryInfo) {
            // google.rpc.Status{details:[Any{type_url, RetryInfo{retry_delay{seconds:3}}}]}
            const typeUrl = Buffer.from('type.googleapis.com/google.rpc.RetryInfo');
            const retryInfo = Buffer.from([0x0a, 0x02, 0x08, 0x03]);
            const any = Buffer.concat([
              Buffer.from([0x0a, typeUrl.length]),
              typeUrl,
              Buffer.from([0x12, retryInfo.length]),
              retryInfo,
            ]);
            md.set(
              'grpc-status-details-bin',
              Buffer.concat([Buffer.from([0x1a, any.length]), any]),
            );
          }
          cb({ code: next.code, details: 'busy', metadata: md });
        },
      },
    );
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? rej(e) : res(p),
      ),
    );
    const e = new OtlpGrpcExporter({
      endpoint: `http://127.0.0.1:${port}`,
      headers: { 'api-key': 'secret' },
    });
    const batch = { signal: 'traces' as const, protobuf: Buffer.alloc(100, 1), items: 1 };
    expect(await e.export(batch)).toEqual({ rejected: 0 });
    expect(got[0]).toEqual({ bytes: 100, auth: 'secret' });
    next = { code: status.UNAVAILABLE };
    expect(await e.export(batch).catch((x: ExportError) => [x.retryable, x.retryAfterMs])).toEqual([
      true,
      undefined,
    ]);
    next = { code: status.RESOURCE_EXHAUSTED };
    expect(await e.export(batch).catch((x: ExportError) => x.retryable)).toBe(false);
    next = { code: status.RESOURCE_EXHAUSTED, retryInfo: true };
    expect(await e.export(batch).catch((x: ExportError) => [x.retryable, x.retryAfterMs])).toEqual([
      true,
      3000,
    ]);
    next = { code: status.INVALID_ARGUMENT };
    expect(await e.export(batch).catch((x: ExportError) => x.retryable)).toBe(false);
    await e.close();
    server.forceShutdown();
  });
});
