/**
 * The gateway's use of libs/otlp: protobuf is split on the wire (never decoded to objects);
 * JSON and Zipkin bodies are decoded to the model once and encoded to protobuf, then take the
 * same path. Every codec error becomes a 400 / INVALID_ARGUMENT with the codec's message.
 */
import {
  OtlpDecodeError,
  OtlpJsonError,
  ZipkinError,
  decodeLogsJson,
  decodeMetricsJson,
  decodeTracesJson,
  decodeZipkinSpansJson,
  encodeLogs,
  encodeMetrics,
  encodeTraces,
  scanMetrics,
  splitLogs,
  splitTraces,
} from '@custodian/otlp';
import type { Signal } from '@custodian/bus';
import { IngestError } from './ingest-error';
import type { OtlpSplitter, SplitOptions, SplitResult } from './splitter';
import type { JsonConverter } from '../receivers/otlp-http.receiver';

/** FNV-1a 32 over the key's UTF-8 bytes: a stable partition for data keyed by tenant. */
export function partitionOfKey(key: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(key, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

function invalid(err: unknown): never {
  if (
    err instanceof OtlpDecodeError ||
    err instanceof OtlpJsonError ||
    err instanceof ZipkinError
  ) {
    throw new IngestError('invalid_argument', err.message);
  }
  throw err;
}

function reasons(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

export function createOtlpSplitter(): OtlpSplitter {
  return {
    split(signal: Signal, protobuf: Uint8Array, opts: SplitOptions): SplitResult {
      const limits = {
        maxAttributesPerItem: opts.maxAttributes,
        maxAttributeValueBytes: opts.maxAttributeValueBytes,
      };
      // Data without a trace id (metrics, logs outside any trace) is keyed by tenant.
      const tenantPartition = partitionOfKey(opts.tenantId, opts.partitions);
      try {
        if (signal === 'traces') {
          const s = splitTraces(protobuf, { partitions: opts.partitions, ...limits });
          return {
            parts: s.parts.map((p) => ({ partition: p.partition, value: p.bytes })),
            accepted: s.spans,
            rejected: s.rejectedSpans,
            rejectReasons: reasons(s.rejectReasons),
          };
        }
        if (signal === 'logs') {
          const s = splitLogs(protobuf, {
            partitions: opts.partitions,
            fallbackPartition: tenantPartition,
            ...limits,
          });
          return {
            parts: s.parts.map((p) => ({ partition: p.partition, value: p.bytes })),
            accepted: s.logRecords,
            rejected: s.rejectedLogRecords,
            rejectReasons: reasons(s.rejectReasons),
          };
        }
        const m = scanMetrics(protobuf, limits);
        if (m.dataPointsOverAttributeLimit > 0) {
          // Metrics are produced as sent (not re-framed), so points over the caps cannot be
          // cut out one by one: the request is refused, and the message says why.
          throw new IngestError(
            'invalid_argument',
            `${m.dataPointsOverAttributeLimit} data points exceed the attribute limits (at most ${opts.maxAttributes} attributes, values of at most ${opts.maxAttributeValueBytes} bytes)`,
          );
        }
        return {
          parts: m.dataPoints > 0 ? [{ partition: tenantPartition, value: protobuf }] : [],
          accepted: m.dataPoints,
          rejected: 0,
          rejectReasons: {},
        };
      } catch (err) {
        invalid(err);
      }
    },
  };
}

export function createJsonConverter(): JsonConverter {
  return {
    otlpJsonToProtobuf(signal: Signal, body: Uint8Array): Uint8Array {
      try {
        if (signal === 'traces') return encodeTraces(decodeTracesJson(body));
        if (signal === 'logs') return encodeLogs(decodeLogsJson(body));
        return encodeMetrics(decodeMetricsJson(body));
      } catch (err) {
        invalid(err);
      }
    },
    zipkinJsonToProtobuf(body: Uint8Array): Uint8Array {
      try {
        return encodeTraces(decodeZipkinSpansJson(body));
      } catch (err) {
        invalid(err);
      }
    },
  };
}
