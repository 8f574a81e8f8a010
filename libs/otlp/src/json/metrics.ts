/**
 * OTLP/JSON for metrics: ExportMetricsServiceRequest (= MetricsData) ⇄ the model; the body of
 * `POST /v1/metrics` with `Content-Type: application/json`. Field names: opentelemetry-proto
 * metrics/v1/metrics.proto. `Metric.data` and the data points' `value` are oneofs: more than
 * one member set is an error.
 */
import type {
  Exemplar,
  ExponentialHistogram,
  ExponentialHistogramBuckets,
  ExponentialHistogramDataPoint,
  Gauge,
  Histogram,
  HistogramDataPoint,
  Metric,
  MetricsData,
  NumberDataPoint,
  ResourceMetrics,
  ScopeMetrics,
  Sum,
  Summary,
  SummaryDataPoint,
  ValueAtQuantile,
} from '../model';
import {
  EMPTY_BYTES,
  Reader,
  attributes,
  bool,
  decodeDocument,
  double,
  enumNames,
  enumValue,
  hexId,
  int32,
  int64,
  message,
  object,
  repeated,
  resource,
  scope,
  str,
  uint32,
  uint64,
  type JsonObject,
} from './reader';
import {
  ObjectWriter,
  doubleJson,
  encodeAttributes,
  encodeResource,
  encodeScope,
  int64Json,
} from './writer';

const AGGREGATION_TEMPORALITY = enumNames([
  'AGGREGATION_TEMPORALITY_UNSPECIFIED',
  'AGGREGATION_TEMPORALITY_DELTA',
  'AGGREGATION_TEMPORALITY_CUMULATIVE',
]);

/** Decodes an OTLP/JSON metrics document (text or UTF-8 bytes). Throws OtlpJsonError. */
export function decodeMetricsJson(input: string | Uint8Array): MetricsData {
  return decodeDocument(input, metricsData);
}

function metricsData(r: Reader, o: JsonObject): MetricsData {
  const key = o.resourceMetrics !== undefined ? 'resourceMetrics' : 'resource_metrics';
  const v = o[key];
  return {
    resourceMetrics: v === undefined || v === null ? [] : repeated(r, v, key, resourceMetrics),
  };
}

function resourceMetrics(r: Reader, v: unknown): ResourceMetrics {
  const o = object(r, v);
  const out: ResourceMetrics = { resource: undefined, scopeMetrics: [], schemaUrl: '' };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'resource':
        out.resource = message(r, x, k, resource);
        break;
      case 'scopeMetrics':
      case 'scope_metrics':
        out.scopeMetrics = repeated(r, x, k, scopeMetrics);
        break;
      case 'schemaUrl':
      case 'schema_url':
        out.schemaUrl = str(r, x, k);
        break;
    }
  }
  return out;
}

function scopeMetrics(r: Reader, v: unknown): ScopeMetrics {
  const o = object(r, v);
  const out: ScopeMetrics = { scope: undefined, metrics: [], schemaUrl: '' };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'scope':
        out.scope = message(r, x, k, scope);
        break;
      case 'metrics':
        out.metrics = repeated(r, x, k, metric);
        break;
      case 'schemaUrl':
      case 'schema_url':
        out.schemaUrl = str(r, x, k);
        break;
    }
  }
  return out;
}

function metric(r: Reader, v: unknown): Metric {
  const o = object(r, v);
  const out: Metric = {
    name: '',
    description: '',
    unit: '',
    gauge: undefined,
    sum: undefined,
    histogram: undefined,
    exponentialHistogram: undefined,
    summary: undefined,
    metadata: [],
  };
  let data = '';
  const oneof = (k: string): void => {
    if (data !== '') r.fail(`more than one of Metric.data is set (also ${data})`, k);
    data = k;
  };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'name':
        out.name = str(r, x, k);
        break;
      case 'description':
        out.description = str(r, x, k);
        break;
      case 'unit':
        out.unit = str(r, x, k);
        break;
      case 'gauge':
        oneof(k);
        out.gauge = message(r, x, k, gauge);
        break;
      case 'sum':
        oneof(k);
        out.sum = message(r, x, k, sum);
        break;
      case 'histogram':
        oneof(k);
        out.histogram = message(r, x, k, histogram);
        break;
      case 'exponentialHistogram':
      case 'exponential_histogram':
        oneof(k);
        out.exponentialHistogram = message(r, x, k, exponentialHistogram);
        break;
      case 'summary':
        oneof(k);
        out.summary = message(r, x, k, summary);
        break;
      case 'metadata':
        out.metadata = attributes(r, x, k);
        break;
    }
  }
  return out;
}

