/**
 * The usage and span-metrics API (issue #6 item 3, "usage") against the running admin API and
 * the real PostgreSQL: the numbers equal what the gateway's and worker's rollup writers
 * (RollupRepository.addUsage / addSpanMetrics) stored, per minute and rolled up; every role of
 * the tenant may read them, no role of another tenant may.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import {
  RollupRepository,
  SPAN_DURATION_BOUNDS_MS,
  createStorePool,
  type SpanMetricRollup,
  type UsageDelta,
} from '@custodian/store';
import { AdminHarness, ROLES, code } from './admin-harness';

let h: AdminHarness;
let pool: Pool;
let rollups: RollupRepository;

beforeAll(async () => {
  h = await AdminHarness.start();
  pool = createStorePool(process.env.DATABASE_URL!, 2);
  rollups = new RollupRepository(pool);
});
afterAll(async () => {
  await pool?.end();
  await h?.stop();
});

const HOUR = 3_600_000;
/** Three minutes two hours ago, at the start of an hour (so 60-minute steps are one bucket). */
const T0 = Math.floor((Date.now() - 2 * HOUR) / HOUR) * HOUR;
const m = (i: number) => new Date(T0 + i * 60_000);
const WINDOW = { from: new Date(T0).toISOString(), to: new Date(T0 + HOUR).toISOString() };

const USAGE = `query($t: ID!, $from: DateTime, $to: DateTime, $step: Int, $signal: String) {
  usage(tenantId: $t, from: $from, to: $to, step: $step, signal: $signal) {
    stepMinutes
    buckets { start received accepted rejectedTotal rejected { key count } sampledOutTotal sampledOut { key count } droppedTotal exportedTotal exported { key count } }
    totals { received accepted rejectedTotal sampledOutTotal droppedTotal exportedTotal exported { key count } } } }`;
const METRICS = `query($t: ID!, $from: DateTime, $to: DateTime, $g: [SpanMetricsGroupBy!], $tool: String) {
  spanMetrics(tenantId: $t, from: $from, to: $to, groupBy: $g, toolName: $tool) {
    groupBy durationBoundsMs
    series { service spanName toolName model calls errors errorRate durationAvgMs p50Ms p95Ms p99Ms exemplarTraceIds } } }`;

async function seed(tenantId: string) {
  const u = (
    i: number,
    signal: string,
    metric: UsageDelta['metric'],
    reason: string,
    count: number,
  ): UsageDelta => ({
    tenantId,
    minute: m(i),
    signal,
    metric,
    reason,
    count,
  });
  await rollups.addUsage([
    u(0, 'traces', 'accepted', '', 100),
    u(0, 'traces', 'rejected', 'rate_limited', 7),
    u(0, 'traces', 'rejected', 'invalid', 2),
    u(0, 'logs', 'accepted', '', 10),
    u(1, 'traces', 'accepted', '', 50),
    u(1, 'traces', 'sampled_out', 'tail_sampled', 30),
    u(1, 'traces', 'dropped', 'policy_drop', 4),
    u(1, 'all', 'exported', 'sink-a', 110),
    u(2, 'all', 'exported', 'sink-b', 5),
  ]);
  // Written twice: the rollups add up (several processes flush the same minute).
  await rollups.addUsage([u(2, 'traces', 'accepted', '', 1)]);
  await rollups.addUsage([u(2, 'traces', 'accepted', '', 1)]);

  const counts = (at: Record<number, number>) =>
    new Array<number>(SPAN_DURATION_BOUNDS_MS.length + 1).fill(0).map((_, i) => at[i] ?? 0);
  const s = (p: Partial<SpanMetricRollup>): SpanMetricRollup => ({
    tenantId,
    minute: m(0),
    service: 'agent',
    spanName: 'execute_tool search',
    toolName: 'search',
    model: '',
    calls: 0,
    errors: 0,
    durationSumNs: 0n,
    bucketCounts: counts({}),
    exemplarTraceIds: [],
    ...p,
  });
  const ex = (n: number) => Array.from({ length: n }, () => randomBytes(16).toString('hex'));
  const exemplars = ex(3);
  await rollups.addSpanMetrics([
    // search: 100 calls, 90 within (10, 25] ms, 10 within (500, 1000] ms, 10 errors.
    s({
      calls: 60,
      errors: 4,
      durationSumNs: 60n * 20_000_000n,
      bucketCounts: counts({ 2: 60 }),
      exemplarTraceIds: exemplars.slice(0, 2),
    }),
    s({
      minute: m(1),
      calls: 40,
      errors: 6,
      durationSumNs: 30n * 20_000_000n + 10n * 800_000_000n,
      bucketCounts: counts({ 2: 30, 7: 10 }),
      exemplarTraceIds: exemplars.slice(1),
    }),
    // LLM calls by model.
    s({
      spanName: 'chat gpt-4o',
      toolName: '',
      model: 'gpt-4o',
      calls: 20,
      errors: 1,
      durationSumNs: 20n * 1_500_000_000n,
      bucketCounts: counts({ 8: 20 }),
    }),
    s({
      spanName: 'chat claude',
      toolName: '',
      model: 'claude-sonnet',
      calls: 5,
      durationSumNs: 5n * 3_000_000_000n,
      bucketCounts: counts({ 9: 5 }),
    }),
    s({
      service: 'other',
      spanName: 'chat gpt-4o',
      toolName: '',
      model: 'gpt-4o',
      calls: 1,
      durationSumNs: 1_000_000_000n,
      bucketCounts: counts({ 7: 1 }),
    }),
  ]);
  return { exemplars };
}

