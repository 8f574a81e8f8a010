/**
 * ExportMetricsServiceRequest (opentelemetry/proto/collector/metrics/v1/metrics_service.proto,
 * which is MetricsData of metrics/v1/metrics.proto) <-> the model's {@link MetricsData}: all
 * five metric types, exemplars, packed and unpacked repeated scalars on decode.
 *
 * Field presence on encode matches @opentelemetry/otlp-transformer's ProtobufMetricsSerializer
 * (see ./traces.ts for why): data-point start/time and histogram count (and the exponential
 * histogram's zero_count) are always written, Metric.name always; `optional` doubles (sum,
 * min, max) when set; everything else is omitted at its proto3 default (-0.0 is not a
 * default: it is kept, as protobuf does). Fields are written in field-number order.
 */
import type {
  Exemplar,
  ExponentialHistogram,
  ExponentialHistogramBuckets,
  ExponentialHistogramDataPoint,
  Gauge,
  Histogram,
  HistogramDataPoint,
  KeyValue,
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
  decodeResource,
  decodeScope,
  fields,
  lenField,
  pushKeyValue,
  sizeKeyValues,
  sizeResourceField,
  sizeScopeField,
  writeKeyValues,
  writeResourceField,
  writeScopeField,
} from './common';
import { ProtoReader, WIRE_LEN } from './reader';
import {
  encodeMessage,
  int32Size,
  type ProtoWriter,
  sint32Size,
  type SizeTape,
  uint64Size,
  varintSize,
} from './writer';

const EMPTY = new Uint8Array(0);

const REQUEST = fields(1);
const RESOURCE_METRICS = fields(1, 2, 3);
const SCOPE_METRICS = fields(1, 2, 3);
const METRIC = fields(1, 2, 3, 5, 7, 9, 10, 11, 12);
const DATA_POINTS = fields(1);
const AGGREGATED = fields(1, 2);
const SUM = fields(1, 2, 3);
const NUMBER_DP = fields(2, 3, 4, 5, 6, 7, 8);
const HISTOGRAM_DP = fields(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
const EXP_DP = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
const BUCKETS = fields(1, 2);
const SUMMARY_DP = fields(2, 3, 4, 5, 6, 7, 8);
const QUANTILE = fields(1, 2);
const EXEMPLAR = fields(2, 3, 4, 5, 6, 7);

/** Decodes an ExportMetricsServiceRequest; throws OtlpDecodeError on malformed input. */
export function decodeMetrics(bytes: Uint8Array): MetricsData {
  const r = new ProtoReader(bytes);
  const end = bytes.length;
  const resourceMetrics: ResourceMetrics[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) resourceMetrics.push(decodeResourceMetrics(r, r.len(end, tag)));
    else r.skip(tag, end, REQUEST, 'ExportMetricsServiceRequest');
  }
  r.finish(end, 'ExportMetricsServiceRequest');
  return { resourceMetrics };
}

function decodeResourceMetrics(r: ProtoReader, end: number): ResourceMetrics {
  r.enter();
  const rm: ResourceMetrics = { resource: undefined, scopeMetrics: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        rm.resource = decodeResource(r, r.len(end, tag));
        break;
      case 0x12:
        rm.scopeMetrics.push(decodeScopeMetrics(r, r.len(end, tag)));
        break;
      case 0x1a:
        rm.schemaUrl = r.string(end, tag, 'ResourceMetrics.schema_url');
        break;
      default:
        r.skip(tag, end, RESOURCE_METRICS, 'ResourceMetrics');
    }
  }
  r.finish(end, 'ResourceMetrics');
  r.leave();
  return rm;
}

function decodeScopeMetrics(r: ProtoReader, end: number): ScopeMetrics {
  r.enter();
  const sm: ScopeMetrics = { scope: undefined, metrics: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        sm.scope = decodeScope(r, r.len(end, tag));
        break;
      case 0x12:
        sm.metrics.push(decodeMetric(r, r.len(end, tag)));
        break;
      case 0x1a:
        sm.schemaUrl = r.string(end, tag, 'ScopeMetrics.schema_url');
        break;
      default:
        r.skip(tag, end, SCOPE_METRICS, 'ScopeMetrics');
    }
  }
  r.finish(end, 'ScopeMetrics');
  r.leave();
  return sm;
}

