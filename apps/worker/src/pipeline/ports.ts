/**
 * What the worker's pipeline needs from the rest of the worker, as narrow interfaces: the
 * tenant's compiled policy, the tenant's sinks by name, and durable delivery. The pipeline is
 * tested with plain implementations of these; the worker module wires the real ones.
 */
import type { CompiledPolicy } from '@custodian/policy';
import type { LogsData, MetricsData, TracesData } from '@custodian/otlp';
import type { SinkExporter } from '@custodian/exporters';

export type Signal = 'traces' | 'logs' | 'metrics';

export interface PolicySource {
  /** The tenant's active compiled policy, or the platform default. */
  get(tenantId: string): Promise<CompiledPolicy>;
}

export interface TenantSink {
  id: string;
  name: string;
  /** The sink kind (`store` is cleared for restricted values by nature). */
  kind: string;
  /**
   * The sink row's `cleared_for_restricted`: restricted values reach the sink only when this
   * AND the route's `restricted_fields` allow it (libs/policy applySinkClearance).
   */
  clearedForRestricted: boolean;
  exporter: SinkExporter;
}

export interface SinkSource {
  forTenant(tenantId: string): Promise<readonly TenantSink[]>;
}

export interface DeliveryItem {
  tenantId: string;
  sink: TenantSink;
  signal: Signal;
  data: TracesData | LogsData | MetricsData;
  items: number;
  /**
   * Called exactly once, when the data is exported or durably queued (retry or dead-letter
   * queue in Redis) — never before. The pipeline releases Kafka offsets on it.
   */
  onDone: () => void;
}

export interface Delivery {
  submit(item: DeliveryItem): void;
}

/** Kafka record headers, as the consumer hands them over. */
export type RecordHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** A record the pipeline cannot process, to be kept on the dead-letter topic. */
export interface PoisonRecord {
  signal: Signal;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders;
  /** The tenant from the headers, or `unknown` (metric label). */
  tenantId: string;
  /** `undecodable`, `no_tenant` or `tenant_key_unavailable`. */
  reason: string;
  /** The decoder's message, never payload bytes. */
  error?: string;
}

export interface DeadLetters {
  /**
   * Resolves once `rec` is durably on the dead-letter topic (retrying meanwhile); rejects only
   * when it gave up (shutdown), in which case the record's offset must stay uncommitted.
   */
  put(rec: PoisonRecord): Promise<void>;
}
