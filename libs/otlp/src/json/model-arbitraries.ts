/**
 * fast-check arbitraries for the OTLP model, for property tests of the codecs (model → wire →
 * model). Values span the whole domain of each field: full 64-bit ranges, NaN/±Infinity/-0,
 * unknown enum values, empty and non-ASCII strings, nested AnyValues.
 */
import fc from 'fast-check';
import type {
  AnyValue,
  Exemplar,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  LogsData,
  Metric,
  MetricsData,
  Resource,
  Span,
  TracesData,
} from '../model';

const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const id = (n: number) =>
  fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: n, maxLength: n }));

export const anyValueArb: fc.Arbitrary<AnyValue> = fc.letrec<{
  value: AnyValue;
  kv: KeyValue;
}>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant({}),
    text.map((stringValue) => ({ stringValue })),
    fc.boolean().map((boolValue) => ({ boolValue })),
    int64.map((intValue) => ({ intValue })),
    fc.double().map((doubleValue) => ({ doubleValue })),
    fc.uint8Array({ maxLength: 8 }).map((bytesValue) => ({ bytesValue })),
    fc.array(tie('value'), { maxLength: 3 }).map((values) => ({ arrayValue: { values } })),
    fc.array(tie('kv'), { maxLength: 3 }).map((values) => ({ kvlistValue: { values } })),
  ),
  kv: fc.record({ key: text, value: tie('value') }),
})).value;

export const keyValueArb: fc.Arbitrary<KeyValue> = fc.record({ key: text, value: anyValueArb });
const attrs = fc.array(keyValueArb, { maxLength: 3 });

export const resourceArb: fc.Arbitrary<Resource> = fc.record({
  attributes: attrs,
  droppedAttributesCount: uint32,
});

export const scopeArb: fc.Arbitrary<InstrumentationScope> = fc.record({
  name: text,
  version: text,
  attributes: attrs,
  droppedAttributesCount: uint32,
});

export const spanArb: fc.Arbitrary<Span> = fc
  .record(
    {
      traceId: id(16),
      spanId: id(8),
      traceState: text,
      parentSpanId: id(8),
      flags: uint32,
      name: text,
      kind: fc.oneof(fc.integer({ min: 0, max: 5 }), int32),
      startTimeUnixNano: uint64,
      endTimeUnixNano: uint64,
      attributes: attrs,
      droppedAttributesCount: uint32,
      events: fc.array(
        fc.record({
          timeUnixNano: uint64,
          name: text,
          attributes: attrs,
          droppedAttributesCount: uint32,
        }),
        { maxLength: 2 },
      ),
      droppedEventsCount: uint32,
      links: fc.array(
        fc.record({
          traceId: id(16),
          spanId: id(8),
          traceState: text,
          attributes: attrs,
          droppedAttributesCount: uint32,
          flags: uint32,
        }),
        { maxLength: 2 },
      ),
      droppedLinksCount: uint32,
      status: fc.option(fc.record({ message: text, code: fc.integer({ min: 0, max: 2 }) }), {
        nil: undefined,
      }),
    },
    { requiredKeys: [] },
  )
  .map((s) => ({ ...defaultSpan(), ...s }));

function defaultSpan(): Span {
  const empty = new Uint8Array(0);
  return {
    traceId: empty,
    spanId: empty,
    traceState: '',
    parentSpanId: empty,
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: undefined,
  };
}

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

export const tracesArb: fc.Arbitrary<TracesData> = fc.record({
  resourceSpans: fc.array(
    fc.record({
      resource: optional(resourceArb),
      scopeSpans: fc.array(
        fc.record({
          scope: optional(scopeArb),
          spans: fc.array(spanArb, { maxLength: 3 }),
          schemaUrl: text,
        }),
        { maxLength: 2 },
      ),
      schemaUrl: text,
    }),
    { maxLength: 2 },
  ),
});

export const logRecordArb: fc.Arbitrary<LogRecord> = fc.record({
  timeUnixNano: uint64,
  observedTimeUnixNano: uint64,
  severityNumber: fc.oneof(fc.integer({ min: 0, max: 24 }), int32),
  severityText: text,
  body: optional(anyValueArb),
  attributes: attrs,
  droppedAttributesCount: uint32,
  flags: uint32,
  traceId: id(16),
  spanId: id(8),
  eventName: text,
});

