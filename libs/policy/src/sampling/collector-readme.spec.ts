/**
 * The tail_sampling processor README's example configuration (testdata/collector/
 * tail-sampling-readme.yaml, verbatim), imported and compiled, deciding each policy as the
 * README documents it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyValue, Span } from '@custodian/otlp';
import { attr, batch, span, traceId } from '../../testdata/fixtures';
import { fromCollectorConfig } from '../document/collector';
import { createEvaluator, Verdict, type TraceView } from './policies';
import type { TailPolicyConfig } from './tail-config';
import { TailSampler } from './tail-sampler';

const imported = fromCollectorConfig(
  readFileSync(join(__dirname, '../../testdata/collector/tail-sampling-readme.yaml'), 'utf8'),
);
const tail = imported.policy!.sampling.tail!;
const policy = (name: string): TailPolicyConfig => tail.policies.find((p) => p.name === name)!;

let seq = 0;
function trace(spans: Span[], resource: KeyValue[] = []): TraceView {
  return {
    traceId: spans[0]?.traceId ?? traceId(++seq),
    spanCount: spans.length,
    batches: batch(spans, 'svc', resource).resourceSpans,
  };
}
const one = (init: Omit<Parameters<typeof span>[0], 'traceId'> = {}) =>
  trace([span({ traceId: traceId(++seq), ...init })]);
const evaluate = (name: string, t: TraceView, now = 0) =>
  createEvaluator(policy(name)).evaluate(t, now);

describe('tail_sampling README example', () => {
  it('imports every policy but bytes_limiting and ottl_condition, each left out with a warning', () => {
    expect(imported.problems).toEqual([]);
    expect(tail.decision_wait).toBe('10s');
    expect(tail.num_traces).toBe(100);
    expect(tail.expected_new_traces_per_sec).toBe(10);
    expect(tail.decision_cache).toEqual({
      sampled_cache_size: 100000,
      non_sampled_cache_size: 100000,
    });
    expect(tail.policies.map((p) => p.name)).toEqual([
      'test-policy-1',
      'test-policy-2',
      'test-policy-3',
      'test-policy-4',
      'test-policy-5',
      'test-policy-6',
      'test-policy-7',
      'test-policy-8',
      'test-policy-10',
      'test-policy-11',
      'test-policy-12',
      'and-policy-1',
      'drop-policy-1',
      'composite-policy-1',
    ]);
    expect(imported.warnings.map((w) => w.path)).toEqual([
      'processors.tail_sampling.policies[8]',
      'processors.tail_sampling.policies[12]',
    ]);
    expect(imported.warnings[0].message).toMatch(/"test-policy-9" \(bytes_limiting\)/);
    expect(imported.warnings[1].message).toMatch(/"test-policy-13" \(ottl_condition\)/);
  });

  it('always_sample samples every trace', () => {
    expect(evaluate('test-policy-1', one())).toBe(Verdict.Sampled);
  });

  it('latency with an upper bound: threshold_ms < duration <= upper_threshold_ms', () => {
    const lasting = (ms: number) => {
      const id = traceId(++seq);
      // Earliest start to latest end, whatever lies in between.
      return trace([
        span({ traceId: id, startMs: 1_000, durationMs: 10 }),
        span({ traceId: id, startMs: 1_000 + ms - 10, durationMs: 10 }),
      ]);
    };
    expect(evaluate('test-policy-2', lasting(4_999))).toBe(Verdict.NotSampled);
    expect(evaluate('test-policy-2', lasting(5_000))).toBe(Verdict.NotSampled);
    expect(evaluate('test-policy-2', lasting(5_001))).toBe(Verdict.Sampled);
    expect(evaluate('test-policy-2', lasting(10_000))).toBe(Verdict.Sampled);
    expect(evaluate('test-policy-2', lasting(10_001))).toBe(Verdict.NotSampled);
  });

  it('numeric_attribute: key1 in [50, 100] on a span or the resource', () => {
    for (const [v, verdict] of [
      [49, Verdict.NotSampled],
      [50, Verdict.Sampled],
      [75.5, Verdict.Sampled],
      [100, Verdict.Sampled],
      [101, Verdict.NotSampled],
    ] as const)
      expect([v, evaluate('test-policy-3', one({ attributes: [attr('key1', v)] }))]).toEqual([
        v,
        verdict,
      ]);
    const onResource = trace([span({ traceId: traceId(++seq) })], [attr('key1', 60)]);
    expect(evaluate('test-policy-3', onResource)).toBe(Verdict.Sampled);
    expect(evaluate('test-policy-3', one({ attributes: [attr('key1', '60')] }))).toBe(
      Verdict.NotSampled,
    );
  });

  it('probabilistic samples 10% of traces, by trace id', () => {
    const ev = createEvaluator(policy('test-policy-4'));
    let kept = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const t = trace([span({ traceId: traceId(i * 2654435761) })]);
      const v = ev.evaluate(t, 0);
      if (v === Verdict.Sampled) kept++;
      if (i < 50) expect(ev.evaluate(t, 99_999)).toBe(v); // same id, same decision
    }
    expect(Math.abs(kept / n - 0.1)).toBeLessThan(0.01);
  });

  it('status_code [ERROR, UNSET]: a trace with only OK spans is not sampled', () => {
    const id = traceId(++seq);
    const ok = trace([span({ traceId: id, status: 1 }), span({ traceId: id, status: 1 })]);
    expect(evaluate('test-policy-5', ok)).toBe(Verdict.NotSampled);
    expect(evaluate('test-policy-5', one({ status: 2 }))).toBe(Verdict.Sampled);
    expect(evaluate('test-policy-5', one())).toBe(Verdict.Sampled); // no status = UNSET
    const mixed = trace([span({ traceId: id, status: 1 }), span({ traceId: id, status: 0 })]);
    expect(evaluate('test-policy-5', mixed)).toBe(Verdict.Sampled);
  });

  it('string_attribute exact: key2 equal to value1 or value2', () => {
    const v = (s: string) => evaluate('test-policy-6', one({ attributes: [attr('key2', s)] }));
    expect(v('value1')).toBe(Verdict.Sampled);
    expect(v('value2')).toBe(Verdict.Sampled);
    expect(v('value10')).toBe(Verdict.NotSampled);
    expect(v('value3')).toBe(Verdict.NotSampled);
  });

  it('string_attribute regex [value1, val*]: unanchored, as Go regexp.MatchString', () => {
    const v = (s: string) => evaluate('test-policy-7', one({ attributes: [attr('key2', s)] }));
    expect(v('value1')).toBe(Verdict.Sampled);
    expect(v('valid')).toBe(Verdict.Sampled);
    expect(v('java')).toBe(Verdict.Sampled); // "va" then zero l's
    expect(v('other')).toBe(Verdict.NotSampled);
  });

  it('rate_limiting: 35 spans per second of the clock; the count restarts each second', () => {
    const ev = createEvaluator(policy('test-policy-8'));
    const tenSpans = () => {
      const id = traceId(++seq);
      return trace(Array.from({ length: 10 }, () => span({ traceId: id })));
    };
    const second = (ms: number) => [0, 100, 200, 300].map((d) => ev.evaluate(tenSpans(), ms + d));
    // 10, 20, 30 stay below 35; a fourth would make 40.
    const sampledThree = [Verdict.Sampled, Verdict.Sampled, Verdict.Sampled, Verdict.NotSampled];
    expect(second(0)).toEqual(sampledThree);
    expect(second(1_000)).toEqual(sampledThree);
    expect(second(5_000)).toEqual(sampledThree);
  });

  it('span_count: between 2 and 20 spans, inclusive', () => {
    const n = (count: number) => {
      const id = traceId(++seq);
      return evaluate(
        'test-policy-10',
        trace(Array.from({ length: count }, () => span({ traceId: id }))),
      );
    };
    expect([1, 2, 20, 21].map(n)).toEqual([
      Verdict.NotSampled,
      Verdict.Sampled,
      Verdict.Sampled,
      Verdict.NotSampled,
    ]);
  });

  it('trace_state: key3 with value1 or value2 in the W3C tracestate', () => {
    const v = (ts: string) => evaluate('test-policy-11', one({ traceState: ts }));
    expect(v('key3=value1')).toBe(Verdict.Sampled);
    expect(v('vendor=x,key3=value2')).toBe(Verdict.Sampled);
    expect(v('key3=value3')).toBe(Verdict.NotSampled);
    expect(v('')).toBe(Verdict.NotSampled);
  });

  it('boolean_attribute: key4 = true', () => {
    const v = (attrs: KeyValue[]) => evaluate('test-policy-12', one({ attributes: attrs }));
    expect(v([attr('key4', true)])).toBe(Verdict.Sampled);
    expect(v([attr('key4', false)])).toBe(Verdict.NotSampled);
    expect(v([attr('key4', 'true')])).toBe(Verdict.NotSampled);
    expect(v([])).toBe(Verdict.NotSampled);
  });

  it('and: both key1 in [50, 100] and key2 in [value1, value2], anywhere in the trace', () => {
    const id = traceId(++seq);
    const both = trace([
      span({ traceId: id, attributes: [attr('key1', 70)] }),
      span({ traceId: id, attributes: [attr('key2', 'value2')] }),
    ]);
    expect(evaluate('and-policy-1', both)).toBe(Verdict.Sampled);
    expect(evaluate('and-policy-1', one({ attributes: [attr('key1', 70)] }))).toBe(
      Verdict.NotSampled,
    );
    expect(evaluate('and-policy-1', one({ attributes: [attr('key2', 'value1')] }))).toBe(
      Verdict.NotSampled,
    );
  });

  it('drop: url.path matching /health or /metrics is dropped, whatever else samples it', () => {
    expect(evaluate('drop-policy-1', one({ attributes: [attr('url.path', '/health')] }))).toBe(
      Verdict.Dropped,
    );
    expect(evaluate('drop-policy-1', one({ attributes: [attr('url.path', '/v1/metrics')] }))).toBe(
      Verdict.Dropped,
    );
    expect(evaluate('drop-policy-1', one({ attributes: [attr('url.path', '/chat')] }))).toBe(
      Verdict.NotSampled,
    );
  });

  it('composite: key1 >= 50 gets 50% of 1000 spans/s, key2 25%, the unallocated always_sample none', () => {
    const ev = createEvaluator(policy('composite-policy-1'));
    const hundred = (attrs: KeyValue[]) => {
      const id = traceId(++seq);
      return trace(Array.from({ length: 100 }, () => span({ traceId: id, attributes: attrs })));
    };
    const run = (attrs: KeyValue[], ms: number) =>
      Array.from({ length: 7 }, (_, i) => ev.evaluate(hundred(attrs), ms + i)).filter(
        (v) => v === Verdict.Sampled,
      ).length;
    expect(run([attr('key1', 50)], 0)).toBe(5); // 500 spans/s
    expect(run([attr('key2', 'value1')], 0)).toBe(2); // 250 spans/s (in the same second)
    expect(run([attr('key1', 10)], 0)).toBe(0); // falls to always_sample: no allocation
    expect(run([attr('key1', 99)], 1_000)).toBe(5); // a new second, a new budget
  });

  it('the whole example, compiled: always_sample keeps everything except what drop-policy-1 drops', () => {
    const sampler = new TailSampler(tail);
    const health = traceId(++seq);
    const chat = traceId(++seq);
    const failed = traceId(++seq);
    sampler.add(
      batch([
        span({ traceId: health, attributes: [attr('url.path', '/health')], status: 2 }),
        span({ traceId: chat, attributes: [attr('url.path', '/chat')] }),
        span({ traceId: failed, status: 2 }),
      ]),
      0,
    );
    expect(sampler.poll(9_999)).toEqual([]);
    const out = sampler.poll(10_000);
    expect(out.map((d) => [d.cause, d.decision])).toEqual([
      ['decision_wait', { sampled: false, reason: 'dropped', policy: 'drop-policy-1' }],
      ['decision_wait', { sampled: true, reason: 'sampled', policy: 'test-policy-1' }],
      ['decision_wait', { sampled: true, reason: 'sampled', policy: 'test-policy-1' }],
    ]);
    // Late spans follow the cached decision (decision_cache is configured).
    const late = sampler.add(batch([span({ traceId: health }), span({ traceId: chat })]), 20_000);
    expect(late.map((d) => [d.cause, d.decision.sampled])).toEqual([
      ['late_span', false],
      ['late_span', true],
    ]);
  });
});