function dataPointsKey(k: string): boolean {
  return k === 'dataPoints' || k === 'data_points';
}

function temporalityKey(k: string): boolean {
  return k === 'aggregationTemporality' || k === 'aggregation_temporality';
}

function gauge(r: Reader, v: unknown): Gauge {
  const o = object(r, v);
  const out: Gauge = { dataPoints: [] };
  for (const k in o) {
    const x = o[k];
    if (x !== null && dataPointsKey(k)) out.dataPoints = repeated(r, x, k, numberDataPoint);
  }
  return out;
}

function sum(r: Reader, v: unknown): Sum {
  const o = object(r, v);
  const out: Sum = { dataPoints: [], aggregationTemporality: 0, isMonotonic: false };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    if (dataPointsKey(k)) out.dataPoints = repeated(r, x, k, numberDataPoint);
    else if (temporalityKey(k)) {
      out.aggregationTemporality = enumValue(r, x, k, AGGREGATION_TEMPORALITY);
    } else if (k === 'isMonotonic' || k === 'is_monotonic') out.isMonotonic = bool(r, x, k);
  }
  return out;
}

function histogram(r: Reader, v: unknown): Histogram {
  const o = object(r, v);
  const out: Histogram = { dataPoints: [], aggregationTemporality: 0 };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    if (dataPointsKey(k)) out.dataPoints = repeated(r, x, k, histogramDataPoint);
    else if (temporalityKey(k)) {
      out.aggregationTemporality = enumValue(r, x, k, AGGREGATION_TEMPORALITY);
    }
  }
  return out;
}

function exponentialHistogram(r: Reader, v: unknown): ExponentialHistogram {
  const o = object(r, v);
  const out: ExponentialHistogram = { dataPoints: [], aggregationTemporality: 0 };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    if (dataPointsKey(k)) out.dataPoints = repeated(r, x, k, exponentialHistogramDataPoint);
    else if (temporalityKey(k)) {
      out.aggregationTemporality = enumValue(r, x, k, AGGREGATION_TEMPORALITY);
    }
  }
  return out;
}

function summary(r: Reader, v: unknown): Summary {
  const o = object(r, v);
  const out: Summary = { dataPoints: [] };
  for (const k in o) {
    const x = o[k];
    if (x !== null && dataPointsKey(k)) out.dataPoints = repeated(r, x, k, summaryDataPoint);
  }
  return out;
}

function uint64List(r: Reader, v: unknown, key: string): bigint[] {
  return repeated(r, v, key, (r, x) => uint64(r, x));
}

function doubleList(r: Reader, v: unknown, key: string): number[] {
  return repeated(r, v, key, (r, x) => double(r, x));
}

function numberDataPoint(r: Reader, v: unknown): NumberDataPoint {
  const o = object(r, v);
  const out: NumberDataPoint = {
    attributes: [],
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    asDouble: undefined,
    asInt: undefined,
    exemplars: [],
    flags: 0,
  };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'attributes':
        out.attributes = attributes(r, x, k);
        break;
      case 'startTimeUnixNano':
      case 'start_time_unix_nano':
        out.startTimeUnixNano = uint64(r, x, k);
        break;
      case 'timeUnixNano':
      case 'time_unix_nano':
        out.timeUnixNano = uint64(r, x, k);
        break;
      case 'asDouble':
      case 'as_double':
        if (out.asInt !== undefined) r.fail('both asDouble and asInt are set', k);
        out.asDouble = double(r, x, k);
        break;
      case 'asInt':
      case 'as_int':
        if (out.asDouble !== undefined) r.fail('both asDouble and asInt are set', k);
        out.asInt = int64(r, x, k);
        break;
      case 'exemplars':
        out.exemplars = repeated(r, x, k, exemplar);
        break;
      case 'flags':
        out.flags = uint32(r, x, k);
        break;
    }
  }
  return out;
}

