import { parsePolicy, policyHash } from '../document';
import { spanMetricsIntervalMs, validateSpanMetricsConfig } from './span-metrics';

describe('span_metrics', () => {
  it('accepts export_to and interval, and keeps them in the normalized document', () => {
    const { policy, problems } = parsePolicy(
      'version: 1\nspan_metrics:\n  export_to: [grafana]\n  interval: 2m\n',
      'yaml',
    );
    expect(problems).toEqual([]);
    expect(policy!.span_metrics).toEqual({ export_to: ['grafana'], interval: '2m' });
    expect(spanMetricsIntervalMs(policy!.span_metrics!)).toBe(120_000);
    expect(spanMetricsIntervalMs({ export_to: ['x'] })).toBe(60_000);
  });

  it('reports every problem with its path (and line)', () => {
    const { problems } = parsePolicy(
      'version: 1\nspan_metrics:\n  export_to: [a, a, 3]\n  interval: 1s\n  extra: 1\n',
      'yaml',
    );
    expect(problems.map((p) => p.path).sort()).toEqual(
      ['span_metrics.export_to[2]', 'span_metrics.extra', 'span_metrics.interval'].sort(),
    );
    expect(problems.find((p) => p.path === 'span_metrics.interval')?.line).toBe(4);
    expect(validateSpanMetricsConfig({ export_to: ['a', 'a'] }).problems).toEqual([
      { path: 'span_metrics.export_to[1]', message: 'sink "a" is listed twice' },
    ]);
    expect(validateSpanMetricsConfig({ interval: '2h' }).problems.map((p) => p.path)).toEqual([
      'span_metrics.export_to',
      'span_metrics.interval',
    ]);
  });

  it('is additive: a document without it normalizes and hashes as before', () => {
    const { policy } = parsePolicy('{"version":1}', 'json');
    expect('span_metrics' in policy!).toBe(false);
    const { policy: withIt } = parsePolicy(
      '{"version":1,"span_metrics":{"export_to":["g"]}}',
      'json',
    );
    expect(policyHash(withIt!)).not.toBe(policyHash(policy!));
  });
});
