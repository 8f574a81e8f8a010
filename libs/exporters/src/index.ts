export { ExportError, httpStatusError, parseRetryAfter } from './export-error';
export { HttpClient, type TlsSettings, type HttpResponse } from './http-client';
export type { ExportBatch, ExportOutcome, ExportSignal, SinkExporter } from './sink-exporter';
export { OtlpHttpExporter, type OtlpHttpSinkConfig } from './otlp-http.exporter';
export { OtlpGrpcExporter, retryInfoDelayMs, type OtlpGrpcSinkConfig } from './otlp-grpc.exporter';
export {
  ZipkinExporter,
  toZipkinSpans,
  tagValue,
  type ZipkinSinkConfig,
  type ZipkinSpan,
} from './zipkin.exporter';
export { partialSuccessFromJson, partialSuccessFromProtobuf } from './partial-success';
export {
  StoreExporter,
  classifyStoreError,
  type StoreExporterOptions,
  type StoreWriteReport,
  type TraceStoreWriter,
} from './store.exporter';
export {
  KafkaExporter,
  KafkaSinkConfigError,
  tenantTopicPrefix,
  validateKafkaSinkConfig,
  type KafkaExporterOptions,
  type KafkaSinkConfig,
} from './kafka.exporter';
export {
  createSinkExporterFactory,
  defaultSinkExporterFactory,
  mergeSinkConfig,
  type SinkContext,
  type SinkExporterDeps,
  type SinkExporterFactory,
  type SinkKind,
} from './factory';