function decodeMetric(r: ProtoReader, end: number): Metric {
  r.enter();
  let name = '';
  let description = '';
  let unit = '';
  const metadata: KeyValue[] = [];
  // oneof data: the last member on the wire wins.
  let data: Partial<Metric> = {};
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        name = r.string(end, tag, 'Metric.name');
        break;
      case 0x12:
        description = r.string(end, tag, 'Metric.description');
        break;
      case 0x1a:
        unit = r.string(end, tag, 'Metric.unit');
        break;
      case 0x2a:
        data = { gauge: decodeGauge(r, r.len(end, tag)) };
        break;
      case 0x3a:
        data = { sum: decodeSum(r, r.len(end, tag)) };
        break;
      case 0x4a:
        data = { histogram: decodeHistogram(r, r.len(end, tag)) };
        break;
      case 0x52:
        data = { exponentialHistogram: decodeExponentialHistogram(r, r.len(end, tag)) };
        break;
      case 0x5a:
        data = { summary: decodeSummary(r, r.len(end, tag)) };
        break;
      case 0x62:
        pushKeyValue(r, end, tag, metadata);
        break;
      default:
        r.skip(tag, end, METRIC, 'Metric');
    }
  }
  r.finish(end, 'Metric');
  r.leave();
  return { name, description, unit, ...data, metadata };
}

function decodeGauge(r: ProtoReader, end: number): Gauge {
  r.enter();
  const g: Gauge = { dataPoints: [] };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) g.dataPoints.push(decodeNumberDataPoint(r, r.len(end, tag)));
    else r.skip(tag, end, DATA_POINTS, 'Gauge');
  }
  r.finish(end, 'Gauge');
  r.leave();
  return g;
}

function decodeSum(r: ProtoReader, end: number): Sum {
  r.enter();
  const s: Sum = { dataPoints: [], aggregationTemporality: 0, isMonotonic: false };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        s.dataPoints.push(decodeNumberDataPoint(r, r.len(end, tag)));
        break;
      case 0x10:
        s.aggregationTemporality = r.int32();
        break;
      case 0x18:
        s.isMonotonic = r.bool();
        break;
      default:
        r.skip(tag, end, SUM, 'Sum');
    }
  }
  r.finish(end, 'Sum');
  r.leave();
  return s;
}

function decodeHistogram(r: ProtoReader, end: number): Histogram {
  r.enter();
  const h: Histogram = { dataPoints: [], aggregationTemporality: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        h.dataPoints.push(decodeHistogramDataPoint(r, r.len(end, tag)));
        break;
      case 0x10:
        h.aggregationTemporality = r.int32();
        break;
      default:
        r.skip(tag, end, AGGREGATED, 'Histogram');
    }
  }
  r.finish(end, 'Histogram');
  r.leave();
  return h;
}

function decodeExponentialHistogram(r: ProtoReader, end: number): ExponentialHistogram {
  r.enter();
  const h: ExponentialHistogram = { dataPoints: [], aggregationTemporality: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        h.dataPoints.push(decodeExponentialDataPoint(r, r.len(end, tag)));
        break;
      case 0x10:
        h.aggregationTemporality = r.int32();
        break;
      default:
        r.skip(tag, end, AGGREGATED, 'ExponentialHistogram');
    }
  }
  r.finish(end, 'ExponentialHistogram');
  r.leave();
  return h;
}

function decodeSummary(r: ProtoReader, end: number): Summary {
  r.enter();
  const s: Summary = { dataPoints: [] };
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) s.dataPoints.push(decodeSummaryDataPoint(r, r.len(end, tag)));
    else r.skip(tag, end, DATA_POINTS, 'Summary');
  }
  r.finish(end, 'Summary');
  r.leave();
  return s;
}

