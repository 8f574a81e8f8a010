// Specs read their golden files; the no-I/O rule guards the library's runtime code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { hexToSpanId, hexToTraceId } from './hex';
import { decodeMetricsJson, encodeMetricsJson } from './metrics';
import { metricsArb } from './model-arbitraries';

const testdata = (name: string) =>
  readFileSync(join(__dirname, '../../testdata/json', name), 'utf8');

describe('OTLP/JSON metrics', () => {
  it('decodes every metric type of the example document', () => {
    const data = decodeMetricsJson(testdata('metrics.json'));
    const [sum, gauge, histogram, exponential, summary] =
      data.resourceMetrics[0].scopeMetrics[0].metrics;
    expect(sum).toMatchObject({ name: 'llm.tokens', unit: '1', description: 'Tokens used' });
    expect(sum.sum).toEqual({
      aggregationTemporality: 2,
      isMonotonic: true,
      dataPoints: [
        {
          asInt: 5n,
          asDouble: undefined,
          startTimeUnixNano: 1544712660300000000n,
          timeUnixNano: 1544712660300000000n,
          attributes: [{ key: 'llm.model', value: { stringValue: 'gpt-4o' } }],
          exemplars: [],
          flags: 0,
        },
      ],
    });
    expect(sum.gauge).toBeUndefined();
    expect(gauge.gauge?.dataPoints[0]).toMatchObject({ asDouble: 2.5, flags: 1 });
    expect(gauge.gauge?.dataPoints[0].exemplars).toEqual([
      {
        timeUnixNano: 1544712660200000000n,
        asInt: 3n,
        asDouble: undefined,
        traceId: hexToTraceId('5b8efff798038103d269b633813fc60c'),
        spanId: hexToSpanId('eee19b7ec3c1b174'),
        filteredAttributes: [{ key: 'k', value: { stringValue: 'v' } }],
      },
    ]);
    expect(histogram.histogram).toEqual({
      aggregationTemporality: 1,
      dataPoints: [
        {
          attributes: [],
          startTimeUnixNano: 1544712660300000000n,
          timeUnixNano: 1544712660300000000n,
          count: 2n,
          sum: 2,
          bucketCounts: [1n, 1n],
          explicitBounds: [1],
          exemplars: [],
          flags: 0,
          min: 0,
          max: 2,
        },
      ],
    });
    expect(exponential.exponentialHistogram?.dataPoints[0]).toMatchObject({
      count: 3n,
      sum: 10.5,
      scale: -2,
      zeroCount: 1n,
      zeroThreshold: 1e-9,
      positive: { offset: -3, bucketCounts: [1n, 1n] },
      negative: { offset: 0, bucketCounts: [] },
      min: -Infinity,
      max: 9,
    });
    expect(summary.summary?.dataPoints[0]).toMatchObject({
      count: 10n,
      sum: 4.5,
      quantileValues: [
        { quantile: 0.5, value: 0.4 },
        { quantile: 0.99, value: NaN },
      ],
    });
  });

  it('rejects two members of a oneof and bad values with their path', () => {
    const twoData = {
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ gauge: {}, sum: {} }] }] }],
    };
    expect(() => decodeMetricsJson(JSON.stringify(twoData))).toThrow(
      'resourceMetrics[0].scopeMetrics[0].metrics[0].sum: more than one of Metric.data is set (also gauge)',
    );
    const twoValues = {
      resourceMetrics: [
        { scopeMetrics: [{ metrics: [{ gauge: { dataPoints: [{ asInt: 1, asDouble: 1 }] } }] }] },
      ],
    };
    expect(() => decodeMetricsJson(JSON.stringify(twoValues))).toThrow(
      'resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asDouble: both asDouble and asInt are set',
    );
    const badBucket = {
      resourceMetrics: [
        {
          scopeMetrics: [{ metrics: [{ histogram: { dataPoints: [{ bucketCounts: [1, -2] }] } }] }],
        },
      ],
    };
    expect(() => decodeMetricsJson(JSON.stringify(badBucket))).toThrow(
      'resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].bucketCounts[1]: out of range for an unsigned 64-bit integer',
    );
  });

  it('matches the golden encoding', () => {
    const encoded = encodeMetricsJson(decodeMetricsJson(testdata('metrics.json')));
    expect(JSON.parse(encoded)).toEqual(JSON.parse(testdata('metrics.golden.json')));
    expect(encoded).toContain('"min":0');
    expect(encoded).toContain('"negative":{}');
  });

  it('round-trips any metrics (model → JSON → model, property)', () => {
    fc.assert(
      fc.property(metricsArb, (data) => {
        expect(decodeMetricsJson(encodeMetricsJson(data))).toEqual(data);
      }),
      { numRuns: 300 },
    );
  });
});
