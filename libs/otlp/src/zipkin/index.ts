/** Zipkin v2 JSON → OTLP, with the OpenTelemetry Collector zipkin receiver's semantics. */
export {
  ZipkinError,
  decodeZipkinSpansJson,
  zipkinSpansToTraces,
  type ZipkinOptions,
} from './zipkin';
