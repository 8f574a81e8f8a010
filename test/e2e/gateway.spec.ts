/**
 * The ingestion gateway end to end, against clients nobody here wrote — the OpenTelemetry JS
 * SDK's OTLP exporters (HTTP protobuf, HTTP JSON, gRPC) — and the real Kafka: what the client
 * is told was accepted is in Kafka, one record per partition per request, every span in the
 * partition of its trace id, the tenant in the headers. Plus the refusals: no key, wrong key,
 * wrong signal, over the rate, bad input, Kafka unavailable.
 */
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import { mintApiKey } from '@custodian/auth';
import { HEADERS, TOPICS } from '@custodian/bus';
import { ApiKeyRepository, createPrismaClient, type PrismaClient } from '@custodian/db';
import {
  decodeLogs,
  decodeMetrics,
  decodeTraces,
  encodeTraces,
  partitionOfTraceId,
  type TracesData,
} from '@custodian/otlp';
import { sendWithOtelExporter } from '../support/otel-client';
import {
  E2E_PEPPER as PEPPER,
  startGateway,
  tenantWithKey as createTenantWithKey,
  type GatewayPorts,
} from '../support/gateway-process';
import { CustodianProcess, httpJson } from '../support/custodian-process';
import { KafkaTap } from '../support/kafka-tap';
import { freePort, waitFor } from '../support/ports';

const PARTITIONS = Number(process.env.KAFKA_PARTITIONS ?? '6');

let db: PrismaClient;
let gateway: CustodianProcess;
let ports: GatewayPorts;
let currentTenant: string | undefined;
const tap = new KafkaTap(() => currentTenant);

function tenantWithKey(
  opts: { limits?: object; signals?: ('traces' | 'logs' | 'metrics')[] } = {},
) {
  return createTenantWithKey(db, opts);
}

function countLogs(value: Buffer): number {
  return decodeLogs(value).resourceLogs.reduce(
    (n, rl) => n + rl.scopeLogs.reduce((m, sl) => m + sl.logRecords.length, 0),
    0,
  );
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** All spans found in the tapped records, with the partition each record was in. */
function spansInKafka() {
  const out: {
    traceId: string;
    spanId: string;
    name: string;
    partition: number;
    service: string;
  }[] = [];
  for (const r of tap.records.filter((r) => r.topic === TOPICS.traces)) {
    const data = decodeTraces(r.value);
    for (const rs of data.resourceSpans) {
      const service =
        rs.resource?.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) {
          out.push({
            traceId: hex(s.traceId),
            spanId: hex(s.spanId),
            name: s.name,
            partition: r.partition,
            service,
          });
        }
      }
    }
  }
  return out;
}

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  ({ proc: gateway, ports } = await startGateway());
  await tap.start(['traces', 'logs', 'metrics']);
});

afterAll(async () => {
  await tap.stop();
  if (gateway) expect(await gateway.stop()).toEqual({ code: 0, signal: null });
  await db.$disconnect();
});

describe('OTLP from the OpenTelemetry JS SDK exporters lands in Kafka, by trace id', () => {
  beforeEach(() => {
    tap.records.length = 0;
  });

  it.each([
    ['OTLP/HTTP protobuf', 'http-proto' as const, () => `http://127.0.0.1:${ports.http}`],
    ['OTLP/HTTP JSON', 'http-json' as const, () => `http://127.0.0.1:${ports.http}`],
    ['OTLP/gRPC', 'grpc' as const, () => `http://127.0.0.1:${ports.grpc}`],
  ])('%s', async (name, protocol, endpoint) => {
    const { tenantId, key } = await tenantWithKey();
    currentTenant = tenantId;
    const sent = await sendWithOtelExporter(protocol, endpoint(), key, 12, {
      service: `svc-${protocol}`,
      failTool: true,
    });
    expect(sent).toMatchObject({ code: ExportResultCode.SUCCESS });
    expect(sent.sent).toHaveLength(48);

    // Everything acknowledged reaches Kafka (the producer test proves it is there before the ack).
    await tap.waitForRecords(
      () => spansInKafka().length >= sent.sent.length,
      `${sent.sent.length} spans`,
    );
    const got = spansInKafka();
    expect(got.map((s) => s.spanId).sort()).toEqual(sent.sent.map((s) => s.spanId).sort());
    expect(new Set(got.map((s) => s.service))).toEqual(new Set([`svc-${protocol}`]));
    for (const s of got) {
      expect(s.partition).toBe(partitionOfTraceId(Buffer.from(s.traceId, 'hex'), PARTITIONS));
    }
    // One record per partition per request.
    const partitions = tap.records.map((r) => r.partition);
    expect(new Set(partitions).size).toBe(partitions.length);
    for (const r of tap.records) {
      expect(r.headers[HEADERS.tenantId]).toBe(tenantId);
      expect(r.headers[HEADERS.signal]).toBe('traces');
      expect(r.headers[HEADERS.contentVersion]).toBe('1');
      expect(Number(r.headers[HEADERS.receivedAt])).toBeGreaterThan(Date.now() - 60000);
    }
    expect(name).toBeTruthy();
  });
});