function histogramDataPoint(r: Reader, v: unknown): HistogramDataPoint {
  const o = object(r, v);
  const out: HistogramDataPoint = {
    attributes: [],
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    count: 0n,
    sum: undefined,
    bucketCounts: [],
    explicitBounds: [],
    exemplars: [],
    flags: 0,
    min: undefined,
    max: undefined,
  };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'attributes':
        out.attributes = attributes(r, x, k);
        break;
      case 'startTimeUnixNano':
      case 'start_time_unix_nano':
        out.startTimeUnixNano = uint64(r, x, k);
        break;
      case 'timeUnixNano':
      case 'time_unix_nano':
        out.timeUnixNano = uint64(r, x, k);
        break;
      case 'count':
        out.count = uint64(r, x, k);
        break;
      case 'sum':
        out.sum = double(r, x, k);
        break;
      case 'bucketCounts':
      case 'bucket_counts':
        out.bucketCounts = uint64List(r, x, k);
        break;
      case 'explicitBounds':
      case 'explicit_bounds':
        out.explicitBounds = doubleList(r, x, k);
        break;
      case 'exemplars':
        out.exemplars = repeated(r, x, k, exemplar);
        break;
      case 'flags':
        out.flags = uint32(r, x, k);
        break;
      case 'min':
        out.min = double(r, x, k);
        break;
      case 'max':
        out.max = double(r, x, k);
        break;
    }
  }
  return out;
}

function buckets(r: Reader, v: unknown): ExponentialHistogramBuckets {
  const o = object(r, v);
  const out: ExponentialHistogramBuckets = { offset: 0, bucketCounts: [] };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    if (k === 'offset') out.offset = int32(r, x, k);
    else if (k === 'bucketCounts' || k === 'bucket_counts') out.bucketCounts = uint64List(r, x, k);
  }
  return out;
}

function exponentialHistogramDataPoint(r: Reader, v: unknown): ExponentialHistogramDataPoint {
  const o = object(r, v);
  const out: ExponentialHistogramDataPoint = {
    attributes: [],
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    count: 0n,
    sum: undefined,
    scale: 0,
    zeroCount: 0n,
    positive: undefined,
    negative: undefined,
    flags: 0,
    exemplars: [],
    min: undefined,
    max: undefined,
    zeroThreshold: 0,
  };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'attributes':
        out.attributes = attributes(r, x, k);
        break;
      case 'startTimeUnixNano':
      case 'start_time_unix_nano':
        out.startTimeUnixNano = uint64(r, x, k);
        break;
      case 'timeUnixNano':
      case 'time_unix_nano':
        out.timeUnixNano = uint64(r, x, k);
        break;
      case 'count':
        out.count = uint64(r, x, k);
        break;
      case 'sum':
        out.sum = double(r, x, k);
        break;
      case 'scale':
        out.scale = int32(r, x, k);
        break;
      case 'zeroCount':
      case 'zero_count':
        out.zeroCount = uint64(r, x, k);
        break;
      case 'positive':
        out.positive = message(r, x, k, buckets);
        break;
      case 'negative':
        out.negative = message(r, x, k, buckets);
        break;
      case 'flags':
        out.flags = uint32(r, x, k);
        break;
      case 'exemplars':
        out.exemplars = repeated(r, x, k, exemplar);
        break;
      case 'min':
        out.min = double(r, x, k);
        break;
      case 'max':
        out.max = double(r, x, k);
        break;
      case 'zeroThreshold':
      case 'zero_threshold':
        out.zeroThreshold = double(r, x, k);
        break;
    }
  }
  return out;
}

function quantile(r: Reader, v: unknown): ValueAtQuantile {
  const o = object(r, v);
  const out: ValueAtQuantile = { quantile: 0, value: 0 };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    if (k === 'quantile') out.quantile = double(r, x, k);
    else if (k === 'value') out.value = double(r, x, k);
  }
  return out;
}

