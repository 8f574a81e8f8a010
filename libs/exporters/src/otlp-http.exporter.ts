/**
 * OTLP/HTTP exporter (spec "OTLP/HTTP"): protobuf or JSON, gzip, custom headers (X-Scope-OrgID
 * for Tempo and Mimir, vendor API-key headers for Datadog, New Relic, Honeycomb), TLS.
 */
import { gzipSync } from 'node:zlib';
import {
  decodeLogs,
  decodeMetrics,
  decodeTraces,
  encodeLogsJson,
  encodeMetricsJson,
  encodeTracesJson,
  type LogsData,
  type MetricsData,
  type TracesData,
} from '@custodian/otlp';
import { ExportError, httpStatusError } from './export-error';
import { HttpClient, type TlsSettings } from './http-client';
import { partialSuccessFromJson, partialSuccessFromProtobuf } from './partial-success';
import type { ExportBatch, ExportOutcome, ExportSignal, SinkExporter } from './sink-exporter';

export interface OtlpHttpSinkConfig {
  /** Base URL, e.g. https://tempo.example:4318; /v1/<signal> is appended unless paths override it. */
  endpoint: string;
  /** Per-signal path overrides, e.g. { traces: '/otlp/v1/traces' }. */
  paths?: Partial<Record<ExportSignal, string>>;
  /** Extra request headers; credentials belong in the sink's encrypted secrets. */
  headers?: Record<string, string>;
  encoding?: 'protobuf' | 'json';
  compression?: 'gzip' | 'none';
  timeoutMs?: number;
  tls?: TlsSettings;
  /** Signals this sink receives; default all. */
  signals?: ExportSignal[];
}

export class OtlpHttpExporter implements SinkExporter {
  readonly kind = 'otlphttp';
  private readonly client: HttpClient;

  constructor(private readonly config: OtlpHttpSinkConfig) {
    this.client = new HttpClient(new URL(config.endpoint), config.tls);
  }

  supports(signal: ExportSignal): boolean {
    return !this.config.signals || this.config.signals.includes(signal);
  }

  async export(batch: ExportBatch): Promise<ExportOutcome> {
    const json = this.config.encoding === 'json';
    let body: Uint8Array = json ? Buffer.from(toJson(batch), 'utf8') : batch.protobuf;
    const headers: Record<string, string> = {
      ...this.config.headers,
      'content-type': json ? 'application/json' : 'application/x-protobuf',
      'user-agent': 'custodian-worker',
    };
    if ((this.config.compression ?? 'gzip') === 'gzip') {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    const path =
      this.config.paths?.[batch.signal] ??
      `${trimSlash(new URL(this.config.endpoint).pathname)}/v1/${batch.signal}`;
    let res;
    try {
      res = await this.client.post(path, body, headers, this.config.timeoutMs ?? 10_000);
    } catch (err) {
      throw new ExportError(
        `OTLP/HTTP ${this.config.endpoint}: ${(err as Error).message}`,
        true,
        undefined,
        { cause: err },
      );
    }
    if (res.status < 200 || res.status >= 300) {
      const retryAfter = res.headers['retry-after'];
      throw httpStatusError(
        res.status,
        res.body.toString('utf8'),
        Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      );
    }
    const ct = String(res.headers['content-type'] ?? '');
    return ct.includes('json')
      ? partialSuccessFromJson(res.body)
      : partialSuccessFromProtobuf(batch.signal, res.body);
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

function trimSlash(p: string): string {
  return p.endsWith('/') ? p.slice(0, -1) : p;
}

function toJson(batch: ExportBatch): string {
  switch (batch.signal) {
    case 'traces':
      return encodeTracesJson(
        (batch.data as TracesData | undefined) ?? decodeTraces(batch.protobuf),
      );
    case 'logs':
      return encodeLogsJson((batch.data as LogsData | undefined) ?? decodeLogs(batch.protobuf));
    case 'metrics':
      return encodeMetricsJson(
        (batch.data as MetricsData | undefined) ?? decodeMetrics(batch.protobuf),
      );
  }
}