describe('logs and metrics from the SDK exporters', () => {
  beforeEach(() => {
    tap.records.length = 0;
  });

  it.each([['http-proto' as const], ['http-json' as const], ['grpc' as const]])(
    'logs over %s: on otlp.logs, records of a trace in that trace’s partition',
    async (protocol) => {
      const { tenantId, key } = await tenantWithKey();
      currentTenant = tenantId;
      const endpoint =
        protocol === 'grpc' ? `http://127.0.0.1:${ports.grpc}` : `http://127.0.0.1:${ports.http}`;
      const r = await sendWithOtelExporter<{ body: string; traceId: string }>(
        protocol,
        endpoint,
        key,
        10,
        {
          signal: 'logs',
        },
      );
      expect(r.code).toBe(ExportResultCode.SUCCESS);
      const got = await tap.waitForRecords(
        (recs) =>
          recs.filter((x) => x.topic === TOPICS.logs).reduce((n, x) => n + countLogs(x.value), 0) >=
          10,
        '10 log records',
      );
      const bodies: { body: string; traceId: string; partition: number }[] = [];
      for (const rec of got.filter((x) => x.topic === TOPICS.logs)) {
        expect(rec.headers[HEADERS.signal]).toBe('logs');
        for (const rl of decodeLogs(rec.value).resourceLogs) {
          for (const sl of rl.scopeLogs) {
            for (const l of sl.logRecords) {
              bodies.push({
                body: l.body?.stringValue ?? '',
                traceId: hex(l.traceId),
                partition: rec.partition,
              });
            }
          }
        }
      }
      expect(bodies.map((b) => b.body).sort()).toEqual(r.sent.map((x) => x.body).sort());
      for (const b of bodies.filter((b) => b.traceId !== '')) {
        expect(b.partition).toBe(partitionOfTraceId(Buffer.from(b.traceId, 'hex'), PARTITIONS));
      }
      expect(bodies.filter((b) => b.traceId !== '')).toHaveLength(5);
    },
  );

  it.each([['http-proto' as const], ['http-json' as const], ['grpc' as const]])(
    'metrics over %s: on otlp.metrics with every data point',
    async (protocol) => {
      const { tenantId, key } = await tenantWithKey();
      currentTenant = tenantId;
      const endpoint =
        protocol === 'grpc' ? `http://127.0.0.1:${ports.grpc}` : `http://127.0.0.1:${ports.http}`;
      const r = await sendWithOtelExporter(protocol, endpoint, key, 7, { signal: 'metrics' });
      expect(r.code).toBe(ExportResultCode.SUCCESS);
      const got = await tap.waitForRecords(
        (recs) => recs.some((x) => x.topic === TOPICS.metrics),
        'a metrics record',
      );
      const recs = got.filter((x) => x.topic === TOPICS.metrics);
      expect(recs).toHaveLength(1);
      const names = decodeMetrics(recs[0].value).resourceMetrics.flatMap((rm) =>
        rm.scopeMetrics.flatMap((sm) =>
          sm.metrics.map(
            (m) => `${m.name}:${(m.sum ?? m.histogram ?? m.gauge)!.dataPoints.length}`,
          ),
        ),
      );
      expect(names.sort()).toEqual(['agent.llm.latency:7', 'agent.tool.calls:7']);
      expect(recs[0].headers[HEADERS.signal]).toBe('metrics');
    },
  );
});

