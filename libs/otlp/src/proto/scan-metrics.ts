/**
 * The gateway's path for metrics: metrics are not split (the record is keyed by tenant +
 * resource, ARCHITECTURE.md "Kafka record contract"), but the request must still be validated
 * as strictly as traces and logs before it reaches Kafka, and its data points counted for the
 * tenant's limits and usage. This walks the ExportMetricsServiceRequest on the wire without
 * decoding it; a malformed message throws OtlpDecodeError.
 */
import { fields } from './common';
import { ProtoReader, WIRE_LEN } from './reader';
import { checkLimit, type OptionProblem, throwIfInvalid } from './split';
import {
  AttributeTally,
  validateKeyValue,
  validateResource,
  validateScope,
  validateString,
} from './validate';

/** Options of {@link scanMetrics}. */
export interface MetricScanOptions {
  /** Most attributes one data point may carry before it counts as over the limit. */
  maxAttributesPerItem?: number;
  /** Largest attribute value of a data point, in bytes (as in TraceSplitOptions). */
  maxAttributeValueBytes?: number;
}

/** Reports every problem with the options at once (an empty array means valid). */
export function validateMetricScanOptions(opts: MetricScanOptions): OptionProblem[] {
  const problems: OptionProblem[] = [];
  checkLimit(opts.maxAttributesPerItem, 'maxAttributesPerItem', problems);
  checkLimit(opts.maxAttributeValueBytes, 'maxAttributeValueBytes', problems);
  return problems;
}

export interface MetricScan {
  resourceMetrics: number;
  metrics: number;
  /** Data points of all five metric types. */
  dataPoints: number;
  /**
   * Data points whose own attributes exceed a limit. Metrics are not re-framed, so the
   * caller decides (reject the request, or accept and count them).
   */
  dataPointsOverAttributeLimit: number;
}

const REQUEST = fields(1);
const CONTAINER = fields(1, 2, 3);
const METRIC = fields(1, 2, 3, 5, 7, 9, 10, 11, 12);
const POINTS_ONLY = fields(1);
const AGGREGATED = fields(1, 2);
const SUM = fields(1, 2, 3);
const NUMBER_DP = fields(2, 3, 4, 5, 6, 7, 8);
const HISTOGRAM_DP = fields(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
const EXP_DP = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
const BUCKETS = fields(1, 2);
const SUMMARY_DP = fields(2, 3, 4, 5, 6, 7, 8);
const QUANTILE = fields(1, 2);
const EXEMPLAR = fields(2, 3, 4, 5, 6, 7);

/** Point kinds: which message a data_points field holds. */
const NUMBER = 0;
const HISTOGRAM = 1;
const EXPONENTIAL = 2;
const SUMMARY = 3;

const tally = new AttributeTally();

interface ScanState extends MetricScan {
  maxAttributes: number;
  maxValueBytes: number;
}

/** Validates an ExportMetricsServiceRequest and counts what it holds. */
export function scanMetrics(bytes: Uint8Array, opts: MetricScanOptions = {}): MetricScan {
  throwIfInvalid(validateMetricScanOptions(opts));
  const s: ScanState = {
    resourceMetrics: 0,
    metrics: 0,
    dataPoints: 0,
    dataPointsOverAttributeLimit: 0,
    maxAttributes: opts.maxAttributesPerItem ?? Number.POSITIVE_INFINITY,
    maxValueBytes: opts.maxAttributeValueBytes ?? Number.POSITIVE_INFINITY,
  };
  const r = new ProtoReader(bytes);
  const end = bytes.length;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      s.resourceMetrics++;
      scanContainer(r, r.len(end, tag), s, true);
    } else {
      r.skip(tag, end, REQUEST, 'ExportMetricsServiceRequest');
    }
  }
  r.finish(end, 'ExportMetricsServiceRequest');
  return {
    resourceMetrics: s.resourceMetrics,
    metrics: s.metrics,
    dataPoints: s.dataPoints,
    dataPointsOverAttributeLimit: s.dataPointsOverAttributeLimit,
  };
}

/** ResourceMetrics (outer) or ScopeMetrics: 1 resource/scope, 2 children, 3 schema_url. */
function scanContainer(r: ProtoReader, end: number, s: ScanState, outer: boolean): void {
  r.enter();
  const name = outer ? 'ResourceMetrics' : 'ScopeMetrics';
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        if (outer) validateResource(r, r.len(end, tag));
        else validateScope(r, r.len(end, tag));
        break;
      case 0x12:
        if (outer) {
          scanContainer(r, r.len(end, tag), s, false);
        } else {
          s.metrics++;
          scanMetric(r, r.len(end, tag), s);
        }
        break;
      case 0x1a:
        validateString(r, end, tag, `${name}.schema_url`);
        break;
      default:
        r.skip(tag, end, CONTAINER, name);
    }
  }
  r.finish(end, name);
  r.leave();
}

function scanMetric(r: ProtoReader, end: number, s: ScanState): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        validateString(r, end, tag, 'Metric.name');
        break;
      case 0x12:
        validateString(r, end, tag, 'Metric.description');
        break;
      case 0x1a:
        validateString(r, end, tag, 'Metric.unit');
        break;
      case 0x2a:
        scanAggregate(r, r.len(end, tag), s, NUMBER, 'Gauge', POINTS_ONLY);
        break;
      case 0x3a:
        scanAggregate(r, r.len(end, tag), s, NUMBER, 'Sum', SUM);
        break;
      case 0x4a:
        scanAggregate(r, r.len(end, tag), s, HISTOGRAM, 'Histogram', AGGREGATED);
        break;
      case 0x52:
        scanAggregate(r, r.len(end, tag), s, EXPONENTIAL, 'ExponentialHistogram', AGGREGATED);
        break;
      case 0x5a:
        scanAggregate(r, r.len(end, tag), s, SUMMARY, 'Summary', POINTS_ONLY);
        break;
      case 0x62:
        validateKeyValue(r, r.len(end, tag));
        break;
      default:
        r.skip(tag, end, METRIC, 'Metric');
    }
  }
  r.finish(end, 'Metric');
  r.leave();
}

