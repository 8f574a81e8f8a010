/**
 * Reads the partial_success of an Export*ServiceResponse (field 1: { 1: rejected, 2:
 * error_message }) without a full decoder: the worker only needs the count and the message.
 */
import type { ExportOutcome } from './sink-exporter';

export function partialSuccessFromProtobuf(bytes: Uint8Array): ExportOutcome {
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length) return v;
      const b = bytes[pos++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  try {
    while (pos < bytes.length) {
      const tag = varint();
      if (tag >> 3 === 1 && (tag & 7) === 2) {
        const len = varint();
        const end = pos + len;
        let rejected = 0;
        let message = '';
        while (pos < end) {
          const t = varint();
          if (t === 1 << 3) rejected = varint();
          else if (t === ((2 << 3) | 2)) {
            const l = varint();
            message = Buffer.from(bytes.subarray(pos, pos + l)).toString('utf8');
            pos += l;
          } else return { rejected };
        }
        return { rejected, message: message || undefined };
      }
      return { rejected: 0 };
    }
  } catch {
    // An unreadable success response is still a success.
  }
  return { rejected: 0 };
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
