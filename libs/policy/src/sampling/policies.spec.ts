import type { Span } from '@custodian/otlp';
import { attr, batch, span, traceId } from '../../testdata/fixtures';
import {
  createEvaluator,
  decide,
  fnv1a64,
  traceStateValue,
  Verdict,
  type TraceView,
} from './policies';
import type { TailPolicyConfig } from './tail-config';

function view(spans: Span[], resourceAttrs = [] as ReturnType<typeof attr>[]): TraceView {
  return {
    traceId: spans[0].traceId,
    spanCount: spans.length,
    batches: batch(spans, 'svc', resourceAttrs).resourceSpans,
  };
}

const id = traceId(1);
const ev = (cfg: Omit<TailPolicyConfig, 'name'>) =>
  createEvaluator({ name: 'p', ...cfg } as TailPolicyConfig);

describe('tail policy evaluators (Collector semantics)', () => {
  it('always_sample samples', () => {
    expect(ev({ type: 'always_sample' }).evaluate(view([span({ traceId: id })]), 0)).toBe(
      Verdict.Sampled,
    );
  });

  it('latency measures latest end − earliest start; upper bound is exclusive below', () => {
    const t = view([
      span({ traceId: id, startMs: 1000, durationMs: 100 }),
      span({ traceId: id, startMs: 1500, durationMs: 600 }), // ends at 2100: trace = 1100 ms
    ]);
    expect(ev({ type: 'latency', latency: { threshold_ms: 1100 } }).evaluate(t, 0)).toBe(
      Verdict.Sampled,
    );
    expect(ev({ type: 'latency', latency: { threshold_ms: 1101 } }).evaluate(t, 0)).toBe(
      Verdict.NotSampled,
    );
    expect(
      ev({ type: 'latency', latency: { threshold_ms: 1000, upper_threshold_ms: 1100 } }).evaluate(
        t,
        0,
      ),
    ).toBe(Verdict.Sampled);
    expect(
      ev({ type: 'latency', latency: { threshold_ms: 1100, upper_threshold_ms: 2000 } }).evaluate(
        t,
        0,
      ),
    ).toBe(Verdict.NotSampled);
    expect(
      ev({ type: 'latency', latency: { threshold_ms: 500, upper_threshold_ms: 1000 } }).evaluate(
        t,
        0,
      ),
    ).toBe(Verdict.NotSampled);
  });

  it('numeric_attribute matches span or resource values in [min, max], with invert_match', () => {
    const t = view([span({ traceId: id, attributes: [attr('http.status_code', 503)] })]);
    const cfg = { key: 'http.status_code', min_value: 500, max_value: 599 };
    expect(ev({ type: 'numeric_attribute', numeric_attribute: cfg }).evaluate(t, 0)).toBe(
      Verdict.Sampled,
    );
    expect(
      ev({
        type: 'numeric_attribute',
        numeric_attribute: { key: 'http.status_code', max_value: 499 },
      }).evaluate(t, 0),
    ).toBe(Verdict.NotSampled);
    expect(
      ev({ type: 'numeric_attribute', numeric_attribute: { ...cfg, invert_match: true } }).evaluate(
        t,
        0,
      ),
    ).toBe(Verdict.InvertNotSampled);
    const other = view([span({ traceId: id })], [attr('tier', 2.5)]);
    expect(
      ev({ type: 'numeric_attribute', numeric_attribute: { key: 'tier', min_value: 2 } }).evaluate(
        other,
        0,
      ),
    ).toBe(Verdict.Sampled);
    expect(
      ev({ type: 'numeric_attribute', numeric_attribute: { ...cfg, invert_match: true } }).evaluate(
        other,
        0,
      ),
    ).toBe(Verdict.InvertSampled);
  });

  it('probabilistic hashes salt + trace id with FNV-1a 64 like the Collector', () => {
    // FNV-1a 64("a") = 0xaf63dc4c8601ec8c (empty salt + one byte).
    expect(fnv1a64(new Uint8Array(0), new TextEncoder().encode('a'))).toBe(0xaf63dc4c8601ec8cn);
    let kept = 0;
    const p = ev({ type: 'probabilistic', probabilistic: { sampling_percentage: 30 } });
    for (let i = 0; i < 10_000; i++)
      if (p.evaluate(view([span({ traceId: traceId(i * 7919) })]), 0) === Verdict.Sampled) kept++;
    expect(kept / 10_000).toBeGreaterThan(0.27);
    expect(kept / 10_000).toBeLessThan(0.33);
    expect(
      ev({ type: 'probabilistic', probabilistic: { sampling_percentage: 100 } }).evaluate(
        view([span({ traceId: id })]),
        0,
      ),
    ).toBe(Verdict.Sampled);
  });

  it('status_code samples when any span has a listed code', () => {
    const ok = view([span({ traceId: id, status: 1 }), span({ traceId: id })]);
    const err = view([span({ traceId: id, status: 1 }), span({ traceId: id, status: 2 })]);
    const p = ev({ type: 'status_code', status_code: { status_codes: ['ERROR'] } });
    expect(p.evaluate(ok, 0)).toBe(Verdict.NotSampled);
    expect(p.evaluate(err, 0)).toBe(Verdict.Sampled);
    expect(
      ev({ type: 'status_code', status_code: { status_codes: ['UNSET'] } }).evaluate(ok, 0),
    ).toBe(Verdict.Sampled);
  });

  it('string_attribute: exact, RE2 regex and invert_match', () => {
    const t = view([span({ traceId: id, attributes: [attr('url.path', '/health')] })]);
    expect(
      ev({
        type: 'string_attribute',
        string_attribute: { key: 'url.path', values: ['/health'] },
      }).evaluate(t, 0),
    ).toBe(Verdict.Sampled);
    expect(
      ev({
        type: 'string_attribute',
        string_attribute: { key: 'url.path', values: ['/heal'] },
      }).evaluate(t, 0),
    ).toBe(Verdict.NotSampled);
    expect(
      ev({
        type: 'string_attribute',
        string_attribute: { key: 'url.path', values: ['heal'], enabled_regex_matching: true },
      }).evaluate(t, 0),
    ).toBe(Verdict.Sampled);
    expect(
      ev({
        type: 'string_attribute',
        string_attribute: { key: 'url.path', values: ['/health'], invert_match: true },
      }).evaluate(t, 0),
    ).toBe(Verdict.InvertNotSampled);
    // invert_match: a trace without the key is sampled (inverted).
    const none = view([span({ traceId: id })]);
    expect(
      ev({
        type: 'string_attribute',
        string_attribute: { key: 'url.path', values: ['/health'], invert_match: true },
      }).evaluate(none, 0),
    ).toBe(Verdict.InvertSampled);
    // resource attributes count too
    const res = view([span({ traceId: id })], [attr('deployment.environment', 'prod')]);
    expect(
      ev({
        type: 'string_attribute',
        string_attribute: { key: 'deployment.environment', values: ['prod'] },
      }).evaluate(res, 0),
    ).toBe(Verdict.Sampled);
  });

  it('boolean_attribute matches the value, with invert_match', () => {
    const t = view([span({ traceId: id, attributes: [attr('app.force_sample', true)] })]);
    expect(
      ev({
        type: 'boolean_attribute',
        boolean_attribute: { key: 'app.force_sample', value: true },
      }).evaluate(t, 0),
    ).toBe(Verdict.Sampled);
    expect(
      ev({
        type: 'boolean_attribute',
        boolean_attribute: { key: 'app.force_sample', value: false },
      }).evaluate(t, 0),
    ).toBe(Verdict.NotSampled);
    expect(
      ev({
        type: 'boolean_attribute',
        boolean_attribute: { key: 'app.force_sample', value: true, invert_match: true },
      }).evaluate(t, 0),
    ).toBe(Verdict.InvertNotSampled);
  });

  it('rate_limiting counts spans per second of the passed clock', () => {
    const p = ev({ type: 'rate_limiting', rate_limiting: { spans_per_second: 10 } });
    const four = view([0, 1, 2, 3].map(() => span({ traceId: id })));
    expect(p.evaluate(four, 5_000)).toBe(Verdict.Sampled); // 4 < 10
    expect(p.evaluate(four, 5_100)).toBe(Verdict.Sampled); // 8 < 10
    expect(p.evaluate(four, 5_999)).toBe(Verdict.NotSampled); // 12 >= 10
    expect(p.evaluate(four, 6_000)).toBe(Verdict.Sampled); // new second
  });

  it('span_count is inclusive; max 0 means no maximum', () => {
    const t = view([0, 1, 2].map(() => span({ traceId: id })));
    expect(ev({ type: 'span_count', span_count: { min_spans: 3 } }).evaluate(t, 0)).toBe(
      Verdict.Sampled,
    );
    expect(
      ev({ type: 'span_count', span_count: { min_spans: 1, max_spans: 3 } }).evaluate(t, 0),
    ).toBe(Verdict.Sampled);
    expect(
      ev({ type: 'span_count', span_count: { min_spans: 1, max_spans: 2 } }).evaluate(t, 0),
    ).toBe(Verdict.NotSampled);
    expect(ev({ type: 'span_count', span_count: { min_spans: 4 } }).evaluate(t, 0)).toBe(
      Verdict.NotSampled,
    );
  });

  it('trace_state matches a W3C tracestate member', () => {
    expect(traceStateValue('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE', 'congo')).toBe(
      't61rcWkgMzE',
    );
    const t = view([span({ traceId: id, traceState: 'vendor=a,tier=gold' })]);
    expect(
      ev({ type: 'trace_state', trace_state: { key: 'tier', values: ['gold'] } }).evaluate(t, 0),
    ).toBe(Verdict.Sampled);
    expect(
      ev({ type: 'trace_state', trace_state: { key: 'tier', values: ['silver'] } }).evaluate(t, 0),
    ).toBe(Verdict.NotSampled);
  });

  it('trace_flags samples when a span has the sampled flag', () => {
    expect(ev({ type: 'trace_flags' }).evaluate(view([span({ traceId: id, flags: 1 })]), 0)).toBe(
      Verdict.Sampled,
    );
    expect(ev({ type: 'trace_flags' }).evaluate(view([span({ traceId: id, flags: 0 })]), 0)).toBe(
      Verdict.NotSampled,
    );
  });

  it('span_match needs every condition on the SAME span (unlike an "and" over the trace)', () => {
    const failedTool = ev({
      type: 'span_match',
      span_match: { status_codes: ['ERROR'], attributes: [{ key: 'tool.name' }] },
    });
    const tool = (status: number) =>
      span({ traceId: id, name: 'tool.call', status, attributes: [attr('tool.name', 'sql')] });
    const llmError = span({ traceId: id, name: 'llm.chat', status: 2 });
    expect(failedTool.evaluate(view([tool(2)]), 0)).toBe(Verdict.Sampled);
    // An error on the LLM span and a tool span that succeeded: not a failed tool.
    expect(failedTool.evaluate(view([llmError, tool(1)]), 0)).toBe(Verdict.NotSampled);
    const codes = ev({
      type: 'span_match',
      span_match: {
        span_names: ['llm.chat'],
        attributes: [{ key: 'http.status_code', values: ['429'] }],
      },
    });
    const llm = (v: number | string, name = 'llm.chat') =>
      view([span({ traceId: id, name, attributes: [attr('http.status_code', v)] })]);
    expect(codes.evaluate(llm(429), 0)).toBe(Verdict.Sampled); // int, compared as "429"
    expect(codes.evaluate(llm('429'), 0)).toBe(Verdict.Sampled);
    expect(codes.evaluate(llm(500), 0)).toBe(Verdict.NotSampled);
    expect(codes.evaluate(llm(429, 'tool.call'), 0)).toBe(Verdict.NotSampled);
  });

  it('and samples only when every sub-policy samples (inverted decisions count as plain)', () => {
    const t = view([span({ traceId: id, status: 2, attributes: [attr('tool.name', 'sql')] })]);
    const and = (second: TailPolicyConfig) =>
      ev({
        type: 'and',
        and: {
          and_sub_policy: [
            { name: 'e', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
            second,
          ],
        },
      });
    expect(
      and({
        name: 's',
        type: 'string_attribute',
        string_attribute: { key: 'tool.name', values: ['sql'] },
      }).evaluate(t, 0),
    ).toBe(Verdict.Sampled);
    expect(
      and({
        name: 's',
        type: 'string_attribute',
        string_attribute: { key: 'tool.name', values: ['web'] },
      }).evaluate(t, 0),
    ).toBe(Verdict.NotSampled);
    expect(
      and({
        name: 's',
        type: 'string_attribute',
        string_attribute: { key: 'tool.name', values: ['web'], invert_match: true },
      }).evaluate(t, 0),
    ).toBe(Verdict.Sampled);
  });

  it('drop says Dropped when all its sub-policies sample', () => {
    const t = view([span({ traceId: id, attributes: [attr('url.path', '/metrics')] })]);
    const drop = ev({
      type: 'drop',
      drop: {
        drop_sub_policy: [
          {
            name: 'x',
            type: 'string_attribute',
            string_attribute: { key: 'url.path', values: ['/health', '/metrics'] },
          },
        ],
      },
    });
    expect(drop.evaluate(t, 0)).toBe(Verdict.Dropped);
    expect(drop.evaluate(view([span({ traceId: id })]), 0)).toBe(Verdict.NotSampled);
  });

  it('composite samples in policy order within each sub-policy allocation per second', () => {
    const p = ev({
      type: 'composite',
      composite: {
        max_total_spans_per_second: 10,
        policy_order: ['errors', 'rest'],
        composite_sub_policy: [
          { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
          { name: 'rest', type: 'always_sample' },
        ],
        rate_allocation: [
          { policy: 'errors', percent: 50 },
          { policy: 'rest', percent: 30 },
        ],
      },
    });
    const err = view([0, 1, 2].map(() => span({ traceId: id, status: 2 })));
    const ok = view([0, 1].map(() => span({ traceId: id })));
    expect(p.evaluate(err, 0)).toBe(Verdict.Sampled); // errors: 3 <= 5
    expect(p.evaluate(err, 10)).toBe(Verdict.NotSampled); // errors: 6 > 5 (not sampled, does not fall through)
    expect(p.evaluate(ok, 20)).toBe(Verdict.Sampled); // rest: 2 <= 3
    expect(p.evaluate(ok, 30)).toBe(Verdict.NotSampled); // rest: 4 > 3
    expect(p.evaluate(err, 1000)).toBe(Verdict.Sampled); // next second resets
  });
});

describe('decide (the Collector final-decision rule)', () => {
  const t = view([span({ traceId: id, status: 2, attributes: [attr('app.do_not_sample', true)] })]);
  const errors: TailPolicyConfig = {
    name: 'errors',
    type: 'status_code',
    status_code: { status_codes: ['ERROR'] },
  };
  const never: TailPolicyConfig = {
    name: 'never',
    type: 'span_count',
    span_count: { min_spans: 99 },
  };

  it('any sampled → sampled, naming the first sampling policy', () => {
    expect(
      decide(
        [never, errors].map((c) => createEvaluator(c)),
        t,
        0,
      ),
    ).toEqual({
      sampled: true,
      reason: 'sampled',
      policy: 'errors',
    });
  });

  it('nothing sampled → not sampled, said explicitly', () => {
    expect(
      decide(
        [never].map((c) => createEvaluator(c)),
        t,
        0,
      ),
    ).toEqual({
      sampled: false,
      reason: 'no_policy_sampled',
    });
  });

  it('a drop policy wins over any sample', () => {
    const drop: TailPolicyConfig = {
      name: 'do-not-sample',
      type: 'drop',
      drop: {
        drop_sub_policy: [
          {
            name: 'flag',
            type: 'boolean_attribute',
            boolean_attribute: { key: 'app.do_not_sample', value: true },
          },
        ],
      },
    };
    expect(
      decide(
        [errors, drop].map((c) => createEvaluator(c)),
        t,
        0,
      ),
    ).toEqual({
      sampled: false,
      reason: 'dropped',
      policy: 'do-not-sample',
    });
  });

  it('InvertNotSampled wins over Sampled', () => {
    const inv: TailPolicyConfig = {
      name: 'inv',
      type: 'boolean_attribute',
      boolean_attribute: { key: 'app.do_not_sample', value: true, invert_match: true },
    };
    expect(
      decide(
        [errors, inv].map((c) => createEvaluator(c)),
        t,
        0,
      ),
    ).toEqual({
      sampled: false,
      reason: 'inverted_not_sampled',
      policy: 'inv',
    });
  });

  it('InvertSampled samples only when no policy said NotSampled', () => {
    const inv: TailPolicyConfig = {
      name: 'inv',
      type: 'string_attribute',
      string_attribute: { key: 'team', values: ['a'], invert_match: true },
    };
    expect(
      decide(
        [inv].map((c) => createEvaluator(c)),
        t,
        0,
      ),
    ).toEqual({
      sampled: true,
      reason: 'inverted_sampled',
      policy: 'inv',
    });
    expect(
      decide(
        [inv, never].map((c) => createEvaluator(c)),
        t,
        0,
      ).sampled,
    ).toBe(false);
  });

  it('sample_on_first_match stops evaluating at the first sample', () => {
    const rl: TailPolicyConfig = {
      name: 'rl',
      type: 'rate_limiting',
      rate_limiting: { spans_per_second: 2 },
    };
    const evs = [errors, rl].map((c) => createEvaluator(c));
    for (let i = 0; i < 5; i++) decide(evs, t, 0, true);
    // The rate limiter was never consulted, so it still has its whole budget.
    expect(evs[1].evaluate(t, 0)).toBe(Verdict.Sampled);
  });
});
