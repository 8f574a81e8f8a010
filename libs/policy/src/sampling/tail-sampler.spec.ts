import fc from 'fast-check';
import type { Span } from '@custodian/otlp';
import { allSpans, attr, batch, span, traceId } from '../../testdata/fixtures';
import type { TailPolicyConfig, TailSamplingConfig } from './tail-config';
import { createEvaluator, decide, type TraceView } from './policies';
import { TailSampler, type DecidedTrace } from './tail-sampler';
import { traceIdHex } from './trace-id';

const ERRORS: TailPolicyConfig = {
  name: 'errors',
  type: 'status_code',
  status_code: { status_codes: ['ERROR'] },
};
const config = (over: Partial<TailSamplingConfig> = {}): TailSamplingConfig => ({
  decision_wait: '10s',
  policies: [ERRORS],
  ...over,
});

function spansOf(out: DecidedTrace[]): Span[] {
  return out.flatMap((d) => allSpans({ resourceSpans: d.spans }));
}

describe('TailSampler', () => {
  it('holds a trace for decision_wait after its first span, then decides it', () => {
    const s = new TailSampler(config());
    const id = traceId(1);
    expect(s.add(batch([span({ traceId: id })]), 1_000)).toEqual([]);
    expect(s.add(batch([span({ traceId: id, status: 2 })]), 5_000)).toEqual([]);
    expect(s.poll(10_999)).toEqual([]);
    expect(s.decisionFor(id)).toBe('pending');
    const out = s.poll(11_000);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      traceId: traceIdHex(id),
      cause: 'decision_wait',
      spanCount: 2,
      decision: { sampled: true, reason: 'sampled', policy: 'errors' },
    });
    expect(s.decisionFor(id)).toEqual({ sampled: true, reason: 'sampled', policy: 'errors' });
    expect(s.stats).toMatchObject({
      tracesBuffered: 0,
      spansBuffered: 0,
      tracesSampled: 1,
      spansSampled: 2,
    });
  });

  it('without retainSpans holds and returns no spans, late ones included: outputs say so', () => {
    const s = new TailSampler(config(), { retainSpans: false, spanBytes: () => 10 });
    const id = traceId(3);
    expect(s.add(batch([span({ traceId: id, status: 2 }), span({ traceId: id })]), 0)).toEqual([]);
    expect(s.stats).toMatchObject({ spansBuffered: 2, tracesBuffered: 1 });
    const [d] = s.poll(10_000);
    expect(d).toMatchObject({
      cause: 'decision_wait',
      spans: [],
      spansRetained: false,
      spanCount: 2,
      decision: { sampled: true },
    });
    const late = s.add(batch([span({ traceId: id, name: 'late' })]), 10_001);
    expect(late).toMatchObject([
      { cause: 'late_span', spans: [], spansRetained: false, spanCount: 1 },
    ]);
  });

  it('says whether its policies read what preparing changes (attributes, names)', () => {
    const needs = (policies: TailPolicyConfig[]) =>
      new TailSampler(config({ policies })).needsPreparedSpans;
    const latency: TailPolicyConfig = {
      name: 'slow',
      type: 'latency',
      latency: { threshold_ms: 1 },
    };
    const str: TailPolicyConfig = {
      name: 's',
      type: 'string_attribute',
      string_attribute: { key: 'k', values: ['v'] },
    };
    expect(needs([ERRORS, latency])).toBe(false);
    expect(
      needs([{ name: 'p', type: 'probabilistic', probabilistic: { sampling_percentage: 5 } }]),
    ).toBe(false);
    expect(needs([ERRORS, str])).toBe(true);
    expect(needs([{ name: 'a', type: 'and', and: { and_sub_policy: [latency, str] } }])).toBe(true);
    expect(
      needs([
        { name: 'b', type: 'boolean_attribute', boolean_attribute: { key: 'f', value: true } },
      ]),
    ).toBe(true);
    expect(
      needs([
        { name: 'm', type: 'span_match', span_match: { span_names: ['x'] } } as TailPolicyConfig,
      ]),
    ).toBe(true);
  });

  it('keeps the resource and scope of each span in its output', () => {
    const s = new TailSampler(config());
    const id = traceId(2);
    s.add(batch([span({ traceId: id })], 'planner'), 0);
    s.add(batch([span({ traceId: id })], 'tools'), 0);
    const [out] = s.flushAll();
    expect(out.spans.map((rs) => rs.resource?.attributes[0].value.stringValue)).toEqual([
      'planner',
      'tools',
    ]);
    expect(out.spans[0].scopeSpans[0].scope?.name).toBe('custodian.test');
  });

  it('splits one batch holding several traces, without losing order within a trace', () => {
    const s = new TailSampler(config());
    const a = traceId(10);
    const b = traceId(11);
    const spans = [
      span({ traceId: a, name: 'a1' }),
      span({ traceId: b, name: 'b1' }),
      span({ traceId: a, name: 'a2' }),
    ];
    s.add(batch(spans), 0);
    const out = s.flushAll();
    const byId = new Map(out.map((d) => [d.traceId, spansOf([d]).map((x) => x.name)]));
    expect(byId.get(traceIdHex(a))).toEqual(['a1', 'a2']);
    expect(byId.get(traceIdHex(b))).toEqual(['b1']);
    expect(out.every((d) => d.cause === 'flush')).toBe(true);
  });

  it('late spans follow the cached decision and come out of add at once', () => {
    const s = new TailSampler(config());
    const kept = traceId(20);
    const dropped = traceId(21);
    s.add(batch([span({ traceId: kept, status: 2 }), span({ traceId: dropped })]), 0);
    s.poll(10_000);
    const late = s.add(
      batch([span({ traceId: kept }), span({ traceId: dropped }), span({ traceId: dropped })]),
      20_000,
    );
    expect(late.map((d) => [d.traceId, d.cause, d.decision.sampled, d.spanCount])).toEqual([
      [traceIdHex(kept), 'late_span', true, 1],
      [traceIdHex(dropped), 'late_span', false, 2],
    ]);
    expect(s.stats.lateSpans).toBe(3);
    expect(s.stats.tracesBuffered).toBe(0);
  });

  it('without a decision cache, late spans start a new trace (Collector behaviour with cache size 0)', () => {
    const s = new TailSampler(
      config({ decision_cache: { sampled_cache_size: 0, non_sampled_cache_size: 0 } }),
    );
    const id = traceId(22);
    s.add(batch([span({ traceId: id, status: 2 })]), 0);
    s.poll(10_000);
    expect(s.add(batch([span({ traceId: id })]), 10_001)).toEqual([]);
    expect(s.decisionFor(id)).toBe('pending');
  });

  it('decides the OLDEST trace early when num_traces is reached, and counts it', () => {
    const s = new TailSampler(config({ num_traces: 2 }));
    s.add(batch([span({ traceId: traceId(1), status: 2 })]), 0);
    s.add(batch([span({ traceId: traceId(2) })]), 1);
    const out = s.add(batch([span({ traceId: traceId(3) })]), 2);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      traceId: traceIdHex(traceId(1)),
      cause: 'num_traces',
      decision: { sampled: true },
    });
    expect(s.stats.tracesBuffered).toBe(2);
    expect(s.stats.earlyDecisions.num_traces).toBe(1);
  });

  it('decides the oldest traces early past the span and byte budgets', () => {
    const s = new TailSampler(config({ max_buffered_spans: 5 }));
    s.add(batch([0, 1, 2].map(() => span({ traceId: traceId(1) }))), 0);
    s.add(batch([0, 1].map(() => span({ traceId: traceId(2) }))), 1);
    const out = s.add(batch([span({ traceId: traceId(3) })]), 2);
    expect(out.map((d) => [d.traceId, d.cause])).toEqual([[traceIdHex(traceId(1)), 'budget']]);
    expect(s.stats.spansBuffered).toBe(3);

    const b = new TailSampler(config({ max_buffered_bytes: 2_000 }), { spanBytes: () => 500 });
    b.add(batch([0, 1, 2].map(() => span({ traceId: traceId(1) }))), 0);
    const early = b.add(batch([0, 1].map(() => span({ traceId: traceId(2) }))), 1);
    expect(early.map((d) => d.cause)).toEqual(['budget']);
    expect(b.stats.bytesBuffered).toBeLessThanOrEqual(2_000);
  });

  it('uses the passed clock for rate limiting and never goes back in time', () => {
    const s = new TailSampler({
      decision_wait: '1s',
      policies: [{ name: 'rl', type: 'rate_limiting', rate_limiting: { spans_per_second: 3 } }],
    });
    s.add(batch([span({ traceId: traceId(1) }), span({ traceId: traceId(1) })]), 0);
    s.add(batch([span({ traceId: traceId(2) }), span({ traceId: traceId(2) })]), 0);
    const out = s.poll(1_000);
    expect(out.map((d) => d.decision)).toEqual([
      { sampled: true, reason: 'sampled', policy: 'rl' },
      { sampled: false, reason: 'no_policy_sampled' },
    ]);
    // An earlier `now` is treated as the latest seen: nothing new becomes due.
    s.add(batch([span({ traceId: traceId(3) })]), 500);
    expect(s.nextDueAt()).toBe(2_000);
    expect(s.poll(1_999)).toEqual([]);
  });

  it('decision cache is an LRU: past its size the least recently used decision is forgotten', () => {
    const s = new TailSampler(
      config({ decision_cache: { sampled_cache_size: 2, non_sampled_cache_size: 2 } }),
    );
    for (const n of [1, 2, 3]) s.add(batch([span({ traceId: traceId(n), status: 2 })]), 0);
    s.poll(10_000);
    // Cache holds 2 and 3 (1 was evicted); a lookup of 2 makes 3 the least recently used.
    expect(s.decisionFor(traceId(1))).toBeUndefined();
    expect(s.decisionFor(traceId(2))).toMatchObject({ sampled: true });
    s.add(batch([span({ traceId: traceId(4), status: 2 })]), 10_000);
    s.poll(20_000);
    expect(s.decisionFor(traceId(3))).toBeUndefined();
    expect(s.decisionFor(traceId(2))).toMatchObject({ sampled: true });
    // A late span of an evicted trace starts a new trace (Collector scenario 2); one of a
    // cached trace follows the decision at once (scenario 3).
    const out = s.add(
      batch([span({ traceId: traceId(1) }), span({ traceId: traceId(2) })]),
      20_000,
    );
    expect(out.map((d) => [d.traceId, d.cause])).toEqual([[traceIdHex(traceId(2)), 'late_span']]);
    expect(s.decisionFor(traceId(1))).toBe('pending');
  });

  it('rate limiting over simulated seconds: at most spans_per_second per clock second', () => {
    const limit = 50;
    const s = new TailSampler({
      decision_wait: '1s',
      policies: [{ name: 'rl', type: 'rate_limiting', rate_limiting: { spans_per_second: limit } }],
    });
    const perSecond = new Map<number, number>();
    let n = 0;
    for (let ms = 0; ms < 20_000; ms += 50) {
      // 3 traces of 4 spans every 50 ms: 240 spans/s offered.
      const spans: Span[] = [];
      for (let t = 0; t < 3; t++) {
        const id = traceId(++n);
        for (let k = 0; k < 4; k++) spans.push(span({ traceId: id }));
      }
      s.add(batch(spans), ms);
      for (const d of s.poll(ms)) {
        if (!d.decision.sampled) continue;
        const sec = Math.floor(ms / 1000);
        perSecond.set(sec, (perSecond.get(sec) ?? 0) + d.spanCount);
      }
    }
    const counts = [...perSecond.values()];
    expect(counts.length).toBeGreaterThanOrEqual(18);
    // The Collector's rule: sampled while the second's count stays below the limit → 48.
    for (const c of counts) expect(c).toBe(48);
  });

  it('accepts hex or bytes in decisionFor and knows nothing of unseen traces', () => {
    const s = new TailSampler(config());
    const id = traceId(5);
    s.add(batch([span({ traceId: id })]), 0);
    s.flushAll();
    expect(s.decisionFor(traceIdHex(id).toUpperCase())).toEqual({
      sampled: false,
      reason: 'no_policy_sampled',
    });
    expect(s.decisionFor(traceId(6))).toBeUndefined();
  });
});

