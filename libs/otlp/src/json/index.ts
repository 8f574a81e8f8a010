/**
 * The OTLP/JSON mapping (OTLP spec, "JSON Protobuf Encoding") for traces, logs and metrics, and
 * the hex id helpers it is built on.
 */
export { OtlpJsonError } from './error';
export { MAX_ANY_VALUE_DEPTH } from './reader';
export { decodeTracesJson, encodeTracesJson } from './traces';
export { decodeLogsJson, encodeLogsJson } from './logs';
export { decodeMetricsJson, encodeMetricsJson } from './metrics';
export {
  SPAN_ID_BYTES,
  TRACE_ID_BYTES,
  bytesToHex,
  hexToBytes,
  hexToSpanId,
  hexToTraceId,
  isZeroId,
  spanIdToHex,
  traceIdToHex,
  tryHexToBytes,
} from './hex';
