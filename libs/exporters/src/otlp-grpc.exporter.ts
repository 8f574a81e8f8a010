/**
 * OTLP/gRPC exporter (spec "OTLP/gRPC"): unary Export calls with the request's protobuf bytes
 * passed through as is, gzip message compression, metadata headers, TLS. Retryable codes per
 * the spec; RESOURCE_EXHAUSTED only when the server sent RetryInfo (then its delay is used).
 */
import {
  Client,
  Metadata,
  credentials,
  status as Code,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import { ExportError } from './export-error';
import type { TlsSettings } from './http-client';
import { partialSuccessFromProtobuf } from './partial-success';
import type { ExportBatch, ExportOutcome, ExportSignal, SinkExporter } from './sink-exporter';

export interface OtlpGrpcSinkConfig {
  /** host:port, or a URL (http:// = plaintext, https:// = TLS). */
  endpoint: string;
  headers?: Record<string, string>;
  compression?: 'gzip' | 'none';
  timeoutMs?: number;
  /** Plaintext for http:// endpoints or when set; TLS otherwise. */
  insecure?: boolean;
  tls?: TlsSettings;
  signals?: ExportSignal[];
}

const PATHS: Record<ExportSignal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
};

const RETRYABLE = new Set([
  Code.CANCELLED,
  Code.DEADLINE_EXCEEDED,
  Code.ABORTED,
  Code.OUT_OF_RANGE,
  Code.UNAVAILABLE,
  Code.DATA_LOSS,
]);

const identity = (b: Buffer): Buffer => b;

export class OtlpGrpcExporter implements SinkExporter {
  readonly kind = 'otlpgrpc';
  private readonly client: Client;

  constructor(private readonly config: OtlpGrpcSinkConfig) {
    let target = config.endpoint;
    let secure = !config.insecure;
    const m = /^(https?):\/\/(.+?)\/?$/.exec(target);
    if (m) {
      target = m[2];
      secure = m[1] === 'https' && !config.insecure;
    }
    const creds: ChannelCredentials = secure
      ? credentials.createSsl(
          config.tls?.ca ? Buffer.from(config.tls.ca) : null,
          config.tls?.key ? Buffer.from(config.tls.key) : null,
          config.tls?.cert ? Buffer.from(config.tls.cert) : null,
          config.tls?.insecureSkipVerify ? { checkServerIdentity: () => undefined } : undefined,
        )
      : credentials.createInsecure();
    this.client = new Client(target, creds, {
      'grpc.default_compression_algorithm': (config.compression ?? 'gzip') === 'gzip' ? 2 : 0,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
    });
  }

  supports(signal: ExportSignal): boolean {
    return !this.config.signals || this.config.signals.includes(signal);
  }

  export(batch: ExportBatch): Promise<ExportOutcome> {
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(this.config.headers ?? {}))
      metadata.set(k.toLowerCase(), v);
    const deadline = Date.now() + (this.config.timeoutMs ?? 10_000);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<Buffer, Buffer>(
        PATHS[batch.signal],
        identity,
        identity,
        Buffer.from(batch.protobuf.buffer, batch.protobuf.byteOffset, batch.protobuf.byteLength),
        metadata,
        { deadline },
        (err: ServiceError | null, response?: Buffer) => {
          if (!err)
            return resolve(partialSuccessFromProtobuf(batch.signal, response ?? Buffer.alloc(0)));
          const retryDelay = retryInfoDelayMs(err.metadata);
          const retryable =
            RETRYABLE.has(err.code) ||
            (err.code === Code.RESOURCE_EXHAUSTED && retryDelay !== undefined);
          reject(
            new ExportError(
              `OTLP/gRPC ${this.config.endpoint}: ${Code[err.code]}: ${err.details}`,
              retryable,
              retryDelay,
              { cause: err },
            ),
          );
        },
      );
    });
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/** The retry_delay of a google.rpc.RetryInfo in grpc-status-details-bin, if any. */
export function retryInfoDelayMs(md: Metadata | undefined): number | undefined {
  const raw = md?.get('grpc-status-details-bin')[0];
  if (!raw || typeof raw === 'string') return undefined;
  const fields = (buf: Uint8Array) => {
    const out: { field: number; wire: number; value: number | Uint8Array }[] = [];
    let pos = 0;
    const varint = () => {
      let v = 0;
      let s = 0;
      while (pos < buf.length) {
        const b = buf[pos++];
        v += (b & 0x7f) * 2 ** s;
        if (b < 0x80) break;
        s += 7;
      }
      return v;
    };
    while (pos < buf.length) {
      const tag = varint();
      const wire = tag & 7;
      if (wire === 0) out.push({ field: tag >> 3, wire, value: varint() });
      else if (wire === 2) {
        const len = varint();
        out.push({ field: tag >> 3, wire, value: buf.subarray(pos, pos + len) });
        pos += len;
      } else break;
    }
    return out;
  };
  for (const d of fields(raw).filter((f) => f.field === 3 && f.wire === 2)) {
    const any = fields(d.value as Uint8Array);
    const type = any.find((f) => f.field === 1);
    if (
      !type ||
      !Buffer.from(type.value as Uint8Array)
        .toString()
        .endsWith('google.rpc.RetryInfo')
    )
      continue;
    const info = any.find((f) => f.field === 2);
    const duration = info ? fields(info.value as Uint8Array).find((f) => f.field === 1) : undefined;
    if (!duration) return 0;
    const parts = fields(duration.value as Uint8Array);
    const seconds = Number(parts.find((f) => f.field === 1)?.value ?? 0);
    const nanos = Number(parts.find((f) => f.field === 2)?.value ?? 0);
    return seconds * 1000 + Math.round(nanos / 1e6);
  }
  return undefined;
}