describe('trace affinity across requests', () => {
  it('puts spans of one trace sent in different requests in one partition', async () => {
    const { tenantId, key } = await tenantWithKey();
    currentTenant = tenantId;
    tap.records.length = 0;
    const traceIds = Array.from({ length: 8 }, () => randomBytes(16).toString('hex'));
    for (let round = 0; round < 3; round++) {
      const res = await fetch(`http://127.0.0.1:${ports.http}/v1/traces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          resourceSpans: [
            {
              scopeSpans: [
                {
                  spans: traceIds.map((traceId) => ({
                    traceId,
                    spanId: randomBytes(8).toString('hex'),
                    name: `r${round}`,
                  })),
                },
              ],
            },
          ],
        }),
      });
      expect(res.status).toBe(200);
    }
    await tap.waitForRecords(() => spansInKafka().length >= 24, '24 spans');
    const byTrace = new Map<string, Set<number>>();
    for (const s of spansInKafka()) {
      if (!byTrace.has(s.traceId)) byTrace.set(s.traceId, new Set());
      byTrace.get(s.traceId)!.add(s.partition);
    }
    expect(byTrace.size).toBe(8);
    for (const parts of byTrace.values()) expect(parts.size).toBe(1);
  });
});

describe('key revocation', () => {
  it('stops a revoked key within 5 s', async () => {
    const { tenantId, key } = await tenantWithKey();
    const send = () =>
      fetch(`http://127.0.0.1:${ports.http}/v1/traces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: '{}',
      });
    expect((await send()).status).toBe(200);
    const keyId = key.split('_')[1];
    expect(await new ApiKeyRepository(db).revoke(tenantId, keyId)).toBe(true);
    const revokedAt = Date.now();
    const status = await waitFor(
      'the revoked key to be refused',
      async () => {
        const res = await send();
        return res.status === 401 ? res : undefined;
      },
      5000,
      100,
    );
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(5000);
    expect(await status.json()).toEqual({ code: 16, message: 'API key revoked' });
  });
});

