/**
 * The in-memory OTLP data model (opentelemetry-proto v1: common, resource, trace, logs,
 * metrics), shared by the codecs here, the policy engine (libs/policy) and the worker.
 *
 * Conventions, chosen for a codec that neither loses data nor allocates needlessly:
 * - Field names are the proto3 JSON names (camelCase), so the OTLP/JSON mapping is direct.
 * - Ids (trace_id, span_id, parent_span_id) are raw bytes: Uint8Array of 16 or 8 bytes, or
 *   empty when absent. Hex is only for the JSON mapping and for display.
 * - fixed64 times are `bigint` nanoseconds since the Unix epoch (0n = unset); int64 attribute
 *   values are `bigint`, so no value outside 2^53 is ever rounded.
 * - Optional messages are `undefined` when absent; repeated fields are always arrays.
 * - Enums are their numeric proto values (unknown values are kept, as proto3 requires).
 */

/** A value of the OTLP AnyValue oneof: exactly one member is set (none = empty value). */
export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: bigint;
  doubleValue?: number;
  arrayValue?: ArrayValue;
  kvlistValue?: KeyValueList;
  bytesValue?: Uint8Array;
}

export interface ArrayValue {
  values: AnyValue[];
}

export interface KeyValueList {
  values: KeyValue[];
}

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

// ---- traces ----------------------------------------------------------------------------

export const SpanKind = {
  Unspecified: 0,
  Internal: 1,
  Server: 2,
  Client: 3,
  Producer: 4,
  Consumer: 5,
} as const;

export const StatusCode = {
  Unset: 0,
  Ok: 1,
  Error: 2,
} as const;

export interface Status {
  message: string;
  code: number;
}

export interface SpanEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface SpanLink {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
}

export interface Span {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  parentSpanId: Uint8Array;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  events: SpanEvent[];
  droppedEventsCount: number;
  links: SpanLink[];
  droppedLinksCount: number;
  status?: Status;
}

export interface ScopeSpans {
  scope?: InstrumentationScope;
  spans: Span[];
  schemaUrl: string;
}

export interface ResourceSpans {
  resource?: Resource;
  scopeSpans: ScopeSpans[];
  schemaUrl: string;
}

/** ExportTraceServiceRequest. */
export interface TracesData {
  resourceSpans: ResourceSpans[];
}

// ---- logs ------------------------------------------------------------------------------

export interface LogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  body?: AnyValue;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
  traceId: Uint8Array;
  spanId: Uint8Array;
  eventName: string;
}

export interface ScopeLogs {
  scope?: InstrumentationScope;
  logRecords: LogRecord[];
  schemaUrl: string;
}

export interface ResourceLogs {
  resource?: Resource;
  scopeLogs: ScopeLogs[];
  schemaUrl: string;
}

/** ExportLogsServiceRequest. */
export interface LogsData {
  resourceLogs: ResourceLogs[];
}

// ---- metrics ---------------------------------------------------------------------------

export interface Exemplar {
  filteredAttributes: KeyValue[];
  timeUnixNano: bigint;
  /** oneof value: exactly one of asDouble / asInt is set. */
  asDouble?: number;
  asInt?: bigint;
  spanId: Uint8Array;
  traceId: Uint8Array;
}

export interface NumberDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  /** oneof value: exactly one of asDouble / asInt is set. */
  asDouble?: number;
  asInt?: bigint;
  exemplars: Exemplar[];
  flags: number;
}

export interface HistogramDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  count: bigint;
  sum?: number;
  bucketCounts: bigint[];
  explicitBounds: number[];
  exemplars: Exemplar[];
  flags: number;
  min?: number;
  max?: number;
}

export interface ExponentialHistogramBuckets {
  offset: number;
  bucketCounts: bigint[];
}

export interface ExponentialHistogramDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  count: bigint;
  sum?: number;
  scale: number;
  zeroCount: bigint;
  positive?: ExponentialHistogramBuckets;
  negative?: ExponentialHistogramBuckets;
  flags: number;
  exemplars: Exemplar[];
  min?: number;
  max?: number;
  zeroThreshold: number;
}

export interface ValueAtQuantile {
  quantile: number;
  value: number;
}

export interface SummaryDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  count: bigint;
  sum: number;
  quantileValues: ValueAtQuantile[];
  flags: number;
}

export interface Gauge {
  dataPoints: NumberDataPoint[];
}

export interface Sum {
  dataPoints: NumberDataPoint[];
  aggregationTemporality: number;
  isMonotonic: boolean;
}

export interface Histogram {
  dataPoints: HistogramDataPoint[];
  aggregationTemporality: number;
}

export interface ExponentialHistogram {
  dataPoints: ExponentialHistogramDataPoint[];
  aggregationTemporality: number;
}

export interface Summary {
  dataPoints: SummaryDataPoint[];
}

export interface Metric {
  name: string;
  description: string;
  unit: string;
  /** oneof data: at most one is set. */
  gauge?: Gauge;
  sum?: Sum;
  histogram?: Histogram;
  exponentialHistogram?: ExponentialHistogram;
  summary?: Summary;
  metadata: KeyValue[];
}

export interface ScopeMetrics {
  scope?: InstrumentationScope;
  metrics: Metric[];
  schemaUrl: string;
}

export interface ResourceMetrics {
  resource?: Resource;
  scopeMetrics: ScopeMetrics[];
  schemaUrl: string;
}

/** ExportMetricsServiceRequest. */
export interface MetricsData {
  resourceMetrics: ResourceMetrics[];
}

// ---- export responses ------------------------------------------------------------------

/** ExportTracePartialSuccess / ExportLogsPartialSuccess / ExportMetricsPartialSuccess. */
export interface PartialSuccess {
  /** rejected_spans / rejected_log_records / rejected_data_points. */
  rejected: bigint;
  errorMessage: string;
}
