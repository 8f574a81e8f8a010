import type { SpanMetricRollup, UsageMinute } from '@custodian/store';
import { groupSpanMetrics, histogramQuantile, rollUpUsage } from './usage-math';

const BOUNDS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000];
const counts = (at: Record<number, number>) => BOUNDS.concat([Infinity]).map((_, i) => at[i] ?? 0);

describe('histogramQuantile', () => {
  it('interpolates linearly inside the bucket that holds the rank', () => {
    // 10 spans in (10, 25]: the median sits half-way through that bucket.
    expect(histogramQuantile(0.5, counts({ 2: 10 }))).toBeCloseTo(17.5);
    // 90 fast (≤ 5 ms) and 10 in (500, 1000]: p50 is fast, p95 half-way through the slow bucket.
    const c = counts({ 0: 90, 7: 10 });
    expect(histogramQuantile(0.5, c)).toBeCloseTo(5 * (50 / 90));
    expect(histogramQuantile(0.95, c)).toBeCloseTo(750);
    expect(histogramQuantile(0.99, c)).toBeCloseTo(950);
  });

  it('answers the highest finite bound for the open-ended bucket, and null when empty', () => {
    expect(histogramQuantile(0.99, counts({ 13: 4 }))).toBe(60_000);
    expect(histogramQuantile(0.5, counts({}))).toBeNull();
  });
});

const minute = (iso: string, signal: string, extra: Partial<UsageMinute>): UsageMinute => ({
  minute: new Date(iso),
  signal,
  received: 0,
  accepted: 0,
  rejected: {},
  sampledOut: {},
  dropped: {},
  exported: {},
  ...extra,
});

describe('rollUpUsage', () => {
  const rows = [
    minute('2026-11-24T10:01:00Z', 'traces', {
      received: 12,
      accepted: 10,
      rejected: { rate_limited: 2 },
    }),
    minute('2026-11-24T10:01:00Z', 'all', { exported: { 'sink-a': 7 } }),
    minute('2026-11-24T10:03:00Z', 'logs', { received: 5, accepted: 5 }),
    minute('2026-11-24T10:07:00Z', 'traces', {
      received: 1,
      accepted: 1,
      sampledOut: { tail_sampled: 3 },
    }),
  ];

  it('sums signals per minute, and rolls minutes up into aligned steps', () => {
    const perMinute = rollUpUsage(rows, 1);
    expect(perMinute.map((b) => [b.start.toISOString(), b.received, b.exported])).toEqual([
      ['2026-11-24T10:01:00.000Z', 12, { 'sink-a': 7 }],
      ['2026-11-24T10:03:00.000Z', 5, {}],
      ['2026-11-24T10:07:00.000Z', 1, {}],
    ]);
    const fiveMinutes = rollUpUsage(rows, 5);
    expect(fiveMinutes.map((b) => [b.start.toISOString(), b.received, b.accepted])).toEqual([
      ['2026-11-24T10:00:00.000Z', 17, 15],
      ['2026-11-24T10:05:00.000Z', 1, 1],
    ]);
    expect(fiveMinutes[0].rejected).toEqual({ rate_limited: 2 });
    expect(fiveMinutes[1].sampledOut).toEqual({ tail_sampled: 3 });
  });

  it('keeps one signal (and the exports, recorded for all signals) under a signal filter', () => {
    const traces = rollUpUsage(rows, 60, 'traces');
    expect(traces).toHaveLength(1);
    expect(traces[0]).toMatchObject({ received: 13, exported: { 'sink-a': 7 } });
  });
});

describe('groupSpanMetrics', () => {
  const row = (p: Partial<SpanMetricRollup>): SpanMetricRollup => ({
    tenantId: 't',
    minute: new Date('2026-11-24T10:00:00Z'),
    service: 'agent',
    spanName: 'execute_tool search',
    toolName: 'search',
    model: '',
    calls: 1,
    errors: 0,
    durationSumNs: 10_000_000n,
    bucketCounts: counts({ 1: 1 }),
    exemplarTraceIds: [],
    ...p,
  });

  it('merges rows by the requested dimensions, with RED figures and merged exemplars', () => {
    const rows = [
      row({
        calls: 3,
        errors: 1,
        durationSumNs: 60_000_000n,
        bucketCounts: counts({ 2: 3 }),
        exemplarTraceIds: ['a', 'b'],
      }),
      row({
        minute: new Date('2026-11-24T10:01:00Z'),
        calls: 1,
        errors: 1,
        durationSumNs: 40_000_000n,
        bucketCounts: counts({ 3: 1 }),
        exemplarTraceIds: ['b', 'c'],
      }),
      row({
        spanName: 'chat gpt-4o',
        toolName: '',
        model: 'gpt-4o',
        calls: 2,
        durationSumNs: 2_000_000_000n,
        bucketCounts: counts({ 7: 2 }),
      }),
    ];
    const byTool = groupSpanMetrics(rows, ['toolName']);
    expect(byTool.map((s) => [s.toolName, s.service, s.calls, s.errors])).toEqual([
      ['search', null, 4, 2],
      ['', null, 2, 0],
    ]);
    expect(byTool[0]).toMatchObject({
      errorRate: 0.5,
      durationAvgMs: 25,
      exemplarTraceIds: ['a', 'b', 'c'],
    });
    expect(byTool[0].bucketCounts.slice(0, 5)).toEqual([0, 0, 3, 1, 0]);
    expect(byTool[1].p50Ms).toBeCloseTo(750);
    const all = groupSpanMetrics(rows, []);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ calls: 6, errors: 2, service: null, model: null });
  });
});
