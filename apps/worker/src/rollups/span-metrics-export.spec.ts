import { compilePolicy, parsePolicy, type CompiledPolicy } from '@custodian/policy';
import type { MetricsData } from '@custodian/otlp';
import type { DeliveryItem, TenantSink } from '../pipeline/ports';
import type { SpanMetricSeries } from './span-metrics-aggregator';
import { SpanMetricsExport } from './span-metrics-export';

function policy(doc: object): CompiledPolicy {
  const { policy, problems } = parsePolicy(JSON.stringify({ version: 1, ...doc }), 'json');
  if (!policy) throw new Error(JSON.stringify(problems));
  return compilePolicy(policy, { hmacKey: Buffer.alloc(32, 1) });
}

function row(tenantId: string, spanName = 'llm'): SpanMetricSeries {
  return {
    tenantId,
    minute: new Date(Date.UTC(2026, 10, 24, 10, 0)),
    service: 'agent',
    spanName,
    toolName: '',
    model: '',
    calls: 2,
    errors: 0,
    durationSumNs: 10_000_000n,
    bucketCounts: new Array<number>(14).fill(0).map((_, i) => (i === 1 ? 2 : 0)),
    exemplarTraceIds: [],
    exemplars: [],
  };
}

function rig(policies: Record<string, CompiledPolicy>) {
  let now = 1_000_000;
  const delivered: DeliveryItem[] = [];
  const counts: string[] = [];
  const sink = (name: string): TenantSink => ({
    id: `id-${name}`,
    name,
    kind: 'otlphttp',
    clearedForRestricted: false,
    exporter: {} as never,
  });
  const exp = new SpanMetricsExport({
    policies: { get: async (t) => policies[t] },
    sinks: { forTenant: async () => [sink('grafana'), sink('other')] },
    delivery: { submit: (item) => delivered.push(item) },
    counters: {
      exported: (t, s, n) => counts.push(`exported:${t}:${s}:${n}`),
      discarded: (t, r, n) => counts.push(`discarded:${t}:${r}:${n}`),
    },
    clock: () => now,
  });
  return { exp, delivered, counts, advance: (ms: number) => (now += ms) };
}

describe('SpanMetricsExport', () => {
  const asks = policy({ span_metrics: { export_to: ['grafana', 'gone'], interval: '30s' } });
  const silent = policy({});

  it('sends a tenant that asked to its sinks as OTLP metrics, and no one else', async () => {
    const r = rig({ a: asks, b: silent });
    r.exp.offer([row('a'), row('b'), row('a', 'tool')]);
    await r.exp.tick();
    expect(r.delivered).toHaveLength(1);
    const item = r.delivered[0];
    expect(item).toMatchObject({ tenantId: 'a', signal: 'metrics', items: 6 });
    expect(item.sink.name).toBe('grafana');
    const metrics = (item.data as MetricsData).resourceMetrics[0].scopeMetrics[0].metrics;
    expect(metrics[0].sum!.dataPoints).toHaveLength(2);
    expect(r.counts).toEqual(['exported:a:grafana:6', 'discarded:a:no_such_sink:6']);
  });

  it('sends at most once per interval, and everything on stop', async () => {
    const r = rig({ a: asks });
    r.exp.offer([row('a')]);
    await r.exp.tick();
    expect(r.delivered).toHaveLength(1);
    r.exp.offer([row('a')]);
    r.advance(10_000);
    await r.exp.tick();
    expect(r.delivered).toHaveLength(1);
    r.advance(20_000);
    await r.exp.tick();
    expect(r.delivered).toHaveLength(2);
    r.exp.offer([row('a')]);
    await r.exp.stop();
    expect(r.delivered).toHaveLength(3);
  });

  it('keeps the rows while the policy cannot be read', async () => {
    let fail = true;
    const exp = new SpanMetricsExport({
      policies: {
        get: async () => {
          if (fail) throw new Error('db down');
          return asks;
        },
      },
      sinks: {
        forTenant: async () => [
          {
            id: 'g',
            name: 'grafana',
            kind: 'otlphttp',
            clearedForRestricted: false,
            exporter: {} as never,
          },
        ],
      },
      delivery: { submit: (item) => delivered.push(item) },
    });
    const delivered: DeliveryItem[] = [];
    exp.offer([row('a')]);
    await exp.tick();
    expect(delivered).toHaveLength(0);
    fail = false;
    await exp.tick();
    expect(delivered).toHaveLength(1);
  });
});