it('usage per minute and rolled up equals what the rollup writers stored', async () => {
  const t = await h.createTenant('us');
  await seed(t.id);
  const viewer = await h.member(t.id, 'viewer');
  type Bucket = {
    start: string;
    received: number;
    accepted: number;
    rejectedTotal: number;
    rejected: { key: string; count: number }[];
    sampledOutTotal: number;
    sampledOut: { key: string; count: number }[];
    droppedTotal: number;
    exportedTotal: number;
    exported: { key: string; count: number }[];
  };
  type Usage = { usage: { stepMinutes: number; buckets: Bucket[]; totals: Omit<Bucket, 'start'> } };
  const perMinute = (await h.ok<Usage>(USAGE, { t: t.id, ...WINDOW }, viewer.token)).usage;
  expect(perMinute.stepMinutes).toBe(1);
  expect(
    perMinute.buckets.map((b) => [
      b.start,
      b.received,
      b.accepted,
      b.rejectedTotal,
      b.sampledOutTotal,
      b.droppedTotal,
      b.exportedTotal,
    ]),
  ).toEqual([
    [m(0).toISOString(), 119, 110, 9, 0, 0, 0],
    [m(1).toISOString(), 50, 50, 0, 30, 4, 110],
    [m(2).toISOString(), 2, 2, 0, 0, 0, 5],
  ]);
  expect(perMinute.buckets[0].rejected).toEqual([
    { key: 'rate_limited', count: 7 },
    { key: 'invalid', count: 2 },
  ]);
  expect(perMinute.buckets[1].sampledOut).toEqual([{ key: 'tail_sampled', count: 30 }]);
  expect(perMinute.totals).toMatchObject({
    received: 171,
    accepted: 162,
    rejectedTotal: 9,
    sampledOutTotal: 30,
    droppedTotal: 4,
    exportedTotal: 115,
    exported: [
      { key: 'sink-a', count: 110 },
      { key: 'sink-b', count: 5 },
    ],
  });

  const hourly = (await h.ok<Usage>(USAGE, { t: t.id, ...WINDOW, step: 60 }, viewer.token)).usage;
  expect(hourly.buckets).toHaveLength(1);
  expect(hourly.buckets[0]).toMatchObject({
    start: new Date(T0).toISOString(),
    received: 171,
    exportedTotal: 115,
  });
  const logs = (
    await h.ok<Usage>(USAGE, { t: t.id, ...WINDOW, step: 60, signal: 'logs' }, viewer.token)
  ).usage;
  expect(logs.totals).toMatchObject({ received: 10, accepted: 10, exportedTotal: 115 });

  const bad = await h.gql(
    USAGE,
    { t: t.id, from: WINDOW.to, to: WINDOW.from, step: 0, signal: 'spans' },
    viewer.token,
  );
  expect(code(bad)).toBe('BAD_USER_INPUT');
  expect((bad.errors![0].extensions!.problems as string[]).map((p) => p.split(':')[0])).toEqual([
    'from',
    'step',
    'signal',
  ]);
});

