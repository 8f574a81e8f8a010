/**
 * A tiny protobuf wire builder for hand-crafting test inputs (valid, odd and malformed) that no
 * encoder would produce: unknown fields of every wire type, groups, padded varints, bad
 * lengths, deep nesting. Test support only; not exported from the lib.
 */

export type Chunk = Uint8Array | number[];

export function concat(...chunks: Chunk[]): Uint8Array {
  const parts = chunks.map((c) => (c instanceof Uint8Array ? c : Uint8Array.from(c)));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

export function varint(v: number | bigint): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (x > 0x7fn) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

export function tag(field: number, wire: number): number[] {
  return varint((field << 3) | wire);
}

/** A length-delimited field. */
export function ld(field: number, ...content: Chunk[]): Uint8Array {
  const body = concat(...content);
  return concat(tag(field, 2), varint(body.length), body);
}

export function str(field: number, s: string): Uint8Array {
  return ld(field, new TextEncoder().encode(s));
}

export function vfield(field: number, v: number | bigint): number[] {
  return [...tag(field, 0), ...varint(v)];
}

export function fixed32(field: number, v: number): number[] {
  return [...tag(field, 5), v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

export function fixed64(field: number, v: bigint): number[] {
  const out = tag(field, 1);
  for (let i = 0n; i < 8n; i++) out.push(Number((v >> (8n * i)) & 0xffn));
  return out;
}

/** Trace ids/span ids for tests: a 16-byte (or n-byte) id ending in `n`. */
export function id(n: number, length = 16): Uint8Array {
  const out = new Uint8Array(length);
  out[length - 1] = n & 0xff;
  out[0] = 0xab;
  return out;
}

/** A minimal valid Span with the given ids and extra fields. */
export function rawSpan(traceId: Uint8Array, spanId: Uint8Array, ...extra: Chunk[]): Uint8Array {
  return concat(ld(1, traceId), ld(2, spanId), str(5, 'op'), ...extra);
}

/** ExportTraceServiceRequest with one ResourceSpans / ScopeSpans holding `spans`. */
export function rawTraces(...spans: Uint8Array[]): Uint8Array {
  return ld(1, ld(2, ...spans.map((s) => ld(2, s))));
}