function decodeNumberDataPoint(r: ProtoReader, end: number): NumberDataPoint {
  r.enter();
  const dp: NumberDataPoint = {
    attributes: [],
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    asDouble: undefined,
    asInt: undefined,
    exemplars: [],
    flags: 0,
  };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x11:
        dp.startTimeUnixNano = r.fixed64(end, tag);
        break;
      case 0x19:
        dp.timeUnixNano = r.fixed64(end, tag);
        break;
      case 0x21:
        dp.asDouble = r.double(end, tag);
        dp.asInt = undefined;
        break;
      case 0x2a:
        dp.exemplars.push(decodeExemplar(r, r.len(end, tag)));
        break;
      case 0x31:
        dp.asInt = r.sfixed64(end, tag);
        dp.asDouble = undefined;
        break;
      case 0x3a:
        pushKeyValue(r, end, tag, dp.attributes);
        break;
      case 0x40:
        dp.flags = r.varint32();
        break;
      default:
        r.skip(tag, end, NUMBER_DP, 'NumberDataPoint');
    }
  }
  r.finish(end, 'NumberDataPoint');
  r.leave();
  return dp;
}

function decodeHistogramDataPoint(r: ProtoReader, end: number): HistogramDataPoint {
  r.enter();
  const dp: HistogramDataPoint = {
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
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x11:
        dp.startTimeUnixNano = r.fixed64(end, tag);
        break;
      case 0x19:
        dp.timeUnixNano = r.fixed64(end, tag);
        break;
      case 0x21:
        dp.count = r.fixed64(end, tag);
        break;
      case 0x29:
        dp.sum = r.double(end, tag);
        break;
      case 0x31:
      case 0x32:
        readFixed64s(r, end, tag, dp.bucketCounts);
        break;
      case 0x39:
      case 0x3a:
        readDoubles(r, end, tag, dp.explicitBounds);
        break;
      case 0x42:
        dp.exemplars.push(decodeExemplar(r, r.len(end, tag)));
        break;
      case 0x4a:
        pushKeyValue(r, end, tag, dp.attributes);
        break;
      case 0x50:
        dp.flags = r.varint32();
        break;
      case 0x59:
        dp.min = r.double(end, tag);
        break;
      case 0x61:
        dp.max = r.double(end, tag);
        break;
      default:
        r.skip(tag, end, HISTOGRAM_DP, 'HistogramDataPoint');
    }
  }
  r.finish(end, 'HistogramDataPoint');
  r.leave();
  return dp;
}

function decodeExponentialDataPoint(r: ProtoReader, end: number): ExponentialHistogramDataPoint {
  r.enter();
  const dp: ExponentialHistogramDataPoint = {
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
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        pushKeyValue(r, end, tag, dp.attributes);
        break;
      case 0x11:
        dp.startTimeUnixNano = r.fixed64(end, tag);
        break;
      case 0x19:
        dp.timeUnixNano = r.fixed64(end, tag);
        break;
      case 0x21:
        dp.count = r.fixed64(end, tag);
        break;
      case 0x29:
        dp.sum = r.double(end, tag);
        break;
      case 0x30:
        dp.scale = r.sint32();
        break;
      case 0x39:
        dp.zeroCount = r.fixed64(end, tag);
        break;
      case 0x42:
        dp.positive = decodeBuckets(r, r.len(end, tag));
        break;
      case 0x4a:
        dp.negative = decodeBuckets(r, r.len(end, tag));
        break;
      case 0x50:
        dp.flags = r.varint32();
        break;
      case 0x5a:
        dp.exemplars.push(decodeExemplar(r, r.len(end, tag)));
        break;
      case 0x61:
        dp.min = r.double(end, tag);
        break;
      case 0x69:
        dp.max = r.double(end, tag);
        break;
      case 0x71:
        dp.zeroThreshold = r.double(end, tag);
        break;
      default:
        r.skip(tag, end, EXP_DP, 'ExponentialHistogramDataPoint');
    }
  }
  r.finish(end, 'ExponentialHistogramDataPoint');
  r.leave();
  return dp;
}

