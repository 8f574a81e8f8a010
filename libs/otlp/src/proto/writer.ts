/**
 * Protobuf wire-format writer in the style of @opentelemetry/otlp-transformer: a size pass,
 * then a write pass into one buffer allocated at exactly the final size.
 *
 * Unlike otlp-transformer (which reserves one byte per length prefix and shifts content when
 * a prefix needs more), the size pass records every nested message length and every string's
 * UTF-8 length on a {@link SizeTape} in pre-order; the write pass reads them back in the same
 * order. So each string's length is computed once, nothing is ever moved, and the buffer never
 * grows. Encoders are synchronous and not re-entrant, so one module-level tape is reused.
 */
import { Buffer } from 'node:buffer';

const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;
const MAX_U64 = 2n ** 64n - 1n;

/** Lengths recorded by the size pass, consumed in the same order by the write pass. */
export class SizeTape {
  values = new Int32Array(1024);
  length = 0;

  reset(): void {
    this.length = 0;
  }

  /** Reserves a slot for a nested message's length; fill it with {@link set}. */
  reserve(): number {
    if (this.length === this.values.length) this.grow();
    return this.length++;
  }

  set(slot: number, value: number): void {
    this.values[slot] = value;
  }

  /** Records a string's UTF-8 length; returns the field's size after its tag. */
  str(s: string): number {
    const n = utf8Length(s);
    const slot = this.reserve();
    this.values[slot] = n;
    return varintSize(n) + n;
  }

  private grow(): void {
    const next = new Int32Array(this.values.length * 2);
    next.set(this.values);
    this.values = next;
  }
}

/** UTF-8 length as Buffer.write will produce it (lone surrogates become U+FFFD). */
export function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  }
  return n;
}

export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Size of a 64-bit varint given its halves. */
export function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varintSize(lo);
  return hi < 0x8
    ? 5
    : hi < 0x400
      ? 6
      : hi < 0x20000
        ? 7
        : hi < 0x1000000
          ? 8
          : hi < 0x80000000
            ? 9
            : 10;
}

/** Size of an int32 varint (negative values are sign-extended to 10 bytes). */
export function int32Size(v: number): number {
  return v < 0 ? 10 : varintSize(v);
}

export function sint32Size(v: number): number {
  return varintSize(((v << 1) ^ (v >> 31)) >>> 0);
}

/** Halves of the last int64/uint64 split by {@link splitInt64}/{@link splitUint64}. */
let LO = 0;
let HI = 0;

function splitInt64(v: bigint): void {
  if (v >= 0n && v < 0x100000000n) {
    LO = Number(v);
    HI = 0;
    return;
  }
  if (v < MIN_I64 || v > MAX_I64) throw new RangeError(`int64 value out of range: ${v}`);
  const u = BigInt.asUintN(64, v);
  LO = Number(u & 0xffffffffn);
  HI = Number(u >> 32n);
}

function splitUint64(v: bigint): void {
  if (v >= 0n && v < 0x100000000n) {
    LO = Number(v);
    HI = 0;
    return;
  }
  if (v < 0n || v > MAX_U64) throw new RangeError(`uint64 value out of range: ${v}`);
  LO = Number(v & 0xffffffffn);
  HI = Number(v >> 32n);
}

export function int64Size(v: bigint): number {
  splitInt64(v);
  return varint64Size(LO, HI);
}

export function uint64Size(v: bigint): number {
  splitUint64(v);
  return varint64Size(LO, HI);
}

export class ProtoWriter {
  readonly buf: Uint8Array;
  private readonly nodeBuf: Buffer;
  private readonly view: DataView;
  private readonly tape: Int32Array;
  private ti = 0;
  pos = 0;

  constructor(size: number, tape: SizeTape) {
    // allocUnsafeSlow: an ArrayBuffer of our own (not Node's shared pool), so the result can
    // be handed to Kafka or kept without pinning or exposing unrelated memory.
    this.nodeBuf = Buffer.allocUnsafeSlow(size);
    this.buf = new Uint8Array(this.nodeBuf.buffer, this.nodeBuf.byteOffset, size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, size);
    this.tape = tape.values;
  }

  /** The next length recorded by the size pass. */
  next(): number {
    return this.tape[this.ti++];
  }

  /** Writes a nested message's length prefix from the tape. */
  fork(): void {
    this.uint32(this.tape[this.ti++]);
  }

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  uint32(v: number): void {
    const buf = this.buf;
    let p = this.pos;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  varint64(lo: number, hi: number): void {
    const buf = this.buf;
    let p = this.pos;
    while (hi > 0 || lo > 0x7f) {
      buf[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[p++] = lo;
    this.pos = p;
  }

  int32(v: number): void {
    if (v >= 0) this.uint32(v);
    else this.varint64(v >>> 0, 0xffffffff);
  }

  sint32(v: number): void {
    this.uint32(((v << 1) ^ (v >> 31)) >>> 0);
  }

  int64(v: bigint): void {
    splitInt64(v);
    this.varint64(LO, HI);
  }

  uint64(v: bigint): void {
    splitUint64(v);
    this.varint64(LO, HI);
  }

  fixed32(v: number): void {
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  fixed64(v: bigint): void {
    if (v < 0n || v > MAX_U64) throw new RangeError(`fixed64 value out of range: ${v}`);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }

  sfixed64(v: bigint): void {
    if (v < MIN_I64 || v > MAX_I64) throw new RangeError(`sfixed64 value out of range: ${v}`);
    this.view.setBigInt64(this.pos, v, true);
    this.pos += 8;
  }

  double(v: number): void {
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.uint32(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Copies raw, already-encoded bytes. */
  raw(src: Uint8Array, start: number, end: number): void {
    this.buf.set(src.subarray(start, end), this.pos);
    this.pos += end - start;
  }

  /** A string whose UTF-8 length the size pass recorded with {@link SizeTape.str}. */
  string(s: string): void {
    const n = this.tape[this.ti++];
    this.uint32(n);
    if (n === s.length) {
      if (n <= 32) {
        const buf = this.buf;
        let p = this.pos;
        for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
        this.pos = p;
        return;
      }
      this.nodeBuf.write(s, this.pos, n, 'latin1');
    } else {
      this.nodeBuf.write(s, this.pos, n, 'utf8');
    }
    this.pos += n;
  }

  finish(): Uint8Array {
    if (this.pos !== this.buf.length) {
      throw new Error(
        `protobuf size pass (${this.buf.length}) and write pass (${this.pos}) disagree`,
      );
    }
    return this.buf;
  }
}

const sharedTape = new SizeTape();

/** Runs the size pass, allocates once, runs the write pass. */
export function encodeMessage<T>(
  data: T,
  size: (tape: SizeTape, data: T) => number,
  write: (w: ProtoWriter, data: T) => void,
): Uint8Array {
  sharedTape.reset();
  const n = size(sharedTape, data);
  const w = new ProtoWriter(n, sharedTape);
  write(w, data);
  return w.finish();
}