/**
 * Gauge / Sum / Histogram / ExponentialHistogram / Summary: data points = 1, then
 * aggregation_temporality = 2 and is_monotonic = 3 where `known` has them.
 */
function scanAggregate(
  r: ProtoReader,
  end: number,
  s: ScanState,
  kind: number,
  name: string,
  known: number,
): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      const e = r.len(end, tag);
      tally.reset();
      if (kind === NUMBER) scanNumberPoint(r, e);
      else if (kind === HISTOGRAM) scanHistogramPoint(r, e);
      else if (kind === EXPONENTIAL) scanExponentialPoint(r, e);
      else scanSummaryPoint(r, e);
      s.dataPoints++;
      if (tally.exceeds(s.maxAttributes, s.maxValueBytes)) s.dataPointsOverAttributeLimit++;
    } else if ((tag === 0x10 && (known & 4) !== 0) || (tag === 0x18 && (known & 8) !== 0)) {
      r.skipVarint();
    } else {
      r.skip(tag, end, known, name);
    }
  }
  r.finish(end, name);
  r.leave();
}

function scanNumberPoint(r: ProtoReader, end: number): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x11:
      case 0x19:
      case 0x21:
      case 0x31:
        r.double(end, tag);
        break;
      case 0x2a:
        scanExemplar(r, r.len(end, tag));
        break;
      case 0x3a:
        tally.add(validateKeyValue(r, r.len(end, tag)));
        break;
      case 0x40:
        r.skipVarint();
        break;
      default:
        r.skip(tag, end, NUMBER_DP, 'NumberDataPoint');
    }
  }
  r.finish(end, 'NumberDataPoint');
  r.leave();
}

function scanHistogramPoint(r: ProtoReader, end: number): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x11:
      case 0x19:
      case 0x21:
      case 0x29:
      case 0x31:
      case 0x39:
      case 0x59:
      case 0x61:
        r.double(end, tag);
        break;
      case 0x32:
      case 0x3a:
        packedFixed64(r, end, tag);
        break;
      case 0x42:
        scanExemplar(r, r.len(end, tag));
        break;
      case 0x4a:
        tally.add(validateKeyValue(r, r.len(end, tag)));
        break;
      case 0x50:
        r.skipVarint();
        break;
      default:
        r.skip(tag, end, HISTOGRAM_DP, 'HistogramDataPoint');
    }
  }
  r.finish(end, 'HistogramDataPoint');
  r.leave();
}

function scanExponentialPoint(r: ProtoReader, end: number): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        tally.add(validateKeyValue(r, r.len(end, tag)));
        break;
      case 0x11:
      case 0x19:
      case 0x21:
      case 0x29:
      case 0x39:
      case 0x61:
      case 0x69:
      case 0x71:
        r.double(end, tag);
        break;
      case 0x30:
      case 0x50:
        r.skipVarint();
        break;
      case 0x42:
      case 0x4a:
        scanBuckets(r, r.len(end, tag));
        break;
      case 0x5a:
        scanExemplar(r, r.len(end, tag));
        break;
      default:
        r.skip(tag, end, EXP_DP, 'ExponentialHistogramDataPoint');
    }
  }
  r.finish(end, 'ExponentialHistogramDataPoint');
  r.leave();
}

function scanBuckets(r: ProtoReader, end: number): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x08:
      case 0x10:
        r.skipVarint();
        break;
      case 0x12: {
        const e = r.len(end, tag);
        while (r.pos < e) r.skipVarint();
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
}

function scanSummaryPoint(r: ProtoReader, end: number): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x11:
      case 0x19:
      case 0x21:
      case 0x29:
        r.double(end, tag);
        break;
      case 0x32: {
        const e = r.len(end, tag);
        r.enter();
        while (r.pos < e) {
          const t = r.tag();
          if (t === 0x09 || t === 0x11) r.double(e, t);
          else r.skip(t, e, QUANTILE, 'SummaryDataPoint.ValueAtQuantile');
        }
        r.finish(e, 'SummaryDataPoint.ValueAtQuantile');
        r.leave();
        break;
      }
      case 0x3a:
        tally.add(validateKeyValue(r, r.len(end, tag)));
        break;
      case 0x40:
        r.skipVarint();
        break;
      default:
        r.skip(tag, end, SUMMARY_DP, 'SummaryDataPoint');
    }
  }
  r.finish(end, 'SummaryDataPoint');
  r.leave();
}

function scanExemplar(r: ProtoReader, end: number): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x11:
      case 0x19:
      case 0x31:
        r.double(end, tag);
        break;
      case 0x22:
      case 0x2a:
        r.pos = r.len(end, tag);
        break;
      case 0x3a:
        validateKeyValue(r, r.len(end, tag));
        break;
      default:
        r.skip(tag, end, EXEMPLAR, 'Exemplar');
    }
  }
  r.finish(end, 'Exemplar');
  r.leave();
}

/** A packed run of 8-byte values must be a whole number of them. */
function packedFixed64(r: ProtoReader, end: number, tag: number): void {
  if ((tag & 7) !== WIRE_LEN) return;
  const e = r.len(end, tag);
  if ((e - r.pos) % 8 !== 0) r.fail(`packed field ${tag >>> 3} is not a multiple of 8 bytes`);
  r.pos = e;
}
