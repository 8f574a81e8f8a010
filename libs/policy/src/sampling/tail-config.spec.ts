import { validateSamplingConfig } from './config';
import { validateTailSamplingConfig } from './tail-config';

describe('validateTailSamplingConfig', () => {
  it('accepts the Collector README example shape (minus unsupported types)', () => {
    const r = validateTailSamplingConfig({
      decision_wait: '10s',
      num_traces: 100,
      expected_new_traces_per_sec: 10,
      decision_cache: { sampled_cache_size: 100000, non_sampled_cache_size: 100000 },
      policies: [
        { name: 'test-policy-1', type: 'always_sample' },
        {
          name: 'test-policy-2',
          type: 'latency',
          latency: { threshold_ms: 5000, upper_threshold_ms: 10000 },
        },
        {
          name: 'test-policy-3',
          type: 'numeric_attribute',
          numeric_attribute: { key: 'key1', min_value: 50, max_value: 100 },
        },
        {
          name: 'test-policy-4',
          type: 'probabilistic',
          probabilistic: { sampling_percentage: 10 },
        },
        {
          name: 'test-policy-5',
          type: 'status_code',
          status_code: { status_codes: ['ERROR', 'UNSET'] },
        },
        {
          name: 'test-policy-6',
          type: 'string_attribute',
          string_attribute: { key: 'key2', values: ['value1', 'value2'] },
        },
        {
          name: 'test-policy-7',
          type: 'string_attribute',
          string_attribute: {
            key: 'key2',
            values: ['value1', 'val*'],
            enabled_regex_matching: true,
            cache_max_size: 10,
          },
        },
        { name: 'test-policy-8', type: 'rate_limiting', rate_limiting: { spans_per_second: 35 } },
        { name: 'test-policy-10', type: 'span_count', span_count: { min_spans: 2, max_spans: 20 } },
        {
          name: 'test-policy-11',
          type: 'trace_state',
          trace_state: { key: 'key3', values: ['value1', 'value2'] },
        },
        {
          name: 'test-policy-12',
          type: 'boolean_attribute',
          boolean_attribute: { key: 'key4', value: true },
        },
        {
          name: 'and-policy-1',
          type: 'and',
          and: {
            and_sub_policy: [
              {
                name: 'test-and-policy-1',
                type: 'numeric_attribute',
                numeric_attribute: { key: 'key1', min_value: 50, max_value: 100 },
              },
              {
                name: 'test-and-policy-2',
                type: 'string_attribute',
                string_attribute: { key: 'key2', values: ['value1', 'value2'] },
              },
            ],
          },
        },
        {
          name: 'drop-policy-1',
          type: 'drop',
          drop: {
            drop_sub_policy: [
              {
                name: 'test-drop-policy-1',
                type: 'string_attribute',
                string_attribute: {
                  key: 'url.path',
                  values: ['\\/health', '\\/metrics'],
                  enabled_regex_matching: true,
                },
              },
            ],
          },
        },
      ],
    });
    expect(r.problems).toEqual([]);
    expect(r.config?.policies).toHaveLength(13);
  });

  it('reports every problem at once, with paths', () => {
    const r = validateTailSamplingConfig({
      decision_wait: 30,
      num_traces: -1,
      decision_cache: { sampled_cache_size: 'big' },
      policies: [
        { name: 'a', type: 'latency', latency: { threshold_ms: 100, upper_threshold_ms: 50 } },
        { name: 'b', type: 'numeric_attribute', numeric_attribute: { key: 'k' } },
        {
          name: 'c',
          type: 'string_attribute',
          string_attribute: { key: 'k', values: ['(a+)+\\1'], enabled_regex_matching: true },
        },
        {
          name: 'd',
          type: 'and',
          and: { and_sub_policy: [{ name: 'x', type: 'and', and: { and_sub_policy: [] } }] },
        },
        {
          name: 'e',
          type: 'composite',
          composite: {
            max_total_spans_per_second: 100,
            policy_order: ['p1', 'zz'],
            composite_sub_policy: [{ name: 'p1', type: 'always_sample' }],
            rate_allocation: [{ policy: 'p1', percent: 120 }],
          },
        },
        { name: 'f', type: 'rate_limiting' },
        { type: 'always_sample' },
        { name: 'g', type: 'sometimes' },
      ],
    });
    expect(r.config).toBeUndefined();
    expect(r.problems.map((p) => p.path)).toEqual([
      'sampling.tail.decision_wait',
      'sampling.tail.num_traces',
      'sampling.tail.decision_cache.sampled_cache_size',
      'sampling.tail.policies[0].latency.upper_threshold_ms',
      'sampling.tail.policies[1].numeric_attribute',
      'sampling.tail.policies[2].string_attribute.values[0]',
      'sampling.tail.policies[3].and.and_sub_policy[0].type',
      'sampling.tail.policies[4].composite.policy_order[1]',
      'sampling.tail.policies[4].composite.rate_allocation[0].percent',
      'sampling.tail.policies[5].rate_limiting',
      'sampling.tail.policies[6].name',
      'sampling.tail.policies[7].type',
    ]);
  });

  it('validates span_match (Custodian extension), reporting every problem', () => {
    expect(
      validateTailSamplingConfig({
        policies: [
          {
            name: 'tool',
            type: 'span_match',
            span_match: { status_codes: ['ERROR'], attributes: [{ key: 'tool.name' }] },
          },
        ],
      }).config?.policies[0].span_match,
    ).toEqual({ status_codes: ['ERROR'], attributes: [{ key: 'tool.name' }] });
    const r = validateTailSamplingConfig({
      policies: [
        { name: 'a', type: 'span_match', span_match: {} },
        {
          name: 'b',
          type: 'span_match',
          span_match: { status_codes: ['BAD'], attributes: [{ values: ['x'], extra: 1 }] },
        },
      ],
    });
    expect(r.problems.map((p) => p.path)).toEqual([
      'sampling.tail.policies[0].span_match',
      'sampling.tail.policies[1].span_match.status_codes[0]',
      'sampling.tail.policies[1].span_match.attributes[0].extra',
      'sampling.tail.policies[1].span_match.attributes[0].key',
    ]);
  });

  it('requires at least one policy', () => {
    expect(validateTailSamplingConfig({ policies: [] }).problems).toEqual([
      { path: 'sampling.tail.policies', message: 'must list at least one policy' },
    ]);
    expect(validateTailSamplingConfig({}).problems).toEqual([
      { path: 'sampling.tail.policies', message: 'is required' },
    ]);
  });
});

describe('validateSamplingConfig', () => {
  it('collects head and tail problems together', () => {
    const r = validateSamplingConfig({
      head: { sampling_percentage: -1 },
      tail: { policies: [] },
      middle: {},
    });
    expect(r.problems.map((p) => p.path)).toEqual([
      'sampling.middle',
      'sampling.head.sampling_percentage',
      'sampling.tail.policies',
    ]);
  });
});
