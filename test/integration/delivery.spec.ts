/**
 * SinkDelivery against real Redis (BullMQ queues, dead letters) and real sinks: the Zipkin
 * server for the happy path, and local node:http OTLP endpoints whose answers the tests script
 * (503, 429 + Retry-After, 400) for the failure paths (issue #5 item 5).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { OtlpHttpExporter, ZipkinExporter, type SinkExporter } from '@custodian/exporters';
import { decodeTraces, encodeTraces, type TracesData } from '@custodian/otlp';
import {
  DeadLetterControl,
  SinkBatcher,
  SinkDelivery,
  type DeliveryConfig,
} from '@custodian/delivery';
import { waitFor } from '../support/ports';

type Answer = { status: number; headers?: Record<string, string> };

/** An OTLP/HTTP sink whose answers a test scripts; it records the span ids it accepted. */
class ScriptedSink {
  answer: Answer = { status: 200 };
  readonly accepted: { at: number; spanIds: string[] }[] = [];
  readonly attempts: { at: number; status: number }[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { status, headers } = this.answer;
        this.attempts.push({ at: Date.now(), status });
        if (status === 200) {
          const data = decodeTraces(Buffer.concat(chunks));
          this.accepted.push({ at: Date.now(), spanIds: spanIds(data) });
          res.writeHead(200, { 'content-type': 'application/x-protobuf' });
          res.end();
          return;
        }
        res.writeHead(status, headers);
        res.end('scripted failure');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  exporter(): SinkExporter {
    return new OtlpHttpExporter({ endpoint: this.url, compression: 'none', timeoutMs: 2000 });
  }

  acceptedSpanIds(): string[] {
    return this.accepted.flatMap((a) => a.spanIds);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

function spanIds(data: TracesData): string[] {
  return data.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => Buffer.from(s.spanId).toString('hex'))),
  );
}

function traces(n: number, service = 'agent-svc'): TracesData {
  const traceId = randomBytes(16);
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: service } }],
          droppedAttributesCount: 0,
        },
        schemaUrl: '',
        scopeSpans: [
          {
            scope: {
              name: 'delivery-test',
              version: '1',
              attributes: [],
              droppedAttributesCount: 0,
            },
            schemaUrl: '',
            spans: Array.from({ length: n }, (_, i) => ({
              traceId,
              spanId: randomBytes(8),
              traceState: '',
              parentSpanId: new Uint8Array(0),
              flags: 1,
              name: `span-${i}`,
              kind: 2,
              startTimeUnixNano: now,
              endTimeUnixNano: now + 1_000_000n,
              attributes: [],
              droppedAttributesCount: 0,
              events: [],
              droppedEventsCount: 0,
              links: [],
              droppedLinksCount: 0,
            })),
          },
        ],
      },
    ],
  };
}

function batchOf(data: TracesData) {
  return {
    signal: 'traces' as const,
    protobuf: encodeTraces(data),
    data,
    items: spanIds(data).length,
  };
}

const redisUrl = process.env.REDIS_URL!;
const FAST: Partial<DeliveryConfig> = {
  initialBackoffMs: 100,
  maxBackoffMs: 400,
  jitter: 0.2,
  firstAttemptTimeoutMs: 1000,
  retryAttemptTimeoutMs: 1000,
  closeTimeoutMs: 2000,
};

