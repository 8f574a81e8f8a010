/**
 * Zipkin v2 exporter: OTLP spans converted to Zipkin's JSON model the way the OpenTelemetry
 * Collector's zipkin exporter does (resource service.name → localEndpoint.serviceName; other
 * resource and span attributes → tags; status → otel.status_code / error tags; scope →
 * otel.scope.name / otel.scope.version; events → annotations; times in microseconds), then
 * POSTed to /api/v2/spans. Traces only: Zipkin has no logs or metrics.
 */
import { gzipSync } from 'node:zlib';
import {
  decodeTraces,
  type AnyValue,
  type KeyValue,
  type Span,
  type TracesData,
} from '@custodian/otlp';
import { ExportError, httpStatusError } from './export-error';
import { HttpClient, type TlsSettings } from './http-client';
import type { ExportBatch, ExportOutcome, ExportSignal, SinkExporter } from './sink-exporter';

export interface ZipkinSinkConfig {
  /** Base URL of the Zipkin server, e.g. http://zipkin:9411. */
  endpoint: string;
  headers?: Record<string, string>;
  compression?: 'gzip' | 'none';
  timeoutMs?: number;
  tls?: TlsSettings;
}

export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
  remoteEndpoint?: { serviceName?: string };
  annotations?: { timestamp: number; value: string }[];
  tags?: Record<string, string>;
}

const KINDS: Record<number, ZipkinSpan['kind']> = {
  2: 'SERVER',
  3: 'CLIENT',
  4: 'PRODUCER',
  5: 'CONSUMER',
};

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** An attribute value as Zipkin's string tag (the Collector's AsString rules). */
export function tagValue(v: AnyValue): string {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.intValue !== undefined) return v.intValue.toString();
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.bytesValue !== undefined) return Buffer.from(v.bytesValue).toString('base64');
  return JSON.stringify(toPlain(v));
}

function toPlain(v: AnyValue): unknown {
  if (v.arrayValue) return v.arrayValue.values.map(toPlain);
  if (v.kvlistValue)
    return Object.fromEntries(v.kvlistValue.values.map((kv) => [kv.key, toPlain(kv.value)]));
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.bytesValue !== undefined) return Buffer.from(v.bytesValue).toString('base64');
  return v.stringValue ?? v.boolValue ?? v.doubleValue ?? null;
}

function addTags(tags: Record<string, string>, attrs: readonly KeyValue[]): void {
  for (const a of attrs) tags[a.key] = tagValue(a.value);
}

function micros(ns: bigint): number {
  return Number(ns / 1000n);
}

export function toZipkinSpans(data: TracesData): ZipkinSpan[] {
  const out: ZipkinSpan[] = [];
  for (const rs of data.resourceSpans) {
    const resourceTags: Record<string, string> = {};
    let service = 'unknown_service';
    for (const a of rs.resource?.attributes ?? []) {
      if (a.key === 'service.name') service = tagValue(a.value);
      else resourceTags[a.key] = tagValue(a.value);
    }
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans)
        out.push(convertSpan(s, service, resourceTags, ss.scope?.name, ss.scope?.version));
    }
  }
  return out;
}

function convertSpan(
  s: Span,
  service: string,
  resourceTags: Record<string, string>,
  scopeName?: string,
  scopeVersion?: string,
): ZipkinSpan {
  const tags: Record<string, string> = { ...resourceTags };
  addTags(tags, s.attributes);
  if (scopeName) tags['otel.scope.name'] = scopeName;
  if (scopeVersion) tags['otel.scope.version'] = scopeVersion;
  if (s.status?.code === 2) {
    tags['otel.status_code'] = 'ERROR';
    tags['error'] = s.status.message || 'true';
  } else if (s.status?.code === 1) {
    tags['otel.status_code'] = 'OK';
  }
  if (s.status?.message && s.status.code !== 2) tags['otel.status_description'] = s.status.message;
  const start = micros(s.startTimeUnixNano);
  const end = micros(s.endTimeUnixNano);
  const z: ZipkinSpan = {
    traceId: hex(s.traceId),
    id: hex(s.spanId),
    name: s.name,
    timestamp: start || undefined,
    duration: end > start ? end - start : undefined,
    localEndpoint: { serviceName: service },
    tags,
  };
  if (s.parentSpanId.length > 0 && s.parentSpanId.some((b) => b !== 0))
    z.parentId = hex(s.parentSpanId);
  const kind = KINDS[s.kind];
  if (kind) z.kind = kind;
  const peer = s.attributes.find((a) => a.key === 'peer.service')?.value.stringValue;
  if (peer) z.remoteEndpoint = { serviceName: peer };
  if (s.events.length > 0) {
    z.annotations = s.events.map((e) => ({
      timestamp: micros(e.timeUnixNano),
      value:
        e.attributes.length > 0
          ? `${e.name}|${JSON.stringify(Object.fromEntries(e.attributes.map((a) => [a.key, toPlain(a.value)])))}`
          : e.name,
    }));
  }
  return z;
}

export class ZipkinExporter implements SinkExporter {
  readonly kind = 'zipkin';
  private readonly client: HttpClient;

  constructor(private readonly config: ZipkinSinkConfig) {
    this.client = new HttpClient(new URL(config.endpoint), config.tls);
  }

  supports(signal: ExportSignal): boolean {
    return signal === 'traces';
  }

  async export(batch: ExportBatch): Promise<ExportOutcome> {
    if (batch.signal !== 'traces') throw new ExportError('Zipkin accepts traces only', false);
    const spans = toZipkinSpans(
      (batch.data as TracesData | undefined) ?? decodeTraces(batch.protobuf),
    );
    let body: Uint8Array = Buffer.from(JSON.stringify(spans), 'utf8');
    const headers: Record<string, string> = {
      ...this.config.headers,
      'content-type': 'application/json',
    };
    if ((this.config.compression ?? 'gzip') === 'gzip') {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    let res;
    try {
      res = await this.client.post('/api/v2/spans', body, headers, this.config.timeoutMs ?? 10_000);
    } catch (err) {
      throw new ExportError(
        `Zipkin ${this.config.endpoint}: ${(err as Error).message}`,
        true,
        undefined,
        { cause: err },
      );
    }
    if (res.status < 200 || res.status >= 300) {
      const ra = res.headers['retry-after'];
      throw httpStatusError(res.status, res.body.toString('utf8'), Array.isArray(ra) ? ra[0] : ra);
    }
    return { rejected: 0 };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