describe('TailSampler properties', () => {
  type Op =
    | { kind: 'add'; trace: number; spans: number; error: boolean; dt: number }
    | { kind: 'poll'; dt: number }
    | { kind: 'flush' };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('add' as const),
        trace: fc.integer({ min: 0, max: 12 }),
        spans: fc.integer({ min: 1, max: 4 }),
        error: fc.boolean(),
        dt: fc.integer({ min: 0, max: 3_000 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('poll' as const),
        dt: fc.integer({ min: 0, max: 12_000 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const) }) },
  );
  const cfgArb = fc.record({
    num_traces: fc.integer({ min: 1, max: 6 }),
    max_buffered_spans: fc.integer({ min: 1, max: 20 }),
    sampled_cache_size: fc.integer({ min: 0, max: 5 }),
    non_sampled_cache_size: fc.integer({ min: 0, max: 5 }),
  });

  it('never loses a span: every span added comes out exactly once, and error traces are kept', () => {
    fc.assert(
      fc.property(cfgArb, fc.array(opArb, { maxLength: 60 }), (c, ops) => {
        const s = new TailSampler({
          decision_wait: '5s',
          num_traces: c.num_traces,
          max_buffered_spans: c.max_buffered_spans,
          decision_cache: {
            sampled_cache_size: c.sampled_cache_size,
            non_sampled_cache_size: c.non_sampled_cache_size,
          },
          policies: [
            ERRORS,
            { name: 'some', type: 'probabilistic', probabilistic: { sampling_percentage: 30 } },
          ],
        });
        const added: Span[] = [];
        const seen = new Map<Span, number>();
        const collect = (out: DecidedTrace[]) => {
          for (const d of out) {
            const spans = spansOf([d]);
            expect(spans.length).toBe(d.spanCount);
            for (const sp of spans) {
              seen.set(sp, (seen.get(sp) ?? 0) + 1);
              expect(traceIdHex(sp.traceId)).toBe(d.traceId);
              // A trace decided with an error span in hand is always kept.
              if (spans.some((x) => x.status?.code === 2) && d.cause !== 'late_span')
                expect(d.decision.sampled).toBe(true);
            }
          }
        };
        let now = 0;
        for (const op of ops) {
          if (op.kind === 'add') {
            now += op.dt;
            const spans = Array.from({ length: op.spans }, (_, i) =>
              span({ traceId: traceId(op.trace), status: op.error && i === 0 ? 2 : 0 }),
            );
            added.push(...spans);
            collect(s.add(batch(spans), now));
          } else if (op.kind === 'poll') {
            now += op.dt;
            collect(s.poll(now));
          } else collect(s.flushAll(now));
          expect(s.stats.tracesBuffered).toBeLessThanOrEqual(c.num_traces);
          expect(s.stats.spansBuffered).toBeLessThanOrEqual(c.max_buffered_spans);
        }
        collect(s.flushAll(now));
        expect(seen.size).toBe(added.length);
        for (const sp of added) expect(seen.get(sp)).toBe(1);
        const st = s.stats;
        expect(st.spansSampled + st.spansNotSampled).toBe(added.length);
      }),
      { numRuns: 300 },
    );
  });

  it('decides the same way for the same trace id on any sampler (consistent by trace id)', () => {
    const cfg: TailSamplingConfig = {
      decision_wait: '1s',
      policies: [
        ERRORS,
        { name: 'some', type: 'probabilistic', probabilistic: { sampling_percentage: 25 } },
      ],
    };
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uint8Array({ minLength: 16, maxLength: 16 }), {
          minLength: 1,
          maxLength: 40,
          selector: (id) => traceIdHex(id),
        }),
        fc.boolean(),
        (ids, reverse) => {
          const decideAll = (order: Uint8Array[], split: boolean) => {
            const s = new TailSampler(cfg);
            if (split) for (const id of order) s.add(batch([span({ traceId: id })]), 0);
            else s.add(batch(order.map((id) => span({ traceId: id }))), 0);
            return new Map(s.poll(1_000).map((d) => [d.traceId, d.decision]));
          };
          const a = decideAll(ids, false);
          const b = decideAll(reverse ? [...ids].reverse() : ids, true);
          for (const id of ids) expect(b.get(traceIdHex(id))).toEqual(a.get(traceIdHex(id)));
        },
      ),
    );
  });

  it('late spans follow the cached decision', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.boolean()), {
          minLength: 1,
          maxLength: 30,
        }),
        (traces) => {
          const s = new TailSampler({ decision_wait: '1s', policies: [ERRORS] });
          for (const [t, err] of traces)
            s.add(batch([span({ traceId: traceId(t), status: err ? 2 : 0 })]), 0);
          const decided = new Map(s.poll(1_000).map((d) => [d.traceId, d.decision]));
          const late = s.add(batch(traces.map(([t]) => span({ traceId: traceId(t) }))), 2_000);
          for (const d of late) {
            expect(d.cause).toBe('late_span');
            expect(d.decision).toEqual(decided.get(d.traceId));
          }
          expect(late.reduce((n, d) => n + d.spanCount, 0)).toBe(traces.length);
        },
      ),
    );
  });
});

