/**
 * The partial_success of an Export*ServiceResponse, as the delivery layer needs it: the count of
 * items the backend rejected and its message. Protobuf answers are read with libs/otlp's codec.
 */
import { decodeExportResponse } from '@custodian/otlp';
import type { ExportOutcome, ExportSignal } from './sink-exporter';

export function partialSuccessFromProtobuf(signal: ExportSignal, bytes: Uint8Array): ExportOutcome {
  try {
    const ps = decodeExportResponse(signal, bytes).partialSuccess;
    if (!ps) return { rejected: 0 };
    return { rejected: Number(ps.rejected), message: ps.errorMessage || undefined };
  } catch {
    // An unreadable success response is still a success.
    return { rejected: 0 };
  }
}

export function partialSuccessFromJson(body: Buffer): ExportOutcome {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as {
      partialSuccess?: Record<string, string | number | undefined>;
    };
    const ps = parsed.partialSuccess;
    if (!ps) return { rejected: 0 };
    const rejected = Number(
      ps.rejectedSpans ?? ps.rejectedLogRecords ?? ps.rejectedDataPoints ?? 0,
    );
    return {
      rejected: Number.isFinite(rejected) ? rejected : 0,
      message: (ps.errorMessage as string) || undefined,
    };
  } catch {
    return { rejected: 0 };
  }
}