it('span metrics: RED by tool, model and service from the stored histograms', async () => {
  const t = await h.createTenant('sm');
  const { exemplars } = await seed(t.id);
  const analyst = await h.member(t.id, 'analyst');
  type Series = {
    service: string | null;
    spanName: string | null;
    toolName: string | null;
    model: string | null;
    calls: number;
    errors: number;
    errorRate: number;
    durationAvgMs: number;
    p50Ms: number;
    p95Ms: number;
    p99Ms: number;
    exemplarTraceIds: string[];
  };
  type Metrics = {
    spanMetrics: { groupBy: string[]; durationBoundsMs: number[]; series: Series[] };
  };
  const q = async (vars: Record<string, unknown>) =>
    (await h.ok<Metrics>(METRICS, { t: t.id, ...WINDOW, ...vars }, analyst.token)).spanMetrics;

  const byTool = await q({ g: ['TOOL'], tool: 'search' });
  expect(byTool.groupBy).toEqual(['TOOL']);
  expect(byTool.durationBoundsMs).toEqual([...SPAN_DURATION_BOUNDS_MS]);
  expect(byTool.series).toHaveLength(1);
  const search = byTool.series[0];
  expect(search).toMatchObject({
    service: null,
    spanName: null,
    toolName: 'search',
    model: null,
    calls: 100,
    errors: 10,
  });
  expect(search.errorRate).toBeCloseTo(0.1);
  expect(search.durationAvgMs).toBeCloseTo((90 * 20 + 10 * 800) / 100);
  // 90 in (10, 25] then 10 in (500, 1000]: p50 at rank 50 of 90 in the first, p95/p99 in the second.
  expect(search.p50Ms).toBeCloseTo(10 + 15 * (50 / 90));
  expect(search.p95Ms).toBeCloseTo(500 + 500 * (5 / 10));
  expect(search.p99Ms).toBeCloseTo(500 + 500 * (9 / 10));
  expect([...search.exemplarTraceIds].sort()).toEqual([...exemplars].sort());

  const byModel = await q({ g: ['MODEL'] });
  expect(byModel.series.map((s) => [s.model, s.calls, s.errors])).toEqual([
    ['', 100, 10],
    ['gpt-4o', 21, 1],
    ['claude-sonnet', 5, 0],
  ]);
  const byService = await q({});
  expect(byService.groupBy).toEqual(['SERVICE', 'SPAN_NAME']);
  expect(byService.series.map((s) => [s.service, s.spanName, s.calls])).toEqual([
    ['agent', 'execute_tool search', 100],
    ['agent', 'chat gpt-4o', 20],
    ['agent', 'chat claude', 5],
    ['other', 'chat gpt-4o', 1],
  ]);
  // Outside the window: nothing.
  const later = await q({ from: WINDOW.to, to: new Date(T0 + 2 * HOUR).toISOString() });
  expect(later.series).toEqual([]);
});

it('every role of the tenant reads usage; no role of another tenant does, and each refusal is audited', async () => {
  const a = await h.createTenant('ua');
  const b = await h.createTenant('ub');
  await seed(b.id);
  for (const role of ROLES) {
    const own = await h.member(b.id, role);
    const r = await h.gql<{ usage: { totals: { received: number } } }>(
      USAGE,
      { t: b.id, ...WINDOW },
      own.token,
    );
    expect({ role, received: r.data?.usage.totals.received }).toEqual({ role, received: 171 });

    const stranger = await h.member(a.id, role);
    const u = await h.gql(USAGE, { t: b.id, ...WINDOW }, stranger.token);
    const s = await h.gql(METRICS, { t: b.id, ...WINDOW }, stranger.token);
    expect({ role, codes: [code(u), code(s)] }).toEqual({
      role,
      codes: ['FORBIDDEN', 'FORBIDDEN'],
    });
    const denials = await h.auditEvents({ actorId: stranger.id, action: 'authz.denied' });
    expect(denials.map((d) => d.tenantId)).toEqual([b.id, b.id]);
    // Their own tenant has no usage.
    const mine = await h.ok<{ usage: { buckets: unknown[] } }>(
      USAGE,
      { t: a.id, ...WINDOW },
      stranger.token,
    );
    expect(mine.usage.buckets).toEqual([]);
  }
});