describe('refusals', () => {
  const url = () => `http://127.0.0.1:${ports.http}/v1/traces`;

  it('401 without a key, and the same 401 for an unknown or wrong key', async () => {
    const none = await httpJson(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({
      code: 16,
      message: expect.stringMatching(/missing API key/),
    });
    const { key } = await tenantWithKey();
    for (const bad of [mintApiKey(PEPPER).key, key.slice(0, -2) + 'xx']) {
      const r = await httpJson(url(), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bad}` },
        body: '{}',
      });
      expect(r).toEqual({ status: 401, body: { code: 16, message: 'invalid API key' } });
    }
  });

  it('UNAUTHENTICATED over gRPC', async () => {
    const r = await sendWithOtelExporter('grpc', `http://127.0.0.1:${ports.grpc}`, undefined, 1);
    expect(r.code).toBe(ExportResultCode.FAILED);
    expect(r.error).toMatch(/missing API key/);
  });

  it('403 for a signal the key may not send', async () => {
    const { key } = await tenantWithKey({ signals: ['logs'] });
    const r = await httpJson(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: '{}',
    });
    expect(r).toEqual({
      status: 403,
      body: { code: 7, message: 'API key may not send traces (allowed: logs)' },
    });
  });

  it('429 with Retry-After once the tenant is over its rate', async () => {
    const { tenantId, key } = await tenantWithKey({
      limits: { spansPerSecond: 10, burstSeconds: 2 },
    });
    currentTenant = tenantId;
    // 5 runs = 20 spans = the whole burst.
    expect(
      await sendWithOtelExporter('http-proto', `http://127.0.0.1:${ports.http}`, key, 5),
    ).toMatchObject({
      code: ExportResultCode.SUCCESS,
    });
    const res = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: '0af7651916cd43dd8448eb211c80319c',
                    spanId: 'b7ad6b7169203331',
                    name: 'x',
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await res.json()).toMatchObject({
      code: 8,
      message: expect.stringMatching(/over its traces rate of 10 spans\/s/),
    });
    // over gRPC: RESOURCE_EXHAUSTED with google.rpc.Status { RetryInfo } in the details
    const client = new Client(`127.0.0.1:${ports.grpc}`, credentials.createInsecure());
    const md = new Metadata();
    md.set('authorization', `Bearer ${key}`);
    const body = Buffer.from(encodeTraces(oneSpanTraces('x')));
    const err = await new Promise<ServiceError | null>((resolve) =>
      client.makeUnaryRequest(
        '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        md,
        (e) => resolve(e ?? null),
      ),
    );
    client.close();
    expect(err?.code).toBe(8);
    expect(err?.details).toMatch(/over its traces rate of 10 spans\/s/);
    const [details] = err!.metadata.get('grpc-status-details-bin') as Buffer[];
    expect(details.subarray(0, 2)).toEqual(Buffer.from([0x08, 0x08])); // Status.code = 8
    expect(details.includes(Buffer.from('type.googleapis.com/google.rpc.RetryInfo'))).toBe(true);
  });

  it('400 with a google.rpc.Status for malformed protobuf and JSON, and stays up', async () => {
    const { key } = await tenantWithKey();
    const auth = { authorization: `Bearer ${key}` };
    const pb = await fetch(url(), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-protobuf' },
      body: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]),
    });
    expect(pb.status).toBe(400);
    expect(pb.headers.get('content-type')).toBe('application/x-protobuf');
    const json = await httpJson(url(), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"resourceSpans": [',
    });
    expect(json.status).toBe(400);
    expect(json.body).toMatchObject({ code: 3 });
    const badId = await httpJson(url(), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          { scopeSpans: [{ spans: [{ traceId: 'zz', spanId: 'b7ad6b7169203331' }] }] },
        ],
      }),
    });
    expect(badId.status).toBe(400);
    expect((badId.body as { message: string }).message).toMatch(/traceId/);
    // Invalid UTF-8 in a span name, and attribute values nested deeper than any client would.
    const utf8 = Buffer.from(encodeTraces(oneSpanTraces('QQ')));
    const at = utf8.indexOf('QQ');
    utf8[at] = 0xff;
    utf8[at + 1] = 0xfe;
    const bad = await fetch(url(), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-protobuf' },
      body: utf8,
    });
    expect(bad.status).toBe(400);
    let deep: unknown = { stringValue: 'x' };
    for (let i = 0; i < 200; i++) deep = { kvlistValue: { values: [{ key: 'k', value: deep }] } };
    const nested = await httpJson(url(), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: randomBytes(16).toString('hex'),
                    spanId: randomBytes(8).toString('hex'),
                    attributes: [{ key: 'deep', value: deep }],
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(nested.status).toBe(400);
    expect((nested.body as { message: string }).message).toMatch(/deep|nest/i);
    expect((await fetch(`http://127.0.0.1:${ports.ops}/readyz`)).status).toBe(200);
  });

  it('415 for an unsupported content type or encoding', async () => {
    const { key } = await tenantWithKey();
    const r = await httpJson(url(), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(r.status).toBe(415);
    const br = await httpJson(url(), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'content-encoding': 'br',
      },
      body: 'x',
    });
    expect(br.status).toBe(415);
  });

  it('413 for a body or a gzip bomb past the limit, without reading it all', async () => {
    const { key } = await tenantWithKey({ limits: { httpMaxBodyBytes: 1024 * 1024 } });
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/x-protobuf' };
    const big = await fetch(url(), {
      method: 'POST',
      headers: auth,
      body: Buffer.alloc(2 * 1024 * 1024),
    });
    expect(big.status).toBe(413);
    // 64 MiB of zeros gzip to ~64 KiB: the cap applies to the inflated size.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const r = await fetch(url(), {
      method: 'POST',
      headers: { ...auth, 'content-encoding': 'gzip' },
      body: bomb,
    });
    expect(r.status).toBe(413);
    expect((await fetch(`http://127.0.0.1:${ports.ops}/readyz`)).status).toBe(200);
  });

  it('partial success for spans with invalid ids or over the attribute cap', async () => {
    const { tenantId, key } = await tenantWithKey({ limits: { maxAttributes: 3 } });
    currentTenant = tenantId;
    tap.records.length = 0;
    const span = (traceId: string, n: number) => ({
      traceId,
      spanId: randomBytes(8).toString('hex'),
      name: 'op',
      attributes: Array.from({ length: n }, (_, i) => ({
        key: `k${i}`,
        value: { stringValue: 'v' },
      })),
    });
    const good = randomBytes(16).toString('hex');
    const r = await httpJson(url(), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [
          { scopeSpans: [{ spans: [span(good, 2), span(good, 5), span('0'.repeat(32), 1)] }] },
        ],
      }),
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      partialSuccess: {
        rejectedSpans: '2',
        errorMessage: expect.stringMatching(/^2 spans rejected: /),
      },
    });
    await tap.waitForRecords((recs) => recs.length > 0, 'the accepted span');
    expect(spansInKafka().map((s) => s.traceId)).toEqual([good]);
  });
});