export const logsArb: fc.Arbitrary<LogsData> = fc.record({
  resourceLogs: fc.array(
    fc.record({
      resource: optional(resourceArb),
      scopeLogs: fc.array(
        fc.record({
          scope: optional(scopeArb),
          logRecords: fc.array(logRecordArb, { maxLength: 3 }),
          schemaUrl: text,
        }),
        { maxLength: 2 },
      ),
      schemaUrl: text,
    }),
    { maxLength: 2 },
  ),
});

/** asDouble / asInt oneof: exactly one or neither. */
const numberValue = fc.oneof(
  fc.constant({}),
  fc.double().map((asDouble) => ({ asDouble })),
  int64.map((asInt) => ({ asInt })),
);

const exemplarArb: fc.Arbitrary<Exemplar> = fc
  .tuple(
    fc.record({ filteredAttributes: attrs, timeUnixNano: uint64, spanId: id(8), traceId: id(16) }),
    numberValue,
  )
  .map(([e, v]) => ({ ...e, asDouble: undefined, asInt: undefined, ...v }));
const exemplars = fc.array(exemplarArb, { maxLength: 2 });
const temporality = fc.integer({ min: 0, max: 2 });

const pointBase = { attributes: attrs, startTimeUnixNano: uint64, timeUnixNano: uint64 };

const numberPoint = fc
  .tuple(fc.record({ ...pointBase, exemplars, flags: uint32 }), numberValue)
  .map(([p, v]) => ({ ...p, asDouble: undefined, asInt: undefined, ...v }));

const histogramPoint = fc.record({
  ...pointBase,
  count: uint64,
  sum: optional(fc.double()),
  bucketCounts: fc.array(uint64, { maxLength: 4 }),
  explicitBounds: fc.array(fc.double(), { maxLength: 3 }),
  exemplars,
  flags: uint32,
  min: optional(fc.double()),
  max: optional(fc.double()),
});

const buckets = fc.record({ offset: int32, bucketCounts: fc.array(uint64, { maxLength: 4 }) });

const exponentialPoint = fc.record({
  ...pointBase,
  count: uint64,
  sum: optional(fc.double()),
  scale: int32,
  zeroCount: uint64,
  positive: optional(buckets),
  negative: optional(buckets),
  flags: uint32,
  exemplars,
  min: optional(fc.double()),
  max: optional(fc.double()),
  zeroThreshold: fc.double(),
});

const summaryPoint = fc.record({
  ...pointBase,
  count: uint64,
  sum: fc.double(),
  quantileValues: fc.array(fc.record({ quantile: fc.double(), value: fc.double() }), {
    maxLength: 3,
  }),
  flags: uint32,
});

const points = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { maxLength: 2 });

const metricData = fc.oneof(
  fc.constant({}),
  points(numberPoint).map((dataPoints) => ({ gauge: { dataPoints } })),
  fc
    .record({
      dataPoints: points(numberPoint),
      aggregationTemporality: temporality,
      isMonotonic: fc.boolean(),
    })
    .map((sum) => ({ sum })),
  fc
    .record({ dataPoints: points(histogramPoint), aggregationTemporality: temporality })
    .map((histogram) => ({ histogram })),
  fc
    .record({ dataPoints: points(exponentialPoint), aggregationTemporality: temporality })
    .map((exponentialHistogram) => ({ exponentialHistogram })),
  points(summaryPoint).map((dataPoints) => ({ summary: { dataPoints } })),
);

export const metricArb: fc.Arbitrary<Metric> = fc
  .tuple(fc.record({ name: text, description: text, unit: text, metadata: attrs }), metricData)
  .map(([m, data]) => ({
    ...m,
    gauge: undefined,
    sum: undefined,
    histogram: undefined,
    exponentialHistogram: undefined,
    summary: undefined,
    ...data,
  }));

export const metricsArb: fc.Arbitrary<MetricsData> = fc.record({
  resourceMetrics: fc.array(
    fc.record({
      resource: optional(resourceArb),
      scopeMetrics: fc.array(
        fc.record({
          scope: optional(scopeArb),
          metrics: fc.array(metricArb, { maxLength: 3 }),
          schemaUrl: text,
        }),
        { maxLength: 2 },
      ),
      schemaUrl: text,
    }),
    { maxLength: 2 },
  ),
});
