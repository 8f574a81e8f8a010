/**
 * Per-minute rollups against the real PostgreSQL (issue #5 item 7, issue #6 usage): span
 * metric and usage upserts ADD across flushes (and so across processes), the span metrics
 * flusher writes what the aggregator counted, and the usage collector turns the gateway's and
 * worker's counters into usage rows without counting anything twice.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { Counter, Registry } from 'prom-client';
import { TenantRepository, createPrismaClient, type PrismaClient } from '@custodian/db';
import {
  CounterUsageCollector,
  RollupRepository,
  SPAN_DURATION_BOUNDS_MS,
  createStorePool,
  type SpanMetricRollup,
} from '@custodian/store';
import { attr, batch, span } from '../../libs/policy/testdata/fixtures';
import { GATEWAY_USAGE_SOURCES } from '../../apps/gateway/src/usage/gateway-usage';
import { SpanMetricsAggregator } from '../../apps/worker/src/rollups/span-metrics-aggregator';
import { SpanMetricsFlusher } from '../../apps/worker/src/rollups/span-metrics-flusher';
import { WORKER_USAGE_SOURCES } from '../../apps/worker/src/store/worker-store';

let db: PrismaClient;
let pool: Pool;
let repo: RollupRepository;
let tenant: string;
const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
const window = {
  from: new Date(minute.getTime() - 60_000),
  to: new Date(minute.getTime() + 120_000),
};

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  pool = createStorePool(process.env.DATABASE_URL!);
  repo = new RollupRepository(pool);
  tenant = (
    await new TenantRepository(db).create({ slug: `rol-${randomUUID().slice(0, 8)}`, name: 'R' })
  ).id;
});

afterAll(async () => {
  await pool.end();
  await db.$disconnect();
});

function rollup(over: Partial<SpanMetricRollup>): SpanMetricRollup {
  const buckets = new Array<number>(SPAN_DURATION_BOUNDS_MS.length + 1).fill(0);
  return {
    tenantId: tenant,
    minute,
    service: 'agent',
    spanName: 'execute_tool',
    toolName: 'search',
    model: '',
    calls: 0,
    errors: 0,
    durationSumNs: 0n,
    bucketCounts: buckets,
    exemplarTraceIds: [],
    ...over,
  };
}

it('adds span metrics across two flushes: calls, errors, sums, buckets, exemplars', async () => {
  const b1 = new Array<number>(SPAN_DURATION_BOUNDS_MS.length + 1).fill(0);
  b1[0] = 2;
  const b2 = [...b1];
  b2[0] = 1;
  b2[b2.length - 1] = 4;
  await repo.addSpanMetrics([
    rollup({
      calls: 2,
      errors: 1,
      durationSumNs: 9_000_000n,
      bucketCounts: b1,
      exemplarTraceIds: ['a1', 'a2'],
    }),
  ]);
  await repo.addSpanMetrics([
    rollup({
      calls: 5,
      errors: 0,
      durationSumNs: 10n ** 12n,
      bucketCounts: b2,
      exemplarTraceIds: ['a2', 'b1', 'b2', 'b3', 'b4'],
    }),
  ]);
  const rows = await repo.spanMetrics(tenant, { ...window, toolName: 'search' });
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({
    calls: 7,
    errors: 1,
    durationSumNs: 10n ** 12n + 9_000_000n,
    exemplarTraceIds: ['a1', 'a2', 'b1', 'b2', 'b3'],
  });
  expect(rows[0].bucketCounts[0]).toBe(3);
  expect(rows[0].bucketCounts[rows[0].bucketCounts.length - 1]).toBe(4);
});

it('the flusher writes what the aggregator counted, twice into the same minute', async () => {
  const agg = new SpanMetricsAggregator();
  const flusher = new SpanMetricsFlusher(agg, repo);
  const now = Date.now();
  const traceId = randomBytes(16);
  const spans = () =>
    batch(
      [
        span({
          traceId,
          name: 'chat',
          durationMs: 40,
          attributes: [attr('gen_ai.request.model', 'gpt-4o')],
        }),
      ],
      'flush-svc',
    );
  agg.observe(tenant, spans(), now);
  agg.kept(tenant, traceId.toString('hex'));
  expect(await flusher.flush(true)).toBe(1);
  agg.observe(tenant, spans(), now);
  expect(await flusher.flush(true)).toBe(1);
  const rows = await repo.spanMetrics(tenant, { ...window, service: 'flush-svc' });
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ spanName: 'chat', model: 'gpt-4o', calls: 2 });
  expect(rows[0].exemplarTraceIds).toEqual([traceId.toString('hex')]);
});

it('usage adds across flushes and reads back per minute and signal', async () => {
  const t = (
    await new TenantRepository(db).create({ slug: `use-${randomUUID().slice(0, 8)}`, name: 'U' })
  ).id;
  const rows = (n: number) => [
    { tenantId: t, minute, signal: 'traces', metric: 'accepted' as const, reason: '', count: n },
    {
      tenantId: t,
      minute,
      signal: 'traces',
      metric: 'rejected' as const,
      reason: 'rate_limited',
      count: 2,
    },
    {
      tenantId: t,
      minute,
      signal: 'traces',
      metric: 'sampled_out' as const,
      reason: 'tail_sampled',
      count: 3,
    },
  ];
  await repo.addUsage(rows(10));
  await repo.addUsage(rows(5));
  expect(await repo.usage(t, window.from, window.to)).toEqual([
    {
      minute,
      signal: 'traces',
      received: 19,
      accepted: 15,
      rejected: { rate_limited: 4 },
      sampledOut: { tail_sampled: 6 },
      dropped: {},
      exported: {},
    },
  ]);
  expect(await repo.usage(tenant, window.from, window.to)).toEqual([]);
});

it('the usage collector writes counter deltas once, from the gateway’s and worker’s counters', async () => {
  const t = (
    await new TenantRepository(db).create({ slug: `usc-${randomUUID().slice(0, 8)}`, name: 'C' })
  ).id;
  const registry = new Registry();
  const accepted = new Counter({
    name: 'custodian_gateway_accepted_items_total',
    help: 'x',
    labelNames: ['tenant', 'signal'],
    registers: [registry],
  });
  const discarded = new Counter({
    name: 'custodian_gateway_discarded_items_total',
    help: 'x',
    labelNames: ['tenant', 'signal', 'reason'],
    registers: [registry],
  });
  const workerDiscarded = new Counter({
    name: 'custodian_worker_discarded_items_total',
    help: 'x',
    labelNames: ['tenant', 'signal', 'reason'],
    registers: [registry],
  });
  const delivered = new Counter({
    name: 'custodian_delivery_items_total',
    help: 'x',
    labelNames: ['tenant', 'sink', 'outcome'],
    registers: [registry],
  });
  const collector = new CounterUsageCollector(
    registry,
    [...GATEWAY_USAGE_SOURCES, ...WORKER_USAGE_SOURCES],
    repo,
    { clock: () => minute.getTime() + 1000 },
  );
  accepted.inc({ tenant: t, signal: 'traces' }, 100);
  discarded.inc({ tenant: t, signal: 'traces', reason: 'attribute_limit' }, 3);
  discarded.inc({ tenant: 'unknown', signal: 'traces', reason: 'unauthenticated' }, 9);
  workerDiscarded.inc({ tenant: t, signal: 'traces', reason: 'tail_sampled' }, 60);
  workerDiscarded.inc({ tenant: t, signal: 'traces', reason: 'no_such_sink' }, 1);
  delivered.inc({ tenant: t, sink: 'sink-1', outcome: 'exported' }, 39);
  delivered.inc({ tenant: t, sink: 'sink-1', outcome: 'rejected' }, 7);
  await collector.flush();
  // Nothing new: nothing written twice.
  await collector.flush();
  accepted.inc({ tenant: t, signal: 'traces' }, 20);
  await collector.stop();

  const usage = await repo.usage(t, window.from, window.to);
  expect(usage).toEqual([
    {
      minute,
      signal: 'all',
      received: 0,
      accepted: 0,
      rejected: {},
      sampledOut: {},
      dropped: {},
      exported: { 'sink-1': 39 },
    },
    {
      minute,
      signal: 'traces',
      received: 123,
      accepted: 120,
      rejected: { attribute_limit: 3 },
      sampledOut: { tail_sampled: 60 },
      dropped: { no_such_sink: 1 },
      exported: {},
    },
  ]);
});
