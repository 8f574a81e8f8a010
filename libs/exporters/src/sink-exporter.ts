import type { LogsData, MetricsData, TracesData } from '@custodian/otlp';

export type ExportSignal = 'traces' | 'logs' | 'metrics';

/** One batch for one sink: the OTLP request in protobuf, and its decoded form when at hand. */
export interface ExportBatch {
  signal: ExportSignal;
  protobuf: Uint8Array;
  data?: TracesData | LogsData | MetricsData;
  /** Spans, log records or data points in the batch. */
  items: number;
}

export interface ExportOutcome {
  /** Items the backend said it rejected (OTLP partial success); they are not retried. */
  rejected: number;
  message?: string;
}

/**
 * A backend. `export` resolves when the backend accepted the batch and throws ExportError
 * otherwise. Retries, timeouts around retries, and queueing are not the exporter's business:
 * the delivery layer wraps every exporter the same way.
 */
export interface SinkExporter {
  readonly kind: string;
  supports(signal: ExportSignal): boolean;
  export(batch: ExportBatch): Promise<ExportOutcome>;
  close(): Promise<void>;
}
