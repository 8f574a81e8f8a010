/**
 * fast-check arbitraries of the OTLP model for the protobuf codec's and splitters' property
 * tests (test support only; not exported from the lib). Values cover each field's whole wire
 * domain: fixed64 up to 2^64-1, int64 negatives, int32 enums incl. unknown and negative
 * values, doubles incl. -0/NaN/±Infinity, empty and non-ASCII strings (astral planes too),
 * bytes, and AnyValue arrays/kvlists nested several levels.
 */
import fc from 'fast-check';
import type {
  AnyValue,
  Exemplar,
  ExponentialHistogramBuckets,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  LogsData,
  Metric,
  MetricsData,
  NumberDataPoint,
  Resource,
  Span,
  SpanEvent,
  SpanLink,
  TracesData,
} from '../model';

export const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
export const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint32 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff }));
const int32 = fc.oneof(
  fc.integer({ min: 0, max: 5 }),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
);
const sint32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const double = fc.oneof(
  fc.double(),
  fc.constantFrom(-0, 0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
);
const time = fc.oneof(fc.constant(0n), fc.constant(2n ** 64n - 1n), uint64);

/** Strings: empty, ASCII, any Unicode scalar value (no lone surrogates: not UTF-8-encodable). */
export const text = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);

const bytes = (max: number) => fc.uint8Array({ maxLength: max });

/** 16/8 random bytes or empty (decoders accept any length; only splitters care). */
const anyId = (n: number) =>
  fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: n, maxLength: n }));

export const anyValue: fc.Arbitrary<AnyValue> = fc.letrec<{ value: AnyValue; kv: KeyValue }>(
  (tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant({}),
      text.map((stringValue) => ({ stringValue })),
      fc.boolean().map((boolValue) => ({ boolValue })),
      int64.map((intValue) => ({ intValue })),
      double.map((doubleValue) => ({ doubleValue })),
      bytes(8).map((bytesValue) => ({ bytesValue })),
      fc.array(tie('value'), { maxLength: 3 }).map((values) => ({ arrayValue: { values } })),
      fc.array(tie('kv'), { maxLength: 3 }).map((values) => ({ kvlistValue: { values } })),
    ),
    kv: fc.record({ key: text, value: tie('value') }),
  }),
).value;

export const keyValue: fc.Arbitrary<KeyValue> = fc.record({ key: text, value: anyValue });
export const attributes = fc.array(keyValue, { maxLength: 4 });

export const resource: fc.Arbitrary<Resource> = fc.record({
  attributes,
  droppedAttributesCount: uint32,
});

export const scope: fc.Arbitrary<InstrumentationScope> = fc.record({
  name: text,
  version: text,
  attributes,
  droppedAttributesCount: uint32,
});

const event: fc.Arbitrary<SpanEvent> = fc.record({
  timeUnixNano: time,
  name: text,
  attributes,
  droppedAttributesCount: uint32,
});

const link: fc.Arbitrary<SpanLink> = fc.record({
  traceId: anyId(16),
  spanId: anyId(8),
  traceState: text,
  attributes,
  droppedAttributesCount: uint32,
  flags: uint32,
});

/** A span whose trace/span ids come from the given arbitraries (splitter tests want valid ones). */
export function spanWith(
  traceId: fc.Arbitrary<Uint8Array>,
  spanId: fc.Arbitrary<Uint8Array>,
): fc.Arbitrary<Span> {
  return fc.record({
    traceId,
    spanId,
    traceState: text,
    parentSpanId: anyId(8),
    flags: uint32,
    name: text,
    kind: int32,
    startTimeUnixNano: time,
    endTimeUnixNano: time,
    attributes,
    droppedAttributesCount: uint32,
    events: fc.array(event, { maxLength: 2 }),
    droppedEventsCount: uint32,
    links: fc.array(link, { maxLength: 2 }),
    droppedLinksCount: uint32,
    status: fc.option(fc.record({ message: text, code: int32 }), { nil: undefined }),
  });
}

export const span: fc.Arbitrary<Span> = spanWith(anyId(16), anyId(8));

export function tracesWith(spanArb: fc.Arbitrary<Span>): fc.Arbitrary<TracesData> {
  return fc.record({
    resourceSpans: fc.array(
      fc.record({
        resource: fc.option(resource, { nil: undefined }),
        scopeSpans: fc.array(
          fc.record({
            scope: fc.option(scope, { nil: undefined }),
            spans: fc.array(spanArb, { maxLength: 4 }),
            schemaUrl: text,
          }),
          { maxLength: 3 },
        ),
        schemaUrl: text,
      }),
      { maxLength: 3 },
    ),
  });
}

