/**
 * Dead letters through the admin API (issue #6 item 3), against the real Redis and
 * PostgreSQL: a batch a sink refused with HTTP 400 is dead-lettered by the real SinkDelivery
 * (the worker's data plane), listed through GraphQL for its own tenant only, redriven by the
 * admin — which only queues it — and delivered by a separate, worker-side SinkDelivery to the
 * sink that now accepts; purge removes the rest. Roles follow apps/admin/src/auth/abilities.ts.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { SinkDelivery } from '@custodian/delivery';
import { OtlpHttpExporter, type SinkExporter } from '@custodian/exporters';
import { decodeTraces, encodeTraces, type TracesData } from '@custodian/otlp';
import { waitFor } from '../support/ports';
import { AdminHarness, code } from './admin-harness';

/** An OTLP/HTTP sink answering `status`; records the span ids it accepted. */
class Sink {
  status = 400;
  readonly accepted: string[] = [];
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.status === 200) {
          this.accepted.push(...spanIds(decodeTraces(Buffer.concat(chunks))));
          res.writeHead(200, { 'content-type': 'application/x-protobuf' });
          res.end();
          return;
        }
        res.writeHead(this.status);
        res.end('refused by the test');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
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

function traces(n: number): TracesData {
  const traceId = randomBytes(16);
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: 'dl-admin-test' } }],
          droppedAttributesCount: 0,
        },
        schemaUrl: '',
        scopeSpans: [
          {
            scope: { name: 'dl', version: '1', attributes: [], droppedAttributesCount: 0 },
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

const LIST = `query($t: ID!, $s: ID!, $first: Int, $after: String) {
  deadLetters(tenantId: $t, sinkId: $s, first: $first, after: $after) {
    entries { id signal items reason error firstFailedAt deadLetteredAt attempts }
    nextCursor total retryQueue dropped
  }
}`;
const REDRIVE = `mutation($t: ID!, $s: ID!, $ids: [ID!]) { redriveDeadLetters(tenantId: $t, sinkId: $s, ids: $ids) }`;
const PURGE = `mutation($t: ID!, $s: ID!, $ids: [ID!]) { purgeDeadLetters(tenantId: $t, sinkId: $s, ids: $ids) }`;

interface Page {
  deadLetters: {
    entries: { id: string; items: number; reason: string; error: string; attempts: number }[];
    nextCursor: string | null;
    total: number;
    retryQueue: number;
    dropped: number;
  };
}

describe('dead letters through the admin API (real Redis and PostgreSQL)', () => {
  const prefix = `cdadmin-${randomUUID().slice(0, 8)}`;
  let h: AdminHarness;
  let sink: Sink;
  let worker: SinkDelivery;
  let exporter: SinkExporter;
  let tenantA: { id: string };
  let tenantB: { id: string };
  let sinkId: string;
  const sent: TracesData[] = [];

  beforeAll(async () => {
    h = await AdminHarness.start({ CUSTODIAN_DELIVERY_KEY_PREFIX: prefix });
    sink = await new Sink().start();
    tenantA = await h.createTenant('dla');
    tenantB = await h.createTenant('dlb');
    const admin = await h.platformAdmin();
    const created = await h.ok<{ createSink: { id: string } }>(
      `mutation($i: CreateSinkInput!) { createSink(input: $i) { id } }`,
      {
        i: {
          tenantId: tenantA.id,
          name: 'refusing',
          kind: 'otlphttp',
          configJson: JSON.stringify({ endpoint: sink.url, compression: 'none' }),
        },
      },
      admin.token,
    );
    sinkId = created.createSink.id;
    exporter = new OtlpHttpExporter({ endpoint: sink.url, compression: 'none', timeoutMs: 2000 });
    // The worker's data plane, in this test process; the admin never exports.
    worker = new SinkDelivery({
      redisUrl: process.env.REDIS_URL!,
      registry: new Registry(),
      resolveSink: async (t, s) => (t === tenantA.id && s === sinkId ? exporter : undefined),
      config: { keyPrefix: prefix, laneScanMs: 100, initialBackoffMs: 100, maxBackoffMs: 200 },
    });
    await worker.start();
    for (const n of [3, 1, 2]) {
      const data = traces(n);
      sent.push(data);
      const r = await worker.deliver(
        { tenantId: tenantA.id, sinkId, exporter },
        { signal: 'traces', protobuf: encodeTraces(data), items: n },
      );
      expect(r.outcome).toBe('dead_lettered');
    }
  });

  afterAll(async () => {
    await worker?.close();
    await exporter?.close();
    await sink?.close();
    await h?.stop();
    const redis = new Redis(process.env.REDIS_URL!);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('lists metadata only, paged, with counts, for roles that may read them', async () => {
    const op = await h.member(tenantA.id, 'operator');
    const page = await h.ok<Page>(LIST, { t: tenantA.id, s: sinkId }, op.token);
    expect(page.deadLetters.total).toBe(3);
    expect(page.deadLetters.retryQueue).toBe(0);
    expect(page.deadLetters.entries.map((e) => e.items)).toEqual([3, 1, 2]);
    expect(page.deadLetters.entries[0]).toMatchObject({
      reason: 'permanent_error',
      attempts: 1,
      error: expect.stringContaining('400'),
    });
    const p1 = await h.ok<Page>(LIST, { t: tenantA.id, s: sinkId, first: 2 }, op.token);
    expect(p1.deadLetters.entries).toHaveLength(2);
    const p2 = await h.ok<Page>(
      LIST,
      { t: tenantA.id, s: sinkId, first: 2, after: p1.deadLetters.nextCursor },
      op.token,
    );
    expect(p2.deadLetters.entries.map((e) => e.items)).toEqual([2]);
    expect(p2.deadLetters.nextCursor).toBeNull();
    // A payload is not even in the schema.
    const payload = await h.gql(
      `query($t: ID!, $s: ID!) { deadLetters(tenantId: $t, sinkId: $s) { entries { payload } } }`,
      { t: tenantA.id, s: sinkId },
      op.token,
    );
    expect(payload.errors?.[0]?.message).toMatch(/payload/);

    const security = await h.member(tenantA.id, 'security');
    expect(
      (await h.ok<Page>(LIST, { t: tenantA.id, s: sinkId }, security.token)).deadLetters.total,
    ).toBe(3);
    for (const role of ['analyst', 'viewer'] as const) {
      const m = await h.member(tenantA.id, role);
      expect(code(await h.gql(LIST, { t: tenantA.id, s: sinkId }, m.token))).toBe('FORBIDDEN');
    }
    expect(code(await h.gql(REDRIVE, { t: tenantA.id, s: sinkId }, security.token))).toBe(
      'FORBIDDEN',
    );
    expect(code(await h.gql(PURGE, { t: tenantA.id, s: sinkId }, security.token))).toBe(
      'FORBIDDEN',
    );
  });

  it("another tenant cannot see or touch them: its own tenant id gives NOT_FOUND for A's sink, A's id is refused", async () => {
    const ownerB = await h.member(tenantB.id, 'owner');
    // B's tenant id with A's sink id: the sink is not B's.
    for (const q of [LIST, REDRIVE, PURGE])
      expect(code(await h.gql(q, { t: tenantB.id, s: sinkId }, ownerB.token))).toBe('NOT_FOUND');
    // A's tenant id: refused by the guard.
    for (const q of [LIST, REDRIVE, PURGE])
      expect(code(await h.gql(q, { t: tenantA.id, s: sinkId }, ownerB.token))).toBe('FORBIDDEN');
    const op = await h.member(tenantA.id, 'operator');
    expect((await h.ok<Page>(LIST, { t: tenantA.id, s: sinkId }, op.token)).deadLetters.total).toBe(
      3,
    );
  });

  it('an operator redrives one through a worker to the sink that now accepts, then purges the rest; both audited', async () => {
    const op = await h.member(tenantA.id, 'operator');
    const before = (await h.ok<Page>(LIST, { t: tenantA.id, s: sinkId }, op.token)).deadLetters;
    expect(
      code(await h.gql(REDRIVE, { t: tenantA.id, s: sinkId, ids: ['not-an-id'] }, op.token)),
    ).toBe('BAD_USER_INPUT');

    sink.status = 200;
    const first = before.entries[0];
    const redriven = await h.ok<{ redriveDeadLetters: number }>(
      REDRIVE,
      { t: tenantA.id, s: sinkId, ids: [first.id] },
      op.token,
    );
    expect(redriven.redriveDeadLetters).toBe(1);
    await waitFor(
      'the worker to deliver the redriven batch',
      () => (sink.accepted.length > 0 ? true : undefined),
      10_000,
      50,
    );
    expect([...sink.accepted].sort()).toEqual(spanIds(sent[0]).sort());
    const after = (await h.ok<Page>(LIST, { t: tenantA.id, s: sinkId }, op.token)).deadLetters;
    expect(after.entries.map((e) => e.id)).toEqual(before.entries.slice(1).map((e) => e.id));

    const purged = await h.ok<{ purgeDeadLetters: number }>(
      PURGE,
      { t: tenantA.id, s: sinkId },
      op.token,
    );
    expect(purged.purgeDeadLetters).toBe(2);
    expect((await h.ok<Page>(LIST, { t: tenantA.id, s: sinkId }, op.token)).deadLetters.total).toBe(
      0,
    );
    // Nothing purged was delivered.
    expect(sink.accepted).toHaveLength(3);

    const events = await h.auditEvents({ actorId: op.id, tenantId: tenantA.id });
    const mine = events.filter((e) => e.action.startsWith('dead_letter.'));
    expect(mine.map((e) => [e.action, e.targetId, e.outcome])).toEqual([
      ['dead_letter.redrive', sinkId, 'success'],
      ['dead_letter.purge', sinkId, 'success'],
    ]);
    expect(mine[0].details).toMatchObject({ redriven: 1, ids: [first.id] });
    expect(mine[1].details).toMatchObject({ purged: 2, all: true });
  });
});
