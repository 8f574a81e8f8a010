import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import fc from 'fast-check';
import type { Metric, MetricsData } from '../model';
import * as arb from './arbitraries';
import { OtlpDecodeError } from './errors';
import { decodeMetrics, encodeMetrics } from './metrics';
import { scanMetrics, validateMetricScanOptions } from './scan-metrics';
import { sdkResourceMetrics } from './sdk-fixtures';
import { ld, str } from './wire-builder';

function points(m: Metric): { attributes: unknown[] }[] {
  return (
    m.gauge?.dataPoints ??
    m.sum?.dataPoints ??
    m.histogram?.dataPoints ??
    m.exponentialHistogram?.dataPoints ??
    m.summary?.dataPoints ??
    []
  );
}
const allMetrics = (d: MetricsData) =>
  d.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));

describe('scanMetrics', () => {
  it('counts the data points of every instrument type in real exporter bytes', async () => {
    const wire = ProtobufMetricsSerializer.serializeRequest(await sdkResourceMetrics())!;
    const data = decodeMetrics(wire);
    expect(scanMetrics(wire)).toEqual({
      resourceMetrics: 1,
      metrics: allMetrics(data).length,
      dataPoints: allMetrics(data).reduce((n, m) => n + points(m).length, 0),
      dataPointsOverAttributeLimit: 0,
    });
    expect(scanMetrics(wire).dataPoints).toBe(8); // 2 + 1 + 1 + 1 + 1 + 1 + 1 over seven instruments
  });

  it('for arbitrary requests: counts match the model, limits count per data point', () => {
    fc.assert(
      fc.property(arb.metrics, fc.integer({ min: 0, max: 3 }), (data, maxAttrs) => {
        const scan = scanMetrics(encodeMetrics(data), { maxAttributesPerItem: maxAttrs });
        const metrics = allMetrics(data);
        expect(scan.resourceMetrics).toBe(data.resourceMetrics.length);
        expect(scan.metrics).toBe(metrics.length);
        expect(scan.dataPoints).toBe(metrics.reduce((n, m) => n + points(m).length, 0));
        expect(scan.dataPointsOverAttributeLimit).toBe(
          metrics.reduce(
            (n, m) => n + points(m).filter((p) => p.attributes.length > maxAttrs).length,
            0,
          ),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('accepts exactly what the decoder accepts', () => {
    fc.assert(
      fc.property(
        arb.metrics,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        (data, at, b, cut) => {
          const bytes = encodeMetrics(data).slice();
          if (bytes.length > 0) bytes[at % bytes.length] = b;
          const mutated = bytes.subarray(0, cut % (bytes.length + 1));
          const outcome = (f: () => unknown) => {
            try {
              f();
              return 'ok';
            } catch (e) {
              expect(e).toBeInstanceOf(OtlpDecodeError);
              return 'error';
            }
          };
          expect(outcome(() => scanMetrics(mutated))).toBe(outcome(() => decodeMetrics(mutated)));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('rejects invalid UTF-8 and bad packed runs', () => {
    const badName = ld(1, ld(2, ld(2, ld(1, [0xff]))));
    expect(() => scanMetrics(badName)).toThrow(/invalid UTF-8 in Metric.name/);
    const badPacked = ld(1, ld(2, ld(2, str(1, 'h'), ld(9, ld(1, ld(6, [1, 2, 3]))))));
    expect(() => scanMetrics(badPacked)).toThrow(/not a multiple of 8 bytes/);
    expect(() => decodeMetrics(badPacked)).toThrow(/not a multiple of 8 bytes/);
  });

  it('validates options', () => {
    expect(validateMetricScanOptions({})).toEqual([]);
    expect(
      validateMetricScanOptions({ maxAttributesPerItem: Number.NaN }).map((p) => p.path),
    ).toEqual(['maxAttributesPerItem']);
  });
});