function decodeBuckets(r: ProtoReader, end: number): ExponentialHistogramBuckets {
  r.enter();
  const b: ExponentialHistogramBuckets = { offset: 0, bucketCounts: [] };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x08:
        b.offset = r.sint32();
        break;
      case 0x10:
        b.bucketCounts.push(r.uint64());
        break;
      case 0x12: {
        const e = r.len(end, tag);
        while (r.pos < e) b.bucketCounts.push(r.uint64());
        if (r.pos !== e)
          r.fail('packed ExponentialHistogramDataPoint.Buckets.bucket_counts overruns');
        break;
      }
      default:
        r.skip(tag, end, BUCKETS, 'ExponentialHistogramDataPoint.Buckets');
    }
  }
  r.finish(end, 'ExponentialHistogramDataPoint.Buckets');
  r.leave();
  return b;
}

function decodeSummaryDataPoint(r: ProtoReader, end: number): SummaryDataPoint {
  r.enter();
  const dp: SummaryDataPoint = {
    attributes: [],
    startTimeUnixNano: 0n,
    timeUnixNano: 0n,
    count: 0n,
    sum: 0,
    quantileValues: [],
    flags: 0,
  };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x11:
        dp.startTimeUnixNano = r.fixed64(end, tag);
        break;
      case 0x19:
        dp.timeUnixNano = r.fixed64(end, tag);
        break;
      case 0x21:
        dp.count = r.fixed64(end, tag);
        break;
      case 0x29:
        dp.sum = r.double(end, tag);
        break;
      case 0x32:
        dp.quantileValues.push(decodeQuantile(r, r.len(end, tag)));
        break;
      case 0x3a:
        pushKeyValue(r, end, tag, dp.attributes);
        break;
      case 0x40:
        dp.flags = r.varint32();
        break;
      default:
        r.skip(tag, end, SUMMARY_DP, 'SummaryDataPoint');
    }
  }
  r.finish(end, 'SummaryDataPoint');
  r.leave();
  return dp;
}

function decodeQuantile(r: ProtoReader, end: number): ValueAtQuantile {
  r.enter();
  const q: ValueAtQuantile = { quantile: 0, value: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x09:
        q.quantile = r.double(end, tag);
        break;
      case 0x11:
        q.value = r.double(end, tag);
        break;
      default:
        r.skip(tag, end, QUANTILE, 'SummaryDataPoint.ValueAtQuantile');
    }
  }
  r.finish(end, 'SummaryDataPoint.ValueAtQuantile');
  r.leave();
  return q;
}

function decodeExemplar(r: ProtoReader, end: number): Exemplar {
  r.enter();
  const ex: Exemplar = {
    filteredAttributes: [],
    timeUnixNano: 0n,
    asDouble: undefined,
    asInt: undefined,
    spanId: EMPTY,
    traceId: EMPTY,
  };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x11:
        ex.timeUnixNano = r.fixed64(end, tag);
        break;
      case 0x19:
        ex.asDouble = r.double(end, tag);
        ex.asInt = undefined;
        break;
      case 0x22:
        ex.spanId = r.id(end, tag);
        break;
      case 0x2a:
        ex.traceId = r.id(end, tag);
        break;
      case 0x31:
        ex.asInt = r.sfixed64(end, tag);
        ex.asDouble = undefined;
        break;
      case 0x3a:
        pushKeyValue(r, end, tag, ex.filteredAttributes);
        break;
      default:
        r.skip(tag, end, EXEMPLAR, 'Exemplar');
    }
  }
  r.finish(end, 'Exemplar');
  r.leave();
  return ex;
}

/** repeated fixed64, packed (one length-delimited run) or not (one value per tag). */
function readFixed64s(r: ProtoReader, end: number, tag: number, into: bigint[]): void {
  if ((tag & 7) !== WIRE_LEN) {
    into.push(r.fixed64(end, tag));
    return;
  }
  const e = r.len(end, tag);
  if ((e - r.pos) % 8 !== 0)
    r.fail(`packed fixed64 field ${tag >>> 3} is not a multiple of 8 bytes`);
  while (r.pos < e) into.push(r.fixed64(e, tag));
}

