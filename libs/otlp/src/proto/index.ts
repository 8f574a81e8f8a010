/**
 * OTLP protobuf: the codecs (wire <-> model) and the gateway's wire-level splitters/scanners.
 * The reader/writer primitives are internal; only what callers need is exported.
 */
export { OtlpDecodeError } from './errors';
export { MAX_NESTING_DEPTH, StringInterner, type DecodeOptions } from './reader';
export { AttributeKeys } from './common';
export { decodeTraces, encodeTraces, type TraceDecodeOptions } from './traces';
export { decodeLogs, encodeLogs } from './logs';
export { decodeMetrics, encodeMetrics } from './metrics';
export {
  decodeExportResponse,
  encodeExportResponse,
  type ExportResponse,
  type OtlpSignal,
} from './responses';
export type { OptionProblem, RejectCounts, RejectReason } from './split';
export {
  splitTraces,
  validateTraceSplitOptions,
  type TracePart,
  type TraceSplit,
  type TraceSplitOptions,
} from './split-traces';
export {
  splitLogs,
  validateLogSplitOptions,
  type LogPart,
  type LogSplit,
  type LogSplitOptions,
} from './split-logs';
export {
  scanMetrics,
  validateMetricScanOptions,
  type MetricScan,
  type MetricScanOptions,
} from './scan-metrics';