function summaryDataPoint(r: Reader, v: unknown): SummaryDataPoint {
  const o = object(r, v);
  const out: SummaryDataPoint = {
    attributes: [],
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    count: 0n,
    sum: 0,
    quantileValues: [],
    flags: 0,
  };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'attributes':
        out.attributes = attributes(r, x, k);
        break;
      case 'startTimeUnixNano':
      case 'start_time_unix_nano':
        out.startTimeUnixNano = uint64(r, x, k);
        break;
      case 'timeUnixNano':
      case 'time_unix_nano':
        out.timeUnixNano = uint64(r, x, k);
        break;
      case 'count':
        out.count = uint64(r, x, k);
        break;
      case 'sum':
        out.sum = double(r, x, k);
        break;
      case 'quantileValues':
      case 'quantile_values':
        out.quantileValues = repeated(r, x, k, quantile);
        break;
      case 'flags':
        out.flags = uint32(r, x, k);
        break;
    }
  }
  return out;
}

function exemplar(r: Reader, v: unknown): Exemplar {
  const o = object(r, v);
  const out: Exemplar = {
    filteredAttributes: [],
    timeUnixNano: 0n,
    asDouble: undefined,
    asInt: undefined,
    spanId: EMPTY_BYTES,
    traceId: EMPTY_BYTES,
  };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'filteredAttributes':
      case 'filtered_attributes':
        out.filteredAttributes = attributes(r, x, k);
        break;
      case 'timeUnixNano':
      case 'time_unix_nano':
        out.timeUnixNano = uint64(r, x, k);
        break;
      case 'asDouble':
      case 'as_double':
        if (out.asInt !== undefined) r.fail('both asDouble and asInt are set', k);
        out.asDouble = double(r, x, k);
        break;
      case 'asInt':
      case 'as_int':
        if (out.asDouble !== undefined) r.fail('both asDouble and asInt are set', k);
        out.asInt = int64(r, x, k);
        break;
      case 'spanId':
      case 'span_id':
        out.spanId = hexId(r, x, k, 8);
        break;
      case 'traceId':
      case 'trace_id':
        out.traceId = hexId(r, x, k, 16);
        break;
    }
  }
  return out;
}

// ---- encode ----------------------------------------------------------------------------

/** Encodes metrics as OTLP/JSON text. */
export function encodeMetricsJson(data: MetricsData): string {
  return new ObjectWriter()
    .list('resourceMetrics', data.resourceMetrics, encodeResourceMetrics)
    .toString();
}

function encodeResourceMetrics(v: ResourceMetrics): string {
  return new ObjectWriter()
    .message('resource', v.resource, encodeResource)
    .list('scopeMetrics', v.scopeMetrics, encodeScopeMetrics)
    .string('schemaUrl', v.schemaUrl)
    .toString();
}

function encodeScopeMetrics(v: ScopeMetrics): string {
  return new ObjectWriter()
    .message('scope', v.scope, encodeScope)
    .list('metrics', v.metrics, encodeMetric)
    .string('schemaUrl', v.schemaUrl)
    .toString();
}

/** Writes the first member of the `data` oneof that is set. */
function encodeMetric(v: Metric): string {
  const w = new ObjectWriter()
    .string('name', v.name)
    .string('description', v.description)
    .string('unit', v.unit);
  if (v.gauge !== undefined) w.raw('gauge', encodeGauge(v.gauge));
  else if (v.sum !== undefined) w.raw('sum', encodeSum(v.sum));
  else if (v.histogram !== undefined) w.raw('histogram', encodeHistogram(v.histogram));
  else if (v.exponentialHistogram !== undefined) {
    w.raw('exponentialHistogram', encodeExponentialHistogram(v.exponentialHistogram));
  } else if (v.summary !== undefined) w.raw('summary', encodeSummary(v.summary));
  encodeAttributes(w, 'metadata', v.metadata);
  return w.toString();
}

function encodeGauge(v: Gauge): string {
  return new ObjectWriter().list('dataPoints', v.dataPoints, encodeNumberDataPoint).toString();
}

function encodeSum(v: Sum): string {
  return new ObjectWriter()
    .list('dataPoints', v.dataPoints, encodeNumberDataPoint)
    .int('aggregationTemporality', v.aggregationTemporality)
    .bool('isMonotonic', v.isMonotonic)
    .toString();
}