export const traces = tracesWith(span);

export function logRecordWith(
  traceId: fc.Arbitrary<Uint8Array>,
  spanId: fc.Arbitrary<Uint8Array>,
): fc.Arbitrary<LogRecord> {
  return fc.record({
    timeUnixNano: time,
    observedTimeUnixNano: time,
    severityNumber: int32,
    severityText: text,
    body: fc.option(anyValue, { nil: undefined }),
    attributes,
    droppedAttributesCount: uint32,
    flags: uint32,
    traceId,
    spanId,
    eventName: text,
  });
}

export function logsWith(record: fc.Arbitrary<LogRecord>): fc.Arbitrary<LogsData> {
  return fc.record({
    resourceLogs: fc.array(
      fc.record({
        resource: fc.option(resource, { nil: undefined }),
        scopeLogs: fc.array(
          fc.record({
            scope: fc.option(scope, { nil: undefined }),
            logRecords: fc.array(record, { maxLength: 4 }),
            schemaUrl: text,
          }),
          { maxLength: 3 },
        ),
        schemaUrl: text,
      }),
      { maxLength: 3 },
    ),
  });
}

export const logs = logsWith(logRecordWith(anyId(16), anyId(8)));

/** Exactly one of asDouble / asInt, as the oneof requires. */
const numberValue = fc.oneof(
  double.map((asDouble) => ({ asDouble })),
  int64.map((asInt) => ({ asInt })),
);

const exemplar: fc.Arbitrary<Exemplar> = fc
  .tuple(
    fc.record({
      filteredAttributes: attributes,
      timeUnixNano: time,
      spanId: anyId(8),
      traceId: anyId(16),
    }),
    numberValue,
  )
  .map(([e, v]) => ({ ...e, ...v }));
const exemplars = fc.array(exemplar, { maxLength: 2 });

const common = {
  attributes,
  startTimeUnixNano: time,
  timeUnixNano: time,
  flags: uint32,
};

const numberPoint: fc.Arbitrary<NumberDataPoint> = fc
  .tuple(fc.record({ ...common, exemplars }), numberValue)
  .map(([p, v]) => ({ ...p, ...v }));

const optionalDouble = fc.option(double, { nil: undefined });

const histogramPoint = fc.record({
  ...common,
  count: uint64,
  sum: optionalDouble,
  bucketCounts: fc.array(uint64, { maxLength: 4 }),
  explicitBounds: fc.array(double, { maxLength: 4 }),
  exemplars,
  min: optionalDouble,
  max: optionalDouble,
});

const buckets: fc.Arbitrary<ExponentialHistogramBuckets> = fc.record({
  offset: sint32,
  bucketCounts: fc.array(uint64, { maxLength: 4 }),
});

const exponentialPoint = fc.record({
  ...common,
  count: uint64,
  sum: optionalDouble,
  scale: sint32,
  zeroCount: uint64,
  positive: fc.option(buckets, { nil: undefined }),
  negative: fc.option(buckets, { nil: undefined }),
  exemplars,
  min: optionalDouble,
  max: optionalDouble,
  zeroThreshold: double,
});

const summaryPoint = fc.record({
  ...common,
  count: uint64,
  sum: double,
  quantileValues: fc.array(fc.record({ quantile: double, value: double }), { maxLength: 3 }),
});

const temporality = int32;
const points = <T>(a: fc.Arbitrary<T>) => fc.array(a, { maxLength: 3 });

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

export const metric: fc.Arbitrary<Metric> = fc
  .tuple(fc.record({ name: text, description: text, unit: text, metadata: attributes }), metricData)
  .map(([m, d]) => ({ ...m, ...d }));

export const metrics: fc.Arbitrary<MetricsData> = fc.record({
  resourceMetrics: fc.array(
    fc.record({
      resource: fc.option(resource, { nil: undefined }),
      scopeMetrics: fc.array(
        fc.record({
          scope: fc.option(scope, { nil: undefined }),
          metrics: fc.array(metric, { maxLength: 3 }),
          schemaUrl: text,
        }),
        { maxLength: 2 },
      ),
      schemaUrl: text,
    }),
    { maxLength: 2 },
  ),
});