/** repeated double, packed or not. */
function readDoubles(r: ProtoReader, end: number, tag: number, into: number[]): void {
  if ((tag & 7) !== WIRE_LEN) {
    into.push(r.double(end, tag));
    return;
  }
  const e = r.len(end, tag);
  if ((e - r.pos) % 8 !== 0)
    r.fail(`packed double field ${tag >>> 3} is not a multiple of 8 bytes`);
  while (r.pos < e) into.push(r.double(e, tag));
}

// ---- encode ----------------------------------------------------------------------------

/** Encodes an ExportMetricsServiceRequest. */
export function encodeMetrics(data: MetricsData): Uint8Array {
  return encodeMessage(data, sizeMetricsData, writeMetricsData);
}

/** Not +0: proto3 omits a double only when it is exactly +0.0 (so -0.0 survives). */
function setDouble(v: number): boolean {
  return !Object.is(v, 0);
}

/** Size of a nested message field with a one-byte tag: reserves its tape slot. */
function nested<T>(t: SizeTape, v: T, size: (t: SizeTape, v: T) => number): number {
  const slot = t.reserve();
  const n = size(t, v);
  t.set(slot, n);
  return lenField(n);
}

function sizeMetricsData(t: SizeTape, data: MetricsData): number {
  let n = 0;
  for (const rm of data.resourceMetrics) n += nested(t, rm, sizeResourceMetrics);
  return n;
}

function sizeResourceMetrics(t: SizeTape, rm: ResourceMetrics): number {
  let n = sizeResourceField(t, rm.resource);
  for (const sm of rm.scopeMetrics) n += nested(t, sm, sizeScopeMetrics);
  if (rm.schemaUrl.length > 0) n += 1 + t.str(rm.schemaUrl);
  return n;
}

function sizeScopeMetrics(t: SizeTape, sm: ScopeMetrics): number {
  let n = sizeScopeField(t, sm.scope);
  for (const m of sm.metrics) n += nested(t, m, sizeMetric);
  if (sm.schemaUrl.length > 0) n += 1 + t.str(sm.schemaUrl);
  return n;
}

function writeMetricsData(w: ProtoWriter, data: MetricsData): void {
  for (const rm of data.resourceMetrics) {
    w.byte(0x0a);
    w.fork();
    writeResourceField(w, rm.resource);
    for (const sm of rm.scopeMetrics) {
      w.byte(0x12);
      w.fork();
      writeScopeField(w, sm.scope);
      for (const m of sm.metrics) {
        w.byte(0x12);
        w.fork();
        writeMetric(w, m);
      }
      if (sm.schemaUrl.length > 0) {
        w.byte(0x1a);
        w.string(sm.schemaUrl);
      }
    }
    if (rm.schemaUrl.length > 0) {
      w.byte(0x1a);
      w.string(rm.schemaUrl);
    }
  }
}

function sizeMetric(t: SizeTape, m: Metric): number {
  let n = 1 + t.str(m.name);
  if (m.description.length > 0) n += 1 + t.str(m.description);
  if (m.unit.length > 0) n += 1 + t.str(m.unit);
  if (m.gauge !== undefined) n += nested(t, m.gauge.dataPoints, sizeNumberPoints);
  else if (m.sum !== undefined) n += nested(t, m.sum, sizeSum);
  else if (m.histogram !== undefined) n += nested(t, m.histogram, sizeHistogram);
  else if (m.exponentialHistogram !== undefined) {
    n += nested(t, m.exponentialHistogram, sizeExponentialHistogram);
  } else if (m.summary !== undefined) n += nested(t, m.summary, sizeSummary);
  n += sizeKeyValues(t, m.metadata, 1);
  return n;
}

