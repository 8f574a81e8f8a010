/**
 * The few protobuf messages the gateway writes beyond OTLP's own (libs/otlp): google.rpc.Status
 * for OTLP/HTTP error bodies and gRPC status details, and google.rpc.RetryInfo (OTLP: throttled
 * clients honour its retry_delay).
 */

function varint(out: number[], v: number | bigint): void {
  let n = BigInt(v);
  if (n < 0n) n += 1n << 64n; // int64/int32 negatives are 10-byte varints
  while (n > 0x7fn) {
    out.push(Number((n & 0x7fn) | 0x80n));
    n >>= 7n;
  }
  out.push(Number(n));
}

function tag(out: number[], field: number, wireType: number): void {
  varint(out, (field << 3) | wireType);
}

function bytesField(out: number[], field: number, bytes: Uint8Array): void {
  tag(out, field, 2);
  varint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

const utf8 = new TextEncoder();

/** google.protobuf.Duration. */
function encodeDuration(ms: number): Uint8Array {
  const out: number[] = [];
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms % 1000) * 1_000_000;
  if (seconds) {
    tag(out, 1, 0);
    varint(out, seconds);
  }
  if (nanos) {
    tag(out, 2, 0);
    varint(out, nanos);
  }
  return Uint8Array.from(out);
}

/** google.rpc.RetryInfo { retry_delay: Duration }. */
function encodeRetryInfo(ms: number): Uint8Array {
  const out: number[] = [];
  bytesField(out, 1, encodeDuration(ms));
  return Uint8Array.from(out);
}

/** google.rpc.Status { code, message, details: [Any(RetryInfo)] }. */
export function encodeRpcStatus(code: number, message: string, retryAfterMs?: number): Uint8Array {
  const out: number[] = [];
  if (code) {
    tag(out, 1, 0);
    varint(out, code);
  }
  if (message) bytesField(out, 2, utf8.encode(message));
  if (retryAfterMs !== undefined) {
    const any: number[] = [];
    bytesField(any, 1, utf8.encode('type.googleapis.com/google.rpc.RetryInfo'));
    bytesField(any, 2, encodeRetryInfo(retryAfterMs));
    bytesField(out, 3, Uint8Array.from(any));
  }
  return Uint8Array.from(out);
}

/** The JSON form of google.rpc.Status (proto3 JSON mapping). */
export function rpcStatusJson(code: number, message: string, retryAfterMs?: number): string {
  const details =
    retryAfterMs !== undefined
      ? [
          {
            '@type': 'type.googleapis.com/google.rpc.RetryInfo',
            retryDelay: `${(retryAfterMs / 1000).toFixed(3).replace(/\.?0+$/, '')}s`,
          },
        ]
      : undefined;
  return JSON.stringify({ code, message, ...(details ? { details } : {}) });
}
