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