describe('Kafka unavailable', () => {
  it('answers 503 with Retry-After and UNAVAILABLE, and is not ready', async () => {
    const dead = await freePort();
    const { proc: gw, ports: p } = await startGateway(
      { KAFKA_BROKERS: `127.0.0.1:${dead}`, CUSTODIAN_PRODUCE_TIMEOUT_MS: '500' },
      false,
    );
    try {
      expect((await fetch(`http://127.0.0.1:${p.ops}/readyz`)).status).toBe(503);
      const { key } = await tenantWithKey();
      const exporterBody = JSON.stringify({
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: randomBytes(16).toString('hex'),
                    spanId: randomBytes(8).toString('hex'),
                    name: 'x',
                  },
                ],
              },
            ],
          },
        ],
      });
      const res = await fetch(`http://127.0.0.1:${p.http}/v1/traces`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: exporterBody,
      });
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const r = await sendWithOtelExporter('grpc', `http://127.0.0.1:${p.grpc}`, key, 1);
      expect(r.code).toBe(ExportResultCode.FAILED);
      expect(r.error).toMatch(/Kafka/);
    } finally {
      expect(await gw.stop()).toEqual({ code: 0, signal: null });
    }
  });
});

describe('Zipkin v2 JSON', () => {
  it('converts and produces by trace id', async () => {
    const { tenantId, key } = await tenantWithKey();
    currentTenant = tenantId;
    tap.records.length = 0;
    const traceId = randomBytes(16).toString('hex');
    const spans = [
      {
        traceId,
        id: randomBytes(8).toString('hex'),
        name: 'get /api',
        kind: 'SERVER',
        timestamp: Date.now() * 1000,
        duration: 1500,
        localEndpoint: { serviceName: 'frontend' },
        tags: { 'http.method': 'GET' },
      },
      {
        traceId,
        id: randomBytes(8).toString('hex'),
        name: 'query',
        kind: 'CLIENT',
        timestamp: Date.now() * 1000,
        duration: 700,
        localEndpoint: { serviceName: 'frontend' },
        remoteEndpoint: { serviceName: 'db' },
      },
    ];
    const res = await fetch(`http://127.0.0.1:${ports.zipkin}/api/v2/spans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(spans),
    });
    expect(res.status).toBe(202);
    await tap.waitForRecords(() => spansInKafka().length >= 2, 'two zipkin spans');
    const got = spansInKafka();
    expect(got.map((s) => s.name).sort()).toEqual(['get /api', 'query']);
    expect(got.every((s) => s.traceId === traceId && s.service === 'frontend')).toBe(true);
    expect(got[0].partition).toBe(partitionOfTraceId(Buffer.from(traceId, 'hex'), PARTITIONS));
    const bad = await httpJson(`http://127.0.0.1:${ports.zipkin}/api/v2/spans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify([{ name: 'no ids' }]),
    });
    expect(bad.status).toBe(400);
  });
});

/** A TracesData of one span with a random trace id. */
function oneSpanTraces(name: string): TracesData {
  return {
    resourceSpans: [
      {
        schemaUrl: '',
        scopeSpans: [
          {
            schemaUrl: '',
            spans: [
              {
                traceId: randomBytes(16),
                spanId: randomBytes(8),
                traceState: '',
                parentSpanId: new Uint8Array(0),
                flags: 0,
                name,
                kind: 1,
                startTimeUnixNano: 1n,
                endTimeUnixNano: 2n,
                attributes: [],
                droppedAttributesCount: 0,
                events: [],
                droppedEventsCount: 0,
                links: [],
                droppedLinksCount: 0,
              },
            ],
          },
        ],
      },
    ],
  };
}