function writeMetric(w: ProtoWriter, m: Metric): void {
  w.byte(0x0a);
  w.string(m.name);
  if (m.description.length > 0) {
    w.byte(0x12);
    w.string(m.description);
  }
  if (m.unit.length > 0) {
    w.byte(0x1a);
    w.string(m.unit);
  }
  if (m.gauge !== undefined) {
    w.byte(0x2a);
    w.fork();
    writeNumberPoints(w, m.gauge.dataPoints);
  } else if (m.sum !== undefined) {
    w.byte(0x3a);
    w.fork();
    writeNumberPoints(w, m.sum.dataPoints);
    writeAggregation(w, m.sum.aggregationTemporality);
    if (m.sum.isMonotonic) {
      w.byte(0x18);
      w.byte(1);
    }
  } else if (m.histogram !== undefined) {
    w.byte(0x4a);
    w.fork();
    for (const dp of m.histogram.dataPoints) {
      w.byte(0x0a);
      w.fork();
      writeHistogramPoint(w, dp);
    }
    writeAggregation(w, m.histogram.aggregationTemporality);
  } else if (m.exponentialHistogram !== undefined) {
    w.byte(0x52);
    w.fork();
    for (const dp of m.exponentialHistogram.dataPoints) {
      w.byte(0x0a);
      w.fork();
      writeExponentialPoint(w, dp);
    }
    writeAggregation(w, m.exponentialHistogram.aggregationTemporality);
  } else if (m.summary !== undefined) {
    w.byte(0x5a);
    w.fork();
    for (const dp of m.summary.dataPoints) {
      w.byte(0x0a);
      w.fork();
      writeSummaryPoint(w, dp);
    }
  }
  writeKeyValues(w, m.metadata, 0x62);
}

function aggregationSize(v: number): number {
  return v !== 0 ? 1 + int32Size(v) : 0;
}

function writeAggregation(w: ProtoWriter, v: number): void {
  if (v !== 0) {
    w.byte(0x10);
    w.int32(v);
  }
}

function sizeNumberPoints(t: SizeTape, dps: readonly NumberDataPoint[]): number {
  let n = 0;
  for (const dp of dps) n += nested(t, dp, sizeNumberPoint);
  return n;
}

function writeNumberPoints(w: ProtoWriter, dps: readonly NumberDataPoint[]): void {
  for (const dp of dps) {
    w.byte(0x0a);
    w.fork();
    writeNumberPoint(w, dp);
  }
}

function sizeSum(t: SizeTape, s: Sum): number {
  return (
    sizeNumberPoints(t, s.dataPoints) +
    aggregationSize(s.aggregationTemporality) +
    (s.isMonotonic ? 2 : 0)
  );
}

function sizeHistogram(t: SizeTape, h: Histogram): number {
  let n = 0;
  for (const dp of h.dataPoints) n += nested(t, dp, sizeHistogramPoint);
  return n + aggregationSize(h.aggregationTemporality);
}

function sizeExponentialHistogram(t: SizeTape, h: ExponentialHistogram): number {
  let n = 0;
  for (const dp of h.dataPoints) n += nested(t, dp, sizeExponentialPoint);
  return n + aggregationSize(h.aggregationTemporality);
}

function sizeSummary(t: SizeTape, s: Summary): number {
  let n = 0;
  for (const dp of s.dataPoints) n += nested(t, dp, sizeSummaryPoint);
  return n;
}

function sizeExemplars(t: SizeTape, exemplars: readonly Exemplar[]): number {
  let n = 0;
  for (const ex of exemplars) n += nested(t, ex, sizeExemplar);
  return n;
}

function writeExemplars(w: ProtoWriter, exemplars: readonly Exemplar[], tag: number): void {
  for (const ex of exemplars) {
    w.byte(tag);
    w.fork();
    writeExemplar(w, ex);
  }
}

function sizeNumberPoint(t: SizeTape, dp: NumberDataPoint): number {
  let n = 18;
  if (dp.asDouble !== undefined) n += 9;
  n += sizeExemplars(t, dp.exemplars);
  if (dp.asDouble === undefined && dp.asInt !== undefined) n += 9;
  n += sizeKeyValues(t, dp.attributes, 1);
  if (dp.flags !== 0) n += 1 + varintSize(dp.flags);
  return n;
}

function writeNumberPoint(w: ProtoWriter, dp: NumberDataPoint): void {
  w.byte(0x11);
  w.fixed64(dp.startTimeUnixNano);
  w.byte(0x19);
  w.fixed64(dp.timeUnixNano);
  if (dp.asDouble !== undefined) {
    w.byte(0x21);
    w.double(dp.asDouble);
  }
  writeExemplars(w, dp.exemplars, 0x2a);
  if (dp.asDouble === undefined && dp.asInt !== undefined) {
    w.byte(0x31);
    w.sfixed64(dp.asInt);
  }
  writeKeyValues(w, dp.attributes, 0x3a);
  if (dp.flags !== 0) {
    w.byte(0x40);
    w.uint32(dp.flags);
  }
}