function encodeHistogram(v: Histogram): string {
  return new ObjectWriter()
    .list('dataPoints', v.dataPoints, encodeHistogramDataPoint)
    .int('aggregationTemporality', v.aggregationTemporality)
    .toString();
}

function encodeExponentialHistogram(v: ExponentialHistogram): string {
  return new ObjectWriter()
    .list('dataPoints', v.dataPoints, encodeExponentialHistogramDataPoint)
    .int('aggregationTemporality', v.aggregationTemporality)
    .toString();
}

function encodeSummary(v: Summary): string {
  return new ObjectWriter().list('dataPoints', v.dataPoints, encodeSummaryDataPoint).toString();
}

function encodeNumberDataPoint(v: NumberDataPoint): string {
  const w = new ObjectWriter();
  encodeAttributes(w, 'attributes', v.attributes);
  w.int64('startTimeUnixNano', v.startTimeUnixNano).int64('timeUnixNano', v.timeUnixNano);
  if (v.asDouble !== undefined) w.raw('asDouble', doubleJson(v.asDouble));
  else if (v.asInt !== undefined) w.raw('asInt', int64Json(v.asInt));
  return w.list('exemplars', v.exemplars, encodeExemplar).int('flags', v.flags).toString();
}

function encodeHistogramDataPoint(v: HistogramDataPoint): string {
  const w = new ObjectWriter();
  encodeAttributes(w, 'attributes', v.attributes);
  return w
    .int64('startTimeUnixNano', v.startTimeUnixNano)
    .int64('timeUnixNano', v.timeUnixNano)
    .int64('count', v.count)
    .optionalDouble('sum', v.sum)
    .list('bucketCounts', v.bucketCounts, int64Json)
    .list('explicitBounds', v.explicitBounds, doubleJson)
    .list('exemplars', v.exemplars, encodeExemplar)
    .int('flags', v.flags)
    .optionalDouble('min', v.min)
    .optionalDouble('max', v.max)
    .toString();
}

function encodeBuckets(v: ExponentialHistogramBuckets): string {
  return new ObjectWriter()
    .int('offset', v.offset)
    .list('bucketCounts', v.bucketCounts, int64Json)
    .toString();
}

function encodeExponentialHistogramDataPoint(v: ExponentialHistogramDataPoint): string {
  const w = new ObjectWriter();
  encodeAttributes(w, 'attributes', v.attributes);
  return w
    .int64('startTimeUnixNano', v.startTimeUnixNano)
    .int64('timeUnixNano', v.timeUnixNano)
    .int64('count', v.count)
    .optionalDouble('sum', v.sum)
    .int('scale', v.scale)
    .int64('zeroCount', v.zeroCount)
    .message('positive', v.positive, encodeBuckets)
    .message('negative', v.negative, encodeBuckets)
    .int('flags', v.flags)
    .list('exemplars', v.exemplars, encodeExemplar)
    .optionalDouble('min', v.min)
    .optionalDouble('max', v.max)
    .double('zeroThreshold', v.zeroThreshold)
    .toString();
}

function encodeQuantile(v: ValueAtQuantile): string {
  return new ObjectWriter().double('quantile', v.quantile).double('value', v.value).toString();
}

function encodeSummaryDataPoint(v: SummaryDataPoint): string {
  const w = new ObjectWriter();
  encodeAttributes(w, 'attributes', v.attributes);
  return w
    .int64('startTimeUnixNano', v.startTimeUnixNano)
    .int64('timeUnixNano', v.timeUnixNano)
    .int64('count', v.count)
    .double('sum', v.sum)
    .list('quantileValues', v.quantileValues, encodeQuantile)
    .int('flags', v.flags)
    .toString();
}

function encodeExemplar(v: Exemplar): string {
  const w = new ObjectWriter();
  encodeAttributes(w, 'filteredAttributes', v.filteredAttributes);
  w.int64('timeUnixNano', v.timeUnixNano);
  if (v.asDouble !== undefined) w.raw('asDouble', doubleJson(v.asDouble));
  else if (v.asInt !== undefined) w.raw('asInt', int64Json(v.asInt));
  return w.id('spanId', v.spanId).id('traceId', v.traceId).toString();
}
