/**
 * Hex encoding of trace and span ids. The model keeps ids as raw bytes (model.ts); hex exists
 * only at the edges: the OTLP/JSON mapping (which, unlike proto3's generic JSON mapping, writes
 * trace_id / span_id as case-insensitive hex, not base64 — OTLP spec, "JSON Protobuf Encoding"),
 * Zipkin ids and display. Table driven so that no id costs more than one string per byte pair.
 */

const HEX_PAIRS: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
);

/** Value of each ASCII code unit as a hex digit, or -1. Accepts both cases. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[65 + i] = 10 + i;
  HEX_VALUE[97 + i] = 10 + i;
}

export const TRACE_ID_BYTES = 16;
export const SPAN_ID_BYTES = 8;

/** Lower-case hex of any byte string ('' for an empty one). */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]];
  return out;
}

/**
 * Decodes `hex` (any case, even length) into a new Uint8Array, or returns undefined when it is
 * not hex. When `byteLength` is given, the text must encode exactly that many bytes.
 */
export function tryHexToBytes(hex: string, byteLength?: number): Uint8Array | undefined {
  const n = hex.length;
  if (n % 2 !== 0 || (byteLength !== undefined && n !== byteLength * 2)) return undefined;
  const out = new Uint8Array(n / 2);
  for (let i = 0, j = 0; i < n; i += 2, j++) {
    const hi = hex.charCodeAt(i);
    const lo = hex.charCodeAt(i + 1);
    const h = hi < 128 ? HEX_VALUE[hi] : -1;
    const l = lo < 128 ? HEX_VALUE[lo] : -1;
    if (h < 0 || l < 0) return undefined;
    out[j] = (h << 4) | l;
  }
  return out;
}

/** Decodes hex (any case) into bytes; throws a RangeError when it is not hex. */
export function hexToBytes(hex: string, byteLength?: number): Uint8Array {
  const out = tryHexToBytes(hex, byteLength);
  if (out === undefined) {
    const want = byteLength === undefined ? 'an even number of' : `${byteLength * 2}`;
    throw new RangeError(`expected ${want} hex characters, got ${JSON.stringify(hex)}`);
  }
  return out;
}

/** 32 lower-case hex characters of a 16-byte trace id ('' for an absent, empty id). */
export function traceIdToHex(traceId: Uint8Array): string {
  return bytesToHex(traceId);
}

/** 16 lower-case hex characters of an 8-byte span id ('' for an absent, empty id). */
export function spanIdToHex(spanId: Uint8Array): string {
  return bytesToHex(spanId);
}

/** A 16-byte trace id from exactly 32 hex characters (any case); RangeError otherwise. */
export function hexToTraceId(hex: string): Uint8Array {
  return hexToBytes(hex, TRACE_ID_BYTES);
}

/** An 8-byte span id from exactly 16 hex characters (any case); RangeError otherwise. */
export function hexToSpanId(hex: string): Uint8Array {
  return hexToBytes(hex, SPAN_ID_BYTES);
}

/** True when every byte is zero (the OTLP spec's invalid id), including the empty id. */
export function isZeroId(id: Uint8Array): boolean {
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return false;
  return true;
}