function sizeHistogramPoint(t: SizeTape, dp: HistogramDataPoint): number {
  let n = 27; // start, time, count
  if (dp.sum !== undefined) n += 9;
  if (dp.bucketCounts.length > 0) n += lenField(dp.bucketCounts.length * 8);
  if (dp.explicitBounds.length > 0) n += lenField(dp.explicitBounds.length * 8);
  n += sizeExemplars(t, dp.exemplars);
  n += sizeKeyValues(t, dp.attributes, 1);
  if (dp.flags !== 0) n += 1 + varintSize(dp.flags);
  if (dp.min !== undefined) n += 9;
  if (dp.max !== undefined) n += 9;
  return n;
}

function writeHistogramPoint(w: ProtoWriter, dp: HistogramDataPoint): void {
  w.byte(0x11);
  w.fixed64(dp.startTimeUnixNano);
  w.byte(0x19);
  w.fixed64(dp.timeUnixNano);
  w.byte(0x21);
  w.fixed64(dp.count);
  if (dp.sum !== undefined) {
    w.byte(0x29);
    w.double(dp.sum);
  }
  if (dp.bucketCounts.length > 0) {
    w.byte(0x32);
    w.uint32(dp.bucketCounts.length * 8);
    for (const c of dp.bucketCounts) w.fixed64(c);
  }
  if (dp.explicitBounds.length > 0) {
    w.byte(0x3a);
    w.uint32(dp.explicitBounds.length * 8);
    for (const b of dp.explicitBounds) w.double(b);
  }
  writeExemplars(w, dp.exemplars, 0x42);
  writeKeyValues(w, dp.attributes, 0x4a);
  if (dp.flags !== 0) {
    w.byte(0x50);
    w.uint32(dp.flags);
  }
  if (dp.min !== undefined) {
    w.byte(0x59);
    w.double(dp.min);
  }
  if (dp.max !== undefined) {
    w.byte(0x61);
    w.double(dp.max);
  }
}

function sizeBuckets(t: SizeTape, b: ExponentialHistogramBuckets): number {
  let n = b.offset !== 0 ? 1 + sint32Size(b.offset) : 0;
  if (b.bucketCounts.length > 0) {
    const slot = t.reserve();
    let k = 0;
    for (const c of b.bucketCounts) k += uint64Size(c);
    t.set(slot, k);
    n += lenField(k);
  }
  return n;
}

function writeBuckets(w: ProtoWriter, b: ExponentialHistogramBuckets): void {
  if (b.offset !== 0) {
    w.byte(0x08);
    w.sint32(b.offset);
  }
  if (b.bucketCounts.length > 0) {
    w.byte(0x12);
    w.fork();
    for (const c of b.bucketCounts) w.uint64(c);
  }
}

function sizeExponentialPoint(t: SizeTape, dp: ExponentialHistogramDataPoint): number {
  let n = sizeKeyValues(t, dp.attributes, 1);
  n += 27; // start, time, count
  if (dp.sum !== undefined) n += 9;
  if (dp.scale !== 0) n += 1 + sint32Size(dp.scale);
  n += 9; // zero_count
  if (dp.positive !== undefined) n += nested(t, dp.positive, sizeBuckets);
  if (dp.negative !== undefined) n += nested(t, dp.negative, sizeBuckets);
  if (dp.flags !== 0) n += 1 + varintSize(dp.flags);
  n += sizeExemplars(t, dp.exemplars);
  if (dp.min !== undefined) n += 9;
  if (dp.max !== undefined) n += 9;
  if (setDouble(dp.zeroThreshold)) n += 9;
  return n;
}