describe('SinkDelivery (real Redis)', () => {
  let prefix: string;
  let sinks: Map<string, SinkExporter>;
  let open: SinkDelivery[];
  let servers: ScriptedSink[];

  const make = (config: Partial<DeliveryConfig> = {}): SinkDelivery => {
    const d = new SinkDelivery({
      redisUrl,
      registry: new Registry(),
      resolveSink: async (t, s) => sinks.get(`${t}/${s}`),
      config: { ...FAST, keyPrefix: prefix, ...config },
    });
    open.push(d);
    return d;
  };
  const sinkServer = async () => {
    const s = await new ScriptedSink().start();
    servers.push(s);
    return s;
  };

  beforeEach(() => {
    prefix = `cdtest-${randomUUID().slice(0, 8)}`;
    sinks = new Map();
    open = [];
    servers = [];
  });

  afterEach(async () => {
    for (const d of open) await d.close();
    for (const s of servers) await s.close();
    for (const e of sinks.values()) await e.close();
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('exports to the real Zipkin server once and reports exported', async () => {
    const zipkinUrl = process.env.ZIPKIN_URL!;
    const exporter = new ZipkinExporter({ endpoint: zipkinUrl });
    sinks.set('t1/zipkin', exporter);
    const delivery = make();
    const data = traces(3);
    const traceId = Buffer.from(data.resourceSpans[0].scopeSpans[0].spans[0].traceId).toString(
      'hex',
    );
    expect(
      await delivery.deliver({ tenantId: 't1', sinkId: 'zipkin', exporter }, batchOf(data)),
    ).toEqual({
      outcome: 'exported',
      rejected: 0,
    });
    const stored = await waitFor('zipkin to index the trace', async () => {
      const res = await fetch(`${zipkinUrl}/api/v2/trace/${traceId}`);
      if (res.status !== 200) return undefined;
      const body = (await res.json()) as { id: string }[];
      return body.length === 3 ? body : undefined;
    });
    expect(stored.map((s) => s.id).sort()).toEqual(spanIds(data).sort());
    expect(await delivery.retryQueueDepth('t1', 'zipkin')).toBe(0);
    expect((await delivery.listDeadLetters('t1', 'zipkin')).entries).toEqual([]);
  });

  it('queues a batch the sink refuses with 503, then delivers exactly its spans once the sink recovers', async () => {
    const sink = await sinkServer();
    sink.answer = { status: 503 };
    const exporter = sink.exporter();
    sinks.set('t1/s1', exporter);
    const delivery = make({ initialBackoffMs: 300 });
    const data = traces(5);
    const result = await delivery.deliver(
      { tenantId: 't1', sinkId: 's1', exporter },
      batchOf(data),
    );
    expect(result.outcome).toBe('queued_retry');
    expect(await delivery.retryQueueDepth('t1', 's1')).toBe(1);
    sink.answer = { status: 200 };
    await waitFor(
      'the retry to deliver',
      () => (sink.accepted.length > 0 ? true : undefined),
      10_000,
      50,
    );
    expect(sink.acceptedSpanIds().sort()).toEqual(spanIds(data).sort());
    await waitFor('the queue to drain', async () =>
      (await delivery.retryQueueDepth('t1', 's1')) === 0 ? true : undefined,
    );
  });

  it("honours the sink's Retry-After", async () => {
    const sink = await sinkServer();
    sink.answer = { status: 429, headers: { 'retry-after': '2' } };
    const exporter = sink.exporter();
    sinks.set('t1/s1', exporter);
    const delivery = make({ initialBackoffMs: 50, maxBackoffMs: 100 });
    const result = await delivery.deliver(
      { tenantId: 't1', sinkId: 's1', exporter },
      batchOf(traces(2)),
    );
    expect(result.outcome).toBe('queued_retry');
    const refusedAt = sink.attempts[0].at;
    sink.answer = { status: 200 };
    await waitFor('the retry', () => (sink.accepted.length > 0 ? true : undefined), 10_000, 50);
    expect(sink.attempts).toHaveLength(2);
    expect(sink.attempts[1].at - refusedAt).toBeGreaterThanOrEqual(2000);
  });

  it('dead-letters a 400 at once; lists it for its tenant only; redrives and purges', async () => {
    const sink = await sinkServer();
    sink.answer = { status: 400 };
    const exporter = sink.exporter();
    sinks.set('t1/s1', exporter);
    const delivery = make();
    const first = traces(4);
    const second = traces(1);
    const sinkRef = { tenantId: 't1', sinkId: 's1', exporter };
    expect((await delivery.deliver(sinkRef, batchOf(first))).outcome).toBe('dead_lettered');
    expect((await delivery.deliver(sinkRef, batchOf(second))).outcome).toBe('dead_lettered');
    expect(sink.attempts).toHaveLength(2);
    expect(await delivery.retryQueueDepth('t1', 's1')).toBe(0);

    const page = await delivery.listDeadLetters('t1', 's1');
    expect(page.entries).toHaveLength(2);
    expect(page.entries[0]).toMatchObject({
      signal: 'traces',
      items: 4,
      reason: 'permanent_error',
      attempts: 1,
      error: expect.stringContaining('HTTP 400'),
    });
    expect(page.entries[0]).not.toHaveProperty('payload');
    // Pagination with a cursor.
    const p1 = await delivery.listDeadLetters('t1', 's1', { limit: 1 });
    expect(p1.entries.map((e) => e.id)).toEqual([page.entries[0].id]);
    const p2 = await delivery.listDeadLetters('t1', 's1', { limit: 1, cursor: p1.nextCursor });
    expect(p2.entries.map((e) => e.id)).toEqual([page.entries[1].id]);
    expect(p2.nextCursor).toBeUndefined();
    // Another tenant sees nothing, and cannot redrive or purge what it cannot see.
    expect((await delivery.listDeadLetters('t2', 's1')).entries).toEqual([]);
    expect(await delivery.redrive('t2', 's1', [page.entries[0].id])).toBe(0);
    expect(await delivery.purge('t2', 's1')).toBe(0);
    expect((await delivery.listDeadLetters('t1', 's1')).entries).toHaveLength(2);

    sink.answer = { status: 200 };
    expect(await delivery.redrive('t1', 's1', [page.entries[0].id])).toBe(1);
    await waitFor(
      'the redriven batch',
      () => (sink.accepted.length > 0 ? true : undefined),
      10_000,
      50,
    );
    expect(sink.acceptedSpanIds().sort()).toEqual(spanIds(first).sort());
    expect((await delivery.listDeadLetters('t1', 's1')).entries.map((e) => e.id)).toEqual([
      page.entries[1].id,
    ]);
    expect(await delivery.purge('t1', 's1', [page.entries[1].id])).toBe(1);
    expect((await delivery.listDeadLetters('t1', 's1')).entries).toEqual([]);
  });

  it('a redrive from DeadLetterControl (no retry worker in its process) is delivered by a separate worker that had no lane for the sink', async () => {
    const sink = await sinkServer();
    sink.answer = { status: 400 };
    const exporter = sink.exporter();
    sinks.set('t1/s9', exporter);
    // The process that dead-letters the batch, then closes: nothing of it is left running.
    const before = make();
    const data = traces(3);
    const sinkRef = { tenantId: 't1', sinkId: 's9', exporter };
    expect((await before.deliver(sinkRef, batchOf(data))).outcome).toBe('dead_lettered');
    await before.close();

    // The "worker": started before the redrive, while the sinks set has no lane for s9.
    const worker = make({ laneScanMs: 100 });
    await worker.start();
    // The "admin": only the control plane.
    const control = new DeadLetterControl({
      redisUrl,
      config: { ...FAST, keyPrefix: prefix },
    });
    try {
      const page = await control.list('t1', 's9');
      expect(page.entries).toHaveLength(1);
      expect(page.entries[0]).not.toHaveProperty('payload');
      expect(await control.counts('t1', 's9')).toEqual({
        deadLetters: 1,
        retryQueue: 0,
        dropped: 0,
      });
      // Another tenant's control calls touch nothing of t1.
      expect(await control.redrive('t2', 's9')).toBe(0);
      expect(await control.purge('t2', 's9')).toBe(0);

      sink.answer = { status: 200 };
      expect(await control.redrive('t1', 's9')).toBe(1);
      expect((await control.list('t1', 's9')).entries).toEqual([]);
      await waitFor(
        'the worker to deliver the redriven batch',
        () => (sink.accepted.length > 0 ? true : undefined),
        10_000,
        50,
      );
      expect(sink.acceptedSpanIds().sort()).toEqual(spanIds(data).sort());
      await waitFor('the retry queue to drain', async () =>
        (await control.counts('t1', 's9')).retryQueue === 0 ? true : undefined,
      );
      // Purge removes what it is given and nothing else.
      sink.answer = { status: 400 };
      const ref2 = { tenantId: 't1', sinkId: 's9', exporter };
      await worker.deliver(ref2, batchOf(traces(1)));
      await worker.deliver(ref2, batchOf(traces(1)));
      const two = (await control.list('t1', 's9')).entries;
      expect(two).toHaveLength(2);
      expect(await control.purge('t1', 's9', [two[0].id])).toBe(1);
      expect((await control.list('t1', 's9')).entries.map((e) => e.id)).toEqual([two[1].id]);
      expect(await control.purge('t1', 's9')).toBe(1);
      expect((await control.counts('t1', 's9')).deadLetters).toBe(0);
    } finally {
      await control.close();
    }
  });

  it('closes the retry worker of a lane that stayed empty, and reopens it when a job appears', async () => {
    const sink = await sinkServer();
    sink.answer = { status: 503 };
    const exporter = sink.exporter();
    sinks.set('t1/s7', exporter);
    const delivery = make({ laneScanMs: 50, laneIdleMs: 300, jitter: 0 });
    await delivery.start();
    const ref = { tenantId: 't1', sinkId: 's7', exporter };
    const first = traces(2);
    expect((await delivery.deliver(ref, batchOf(first))).outcome).toBe('queued_retry');
    expect(delivery.openLanes).toBe(1);
    // While a retry is pending (delayed) the lane stays open, however long it waits.
    await new Promise((r) => setTimeout(r, 400));
    expect(delivery.openLanes).toBe(1);
    sink.answer = { status: 200 };
    await waitFor('the retry', () => (sink.accepted.length === 1 ? true : undefined), 10_000, 20);
    // Empty for laneIdleMs: the worker (and its blocking Redis connection) is closed.
    await waitFor(
      'the idle lane to close',
      () => (delivery.openLanes === 0 ? true : undefined),
      5_000,
      20,
    );

    // A job queued for the sink by another process (a redrive from the admin's control plane)
    // is found by the next scan: the lane reopens and delivers it.
    sink.answer = { status: 400 };
    const other = make();
    const second = traces(3);
    expect((await other.deliver(ref, batchOf(second))).outcome).toBe('dead_lettered');
    await other.close();
    sink.answer = { status: 200 };
    const control = new DeadLetterControl({ redisUrl, config: { ...FAST, keyPrefix: prefix } });
    try {
      expect(await control.redrive('t1', 's7')).toBe(1);
    } finally {
      await control.close();
    }
    await waitFor(
      'the reopened lane to deliver',
      () => (sink.accepted.length === 2 ? true : undefined),
      10_000,
      20,
    );
    expect(sink.accepted[1].spanIds.sort()).toEqual(spanIds(second).sort());
    await waitFor(
      'the lane to close again',
      () => (delivery.openLanes === 0 ? true : undefined),
      5_000,
      20,
    );
  });

  it('a new instance (a restarted worker) delivers the retries queued by the old one', async () => {
    const sink = await sinkServer();
    sink.answer = { status: 503 };
    const exporter = sink.exporter();
    sinks.set('t1/s1', exporter);
    const before = make({ initialBackoffMs: 1500, maxBackoffMs: 1500, jitter: 0 });
    const a = traces(3);
    const b = traces(2);
    for (const d of [a, b])
      expect(
        (await before.deliver({ tenantId: 't1', sinkId: 's1', exporter }, batchOf(d))).outcome,
      ).toBe('queued_retry');
    await before.close();
    expect(sink.accepted).toHaveLength(0);

    sink.answer = { status: 200 };
    const after = make({ initialBackoffMs: 1500, maxBackoffMs: 1500, jitter: 0 });
    await after.start();
    await waitFor(
      'both batches',
      () => (sink.accepted.length === 2 ? true : undefined),
      15_000,
      50,
    );
    expect(sink.acceptedSpanIds().sort()).toEqual([...spanIds(a), ...spanIds(b)].sort());
  });

  it('a sink that is down does not delay another sink', async () => {
    const broken = await sinkServer();
    broken.answer = { status: 503 };
    const healthy = await sinkServer();
    const brokenExporter = broken.exporter();
    const healthyExporter = healthy.exporter();
    sinks.set('t1/broken', brokenExporter);
    sinks.set('t2/healthy', healthyExporter);
    const delivery = make({ initialBackoffMs: 50, maxBackoffMs: 200, maxAttempts: 1000 });
    const brokenRef = { tenantId: 't1', sinkId: 'broken', exporter: brokenExporter };
    const healthyRef = { tenantId: 't2', sinkId: 'healthy', exporter: healthyExporter };
    for (let i = 0; i < 20; i++) await delivery.deliver(brokenRef, batchOf(traces(2)));
    const started = Date.now();
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = Date.now();
      expect((await delivery.deliver(healthyRef, batchOf(traces(2)))).outcome).toBe('exported');
      latencies.push(Date.now() - t0);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(healthy.accepted).toHaveLength(20);
    // The broken sink keeps being retried in the background, on its own schedule (waited for,
    // not sampled at one instant: when its first retry falls is up to the backoff's jitter).
    await waitFor('a background retry of the broken sink', () =>
      broken.attempts.some((a) => a.at >= started) ? true : undefined,
    );
    expect(await delivery.retryQueueDepth('t1', 'broken')).toBe(20);
    expect(Math.max(...latencies)).toBeLessThan(1000);
  });

  it('dead-letters with retry_queue_full when the retry queue is at its bound', async () => {
    const sink = await sinkServer();
    sink.answer = { status: 503 };
    const exporter = sink.exporter();
    sinks.set('t1/s1', exporter);
    const registry = new Registry();
    const delivery = new SinkDelivery({
      redisUrl,
      registry,
      resolveSink: async (t, s) => sinks.get(`${t}/${s}`),
      config: {
        ...FAST,
        keyPrefix: prefix,
        maxRetryQueueBatches: 2,
        initialBackoffMs: 60_000,
        maxBackoffMs: 60_000,
      },
    });
    open.push(delivery);
    const ref = { tenantId: 't1', sinkId: 's1', exporter };
    const outcomes = [];
    for (let i = 0; i < 4; i++)
      outcomes.push((await delivery.deliver(ref, batchOf(traces(1)))).outcome);
    expect(outcomes).toEqual(['queued_retry', 'queued_retry', 'dead_lettered', 'dead_lettered']);
    const dead = await delivery.listDeadLetters('t1', 's1');
    expect(dead.entries.map((e) => e.reason)).toEqual(['retry_queue_full', 'retry_queue_full']);
    const text = await registry.metrics();
    expect(text).toMatch(
      /custodian_delivery_dead_lettered_total\{tenant="t1",sink="s1",reason="retry_queue_full"\} 2/,
    );
    expect(text).toMatch(
      /custodian_delivery_batches_total\{tenant="t1",sink="s1",outcome="queued_retry"\} 2/,
    );
    expect(text).toMatch(/custodian_delivery_retry_queue_depth\{tenant="t1",sink="s1"\} 2/);
    expect(text).toMatch(/custodian_delivery_dead_letters\{tenant="t1",sink="s1"\} 2/);
    expect(text).toMatch(
      /custodian_delivery_export_seconds_count\{kind="otlphttp",attempt="first",result="retryable"\} 4/,
    );
  });

  it('drops the oldest dead letters when the dead-letter queue is full, and counts them', async () => {
    const sink = await sinkServer();
    sink.answer = { status: 400 };
    const exporter = sink.exporter();
    const delivery = make({ maxDeadLetters: 3 });
    const ref = { tenantId: 't1', sinkId: 's1', exporter };
    sinks.set('t1/s1', exporter);
    const sizes = [1, 2, 3, 4, 5];
    for (const n of sizes) await delivery.deliver(ref, batchOf(traces(n)));
    const entries = (await delivery.listDeadLetters('t1', 's1')).entries;
    expect(entries.map((e) => e.items)).toEqual([3, 4, 5]);
    expect(await delivery.deadLettersDropped('t1', 's1')).toBe(2);
  });

  it('dead-letters after maxAttempts, and a deleted sink as sink_deleted', async () => {
    const sink = await sinkServer();
    sink.answer = { status: 503 };
    const exporter = sink.exporter();
    sinks.set('t1/s1', exporter);
    sinks.set('t1/gone', exporter);
    const delivery = make({ maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 50 });
    await delivery.deliver({ tenantId: 't1', sinkId: 's1', exporter }, batchOf(traces(2)));
    sinks.delete('t1/gone');
    await delivery.deliver({ tenantId: 't1', sinkId: 'gone', exporter }, batchOf(traces(1)));
    const dead = await waitFor('max attempts', async () => {
      const e = (await delivery.listDeadLetters('t1', 's1')).entries;
      return e.length > 0 ? e : undefined;
    });
    expect(dead[0]).toMatchObject({ reason: 'max_attempts', attempts: 3, items: 2 });
    const gone = await waitFor('sink_deleted', async () => {
      const e = (await delivery.listDeadLetters('t1', 'gone')).entries;
      return e.length > 0 ? e : undefined;
    });
    expect(gone[0]).toMatchObject({ reason: 'sink_deleted', items: 1 });
    expect(sink.attempts).toHaveLength(4);
  });

  it('SinkBatcher releases each item once its batch is durably queued', async () => {
    const sink = await sinkServer();
    sink.answer = { status: 503 };
    const exporter = sink.exporter();
    sinks.set('t1/s1', exporter);
    const delivery = make({ initialBackoffMs: 200 });
    const batcher = new SinkBatcher(
      { tenantId: 't1', sinkId: 's1', exporter },
      'traces',
      delivery,
      { maxItems: 6, maxDelayMs: 50 },
    );
    const done: number[] = [];
    const parts = [traces(2), traces(2), traces(2)];
    parts.forEach((data, i) => batcher.add({ data, items: 2, onDone: () => done.push(i) }));
    await waitFor('onDone', () => (done.length === 3 ? true : undefined), 5000, 20);
    expect(done.sort()).toEqual([0, 1, 2]);
    expect(sink.attempts).toHaveLength(1);
    expect(await delivery.retryQueueDepth('t1', 's1')).toBe(1);
    sink.answer = { status: 200 };
    await waitFor('retry', () => (sink.accepted.length > 0 ? true : undefined), 10_000, 50);
    expect(sink.acceptedSpanIds().sort()).toEqual(parts.flatMap(spanIds).sort());
    await batcher.close();
  });
});
