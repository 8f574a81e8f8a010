/**
 * Building a sink's exporter from its kind and settings, in one place for every process that
 * does it: the worker (apps/worker tenants/tenant-sinks.ts, for delivery) and the admin API
 * (apps/admin sinks.service.ts, for the connectivity test). Both must build exactly the same
 * exporter from the same row, or a connectivity test would prove something about a different
 * exporter than the one the worker uses; before this module the admin deep-imported the worker.
 *
 * A sink row holds non-secret `config` JSON and an encrypted secret JSON; the caller decrypts
 * the secret and `mergeSinkConfig` merges the two (`headers` and `tls` key by key, so a
 * credential header sits beside the plain ones). Nothing here logs or keeps the merged config.
 */
import { KafkaExporter, type KafkaExporterOptions } from './kafka.exporter';
import { OtlpGrpcExporter, type OtlpGrpcSinkConfig } from './otlp-grpc.exporter';
import { OtlpHttpExporter, type OtlpHttpSinkConfig } from './otlp-http.exporter';
import type { SinkExporter } from './sink-exporter';
import { StoreExporter, type StoreExporterOptions, type TraceStoreWriter } from './store.exporter';
import { ZipkinExporter, type ZipkinSinkConfig } from './zipkin.exporter';

/** The sink kinds (the `sinks.kind` column; the same union as Prisma's SinkKind). */
export type SinkKind = 'otlphttp' | 'otlpgrpc' | 'zipkin' | 'kafka' | 'store';

/** Which sink an exporter is built for. */
export interface SinkContext {
  tenantId: string;
  sinkId: string;
}

/** Builds an exporter for a kind and its merged (plain + decrypted secret) config. */
export type SinkExporterFactory = (
  kind: SinkKind,
  config: Record<string, unknown>,
  /** Always given by the worker's TenantSinks; the store and kafka kinds need it. */
  context?: SinkContext,
) => SinkExporter | undefined;

/** The kinds that need nothing but their settings; others (kafka, store) return undefined. */
export const defaultSinkExporterFactory: SinkExporterFactory = (kind, config) => {
  switch (kind) {
    case 'otlphttp':
      return new OtlpHttpExporter(config as unknown as OtlpHttpSinkConfig);
    case 'otlpgrpc':
      return new OtlpGrpcExporter(config as unknown as OtlpGrpcSinkConfig);
    case 'zipkin':
      return new ZipkinExporter(config as unknown as ZipkinSinkConfig);
    default:
      return undefined;
  }
};

/** What the store and kafka kinds need from the process that builds them. */
export interface SinkExporterDeps {
  store?: { writer: TraceStoreWriter; options?: StoreExporterOptions };
  kafka?: Omit<KafkaExporterOptions, 'tenantId'>;
}

/** The default kinds plus `store` and `kafka` when their dependencies are given. */
export function createSinkExporterFactory(deps: SinkExporterDeps): SinkExporterFactory {
  return (kind, config, context) => {
    if (kind === 'store' && deps.store && context)
      return new StoreExporter(context.tenantId, deps.store.writer, deps.store.options);
    if (kind === 'kafka' && deps.kafka && context)
      return new KafkaExporter(config, { ...deps.kafka, tenantId: context.tenantId });
    return defaultSinkExporterFactory(kind, config, context);
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The row's config with its secret settings merged in (headers and tls merged key by key). */
export function mergeSinkConfig(config: unknown, secret: unknown): Record<string, unknown> {
  const plain = isRecord(config) ? config : {};
  if (!isRecord(secret)) return { ...plain };
  const merged: Record<string, unknown> = { ...plain, ...secret };
  if (isRecord(plain.headers) || isRecord(secret.headers)) {
    merged.headers = {
      ...(isRecord(plain.headers) ? plain.headers : {}),
      ...(isRecord(secret.headers) ? secret.headers : {}),
    };
  }
  if (isRecord(plain.tls) && isRecord(secret.tls)) merged.tls = { ...plain.tls, ...secret.tls };
  return merged;
}