describe('TailSampler with agent traces', () => {
  it('keeps a failed run and samples the healthy ones by policy', () => {
    const s = new TailSampler({
      decision_wait: '30s',
      policies: [
        ERRORS,
        { name: 'slow', type: 'latency', latency: { threshold_ms: 60_000 } },
        {
          name: 'gpt',
          type: 'string_attribute',
          string_attribute: { key: 'llm.model', values: ['gpt-4o'] },
        },
      ],
    });
    s.add(batch([span({ traceId: traceId(1), attributes: [attr('llm.model', 'claude')] })]), 0);
    s.add(batch([span({ traceId: traceId(2), status: 2 })]), 0);
    s.add(batch([span({ traceId: traceId(3), attributes: [attr('llm.model', 'gpt-4o')] })]), 0);
    const out = s.poll(30_000);
    expect(out.map((d) => [d.decision.sampled, d.decision.policy])).toEqual([
      [false, undefined],
      [true, 'errors'],
      [true, 'gpt'],
    ]);
  });
});

describe('incremental evaluation (SummaryPlan) agrees with scanning the whole trace', () => {
  const policies: TailPolicyConfig[] = [
    { name: 'err', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
    { name: 'ok', type: 'status_code', status_code: { status_codes: ['OK'] } },
    { name: 'lat', type: 'latency', latency: { threshold_ms: 500 } },
    { name: 'band', type: 'latency', latency: { threshold_ms: 100, upper_threshold_ms: 300 } },
    {
      name: 'num',
      type: 'numeric_attribute',
      numeric_attribute: { key: 'n', min_value: 5, max_value: 7 },
    },
    {
      name: 'inv',
      type: 'numeric_attribute',
      numeric_attribute: { key: 'n', min_value: 9, invert_match: true },
    },
    { name: 'str', type: 'string_attribute', string_attribute: { key: 's', values: ['b'] } },
    {
      name: 're',
      type: 'string_attribute',
      string_attribute: { key: 's', values: ['^c'], enabled_regex_matching: true },
    },
    { name: 'bool', type: 'boolean_attribute', boolean_attribute: { key: 'f', value: true } },
    { name: 'ts', type: 'trace_state', trace_state: { key: 'k', values: ['v'] } },
    { name: 'flags', type: 'trace_flags' },
    { name: 'count', type: 'span_count', span_count: { min_spans: 3, max_spans: 5 } },
    {
      name: 'tool',
      type: 'span_match',
      span_match: { status_codes: ['ERROR'], attributes: [{ key: 's', values: ['a'] }] },
    },
    {
      name: 'and',
      type: 'and',
      and: {
        and_sub_policy: [
          { name: 'a1', type: 'boolean_attribute', boolean_attribute: { key: 'f', value: false } },
          { name: 'a2', type: 'latency', latency: { threshold_ms: 200 } },
        ],
      },
    },
    {
      name: 'drop',
      type: 'drop',
      drop: {
        drop_sub_policy: [
          { name: 'd1', type: 'string_attribute', string_attribute: { key: 's', values: ['x'] } },
        ],
      },
    },
  ];
  const spanArb = fc.record({
    batch: fc.integer({ min: 0, max: 2 }),
    status: fc.integer({ min: 0, max: 2 }),
    start: fc.integer({ min: 0, max: 400 }),
    dur: fc.integer({ min: 0, max: 400 }),
    n: fc.option(fc.integer({ min: 0, max: 12 })),
    s: fc.option(fc.constantFrom('a', 'b', 'cat', 'x', 'z')),
    f: fc.option(fc.boolean()),
    ts: fc.constantFrom('', 'k=v', 'k=w,o=v'),
    flags: fc.integer({ min: 0, max: 1 }),
  });
  const resourceArb = fc.option(fc.constantFrom('n', 's', 'f'));

  it('for every policy type, on random traces split across batches and resources', () => {
    const single = policies.map((p) => ({ decision_wait: '1s', policies: [p] }));
    fc.assert(
      fc.property(
        fc.array(spanArb, { minLength: 1, maxLength: 8 }),
        fc.array(resourceArb, { minLength: 3, maxLength: 3 }),
        (specs, resources) => {
          const id = traceId(7);
          const spans = specs.map((x) => {
            const attrs = [];
            if (x.n !== null) attrs.push(attr('n', x.n));
            if (x.s !== null) attrs.push(attr('s', x.s));
            if (x.f !== null) attrs.push(attr('f', x.f));
            return span({
              traceId: id,
              status: x.status,
              startMs: 1_000 + x.start,
              durationMs: x.dur,
              attributes: attrs,
              traceState: x.ts,
              flags: x.flags,
            });
          });
          const resAttrs = (b: number) => {
            const r = resources[b];
            return r === null ? [] : [attr(r, r === 'n' ? 6 : r === 's' ? 'b' : true)];
          };
          const batches = [0, 1, 2]
            .map((b) => ({ b, spans: spans.filter((_, i) => specs[i].batch === b) }))
            .filter((x) => x.spans.length)
            .map((x) => batch(x.spans, `svc${x.b}`, resAttrs(x.b)));
          const view: TraceView = {
            traceId: id,
            spanCount: spans.length,
            batches: batches.flatMap((b) => b.resourceSpans),
          };
          for (let i = 0; i < policies.length; i++) {
            const s = new TailSampler(single[i]);
            for (const b of batches) s.add(b, 0);
            const [d] = s.poll(1_000);
            const scanned = decide([createEvaluator(policies[i])], view, 1_000);
            expect([policies[i].name, d.decision]).toEqual([policies[i].name, scanned]);
            // Holding no spans decides the same, on the summary alone.
            const bare = new TailSampler(single[i], { retainSpans: false });
            for (const b of batches) bare.add(b, 0);
            const [e] = bare.poll(1_000);
            expect([policies[i].name, e.decision]).toEqual([policies[i].name, scanned]);
            expect(e).toMatchObject({ spans: [], spansRetained: false, spanCount: spans.length });
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