function writeExponentialPoint(w: ProtoWriter, dp: ExponentialHistogramDataPoint): void {
  writeKeyValues(w, dp.attributes, 0x0a);
  w.byte(0x11);
  w.fixed64(dp.startTimeUnixNano);
  w.byte(0x19);
  w.fixed64(dp.timeUnixNano);
  w.byte(0x21);
  w.fixed64(dp.count);
  if (dp.sum !== undefined) {
    w.byte(0x29);
    w.double(dp.sum);
  }
  if (dp.scale !== 0) {
    w.byte(0x30);
    w.sint32(dp.scale);
  }
  w.byte(0x39);
  w.fixed64(dp.zeroCount);
  if (dp.positive !== undefined) {
    w.byte(0x42);
    w.fork();
    writeBuckets(w, dp.positive);
  }
  if (dp.negative !== undefined) {
    w.byte(0x4a);
    w.fork();
    writeBuckets(w, dp.negative);
  }
  if (dp.flags !== 0) {
    w.byte(0x50);
    w.uint32(dp.flags);
  }
  writeExemplars(w, dp.exemplars, 0x5a);
  if (dp.min !== undefined) {
    w.byte(0x61);
    w.double(dp.min);
  }
  if (dp.max !== undefined) {
    w.byte(0x69);
    w.double(dp.max);
  }
  if (setDouble(dp.zeroThreshold)) {
    w.byte(0x71);
    w.double(dp.zeroThreshold);
  }
}

function sizeSummaryPoint(t: SizeTape, dp: SummaryDataPoint): number {
  let n = 18;
  if (dp.count !== 0n) n += 9;
  if (setDouble(dp.sum)) n += 9;
  for (const q of dp.quantileValues) {
    n += lenField((setDouble(q.quantile) ? 9 : 0) + (setDouble(q.value) ? 9 : 0));
  }
  n += sizeKeyValues(t, dp.attributes, 1);
  if (dp.flags !== 0) n += 1 + varintSize(dp.flags);
  return n;
}

function writeSummaryPoint(w: ProtoWriter, dp: SummaryDataPoint): void {
  w.byte(0x11);
  w.fixed64(dp.startTimeUnixNano);
  w.byte(0x19);
  w.fixed64(dp.timeUnixNano);
  if (dp.count !== 0n) {
    w.byte(0x21);
    w.fixed64(dp.count);
  }
  if (setDouble(dp.sum)) {
    w.byte(0x29);
    w.double(dp.sum);
  }
  for (const q of dp.quantileValues) {
    const hasQ = setDouble(q.quantile);
    const hasV = setDouble(q.value);
    w.byte(0x32);
    w.byte((hasQ ? 9 : 0) + (hasV ? 9 : 0));
    if (hasQ) {
      w.byte(0x09);
      w.double(q.quantile);
    }
    if (hasV) {
      w.byte(0x11);
      w.double(q.value);
    }
  }
  writeKeyValues(w, dp.attributes, 0x3a);
  if (dp.flags !== 0) {
    w.byte(0x40);
    w.uint32(dp.flags);
  }
}

function sizeExemplar(t: SizeTape, ex: Exemplar): number {
  let n = 9; // time
  if (ex.asDouble !== undefined) n += 9;
  if (ex.spanId.length > 0) n += lenField(ex.spanId.length);
  if (ex.traceId.length > 0) n += lenField(ex.traceId.length);
  if (ex.asDouble === undefined && ex.asInt !== undefined) n += 9;
  n += sizeKeyValues(t, ex.filteredAttributes, 1);
  return n;
}

function writeExemplar(w: ProtoWriter, ex: Exemplar): void {
  w.byte(0x11);
  w.fixed64(ex.timeUnixNano);
  if (ex.asDouble !== undefined) {
    w.byte(0x19);
    w.double(ex.asDouble);
  }
  if (ex.spanId.length > 0) {
    w.byte(0x22);
    w.bytes(ex.spanId);
  }
  if (ex.traceId.length > 0) {
    w.byte(0x2a);
    w.bytes(ex.traceId);
  }
  if (ex.asDouble === undefined && ex.asInt !== undefined) {
    w.byte(0x31);
    w.sfixed64(ex.asInt);
  }
  writeKeyValues(w, ex.filteredAttributes, 0x3a);
}
