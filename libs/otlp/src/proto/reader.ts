/**
 * Protobuf wire-format reader shared by the OTLP decoders (decode to the model) and the
 * gateway's splitters (walk without decoding).
 *
 * Why hand-written: input arrives from the internet, so every read is bounds-checked against
 * the end of the enclosing message (not only the buffer), nothing is ever allocated from a
 * declared length before the bytes are known to be there, nesting is capped, and strings are
 * checked to be UTF-8 as proto3 requires for `string` fields. Malformed input throws
 * {@link OtlpDecodeError}; nothing here can loop without consuming bytes.
 *
 * Wire format reference: https://protobuf.dev/programming-guides/encoding/.
 * Known fields with an unexpected wire type are errors rather than unknown fields (stricter
 * than protobuf-go, which would keep them as unknown): OTLP senders never produce them, and
 * rejecting them keeps the decoder and the splitter in agreement about what is valid.
 */
import { Buffer, isAscii, isUtf8 } from 'node:buffer';
import { OtlpDecodeError } from './errors';

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_SGROUP = 3;
export const WIRE_EGROUP = 4;
export const WIRE_I32 = 5;

/** Deepest message nesting accepted (the request itself is depth 0). */
export const MAX_NESTING_DEPTH = 32;

const WIRE_NAMES = ['varint', 'i64', 'len', 'sgroup', 'egroup', 'i32', '6', '7'];

const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Strings up to this many bytes are built in JS (char by char); longer ones through native
 * latin1 slicing, whose ~45 ns fixed cost beats the JS loop from ~9 bytes on (measured on Node
 * 20: 20 bytes, 115 ns in JS vs 50 ns native).
 */
const SHORT_STRING = 8;

/** Up to this many bytes the ASCII check is a JS loop; longer strings use simdutf (isAscii). */
const JS_ASCII_CHECK = 64;

/**
 * Longest key or name the {@link StringInterner} holds: semantic-convention keys run to ~40
 * bytes ("messaging.destination.partition.id", "gen_ai.usage.output_tokens").
 */
const INTERN_MAX = 48;

/**
 * A bounded, direct-mapped table of recently decoded short ASCII keys and names, so that the
 * same attribute key or span name arriving in every span ("gen_ai.request.model", "chat") is
 * decoded into one string instance instead of a fresh one per occurrence.
 *
 * Why (issue #5, worker profile): building each short string char by char allocated a new
 * string per attribute key and value — a large share of the worker's GC time — and every
 * fresh instance made the redaction engine's per-key Map lookups hash and compare the
 * characters again. A hit here costs one pass over the bytes (hash) plus one compare and
 * allocates nothing; the returned instance already carries its hash and compares by identity.
 *
 * Bounded: `slots` entries of at most {@link INTERN_MAX} chars, a collision replaces the slot,
 * so memory does not grow with cardinality. Returning a string decoded earlier (from any
 * request) is invisible to callers: strings are immutable and the bytes are compared in full.
 * Attribute values are not interned (a short password would otherwise outlive its request in
 * the table); keys and names are schema, not data.
 */
export class StringInterner {
  readonly strings: string[];
  readonly hashes: Int32Array;
  readonly mask: number;

  /** `slots`: a power of two. */
  constructor(slots = 4096) {
    if (slots <= 0 || (slots & (slots - 1)) !== 0) throw new RangeError('slots: a power of two');
    this.strings = new Array<string>(slots).fill('');
    this.hashes = new Int32Array(slots);
    this.mask = slots - 1;
  }
}

/** The interner decoders use unless told otherwise (one per process; bounded, see above). */
export const SHARED_INTERNER = new StringInterner();

/** Options of the model decoders. */
export interface DecodeOptions {
  /**
   * Short-string interning table: omitted, the process-wide {@link SHARED_INTERNER}; `null`,
   * none (every string decoded afresh — the benchmarks' baseline).
   */
  interner?: StringInterner | null;
}

/**
 * The bigints 0…4095, shared: a bigint is a heap object, and small integer attributes (status
 * codes, ports, token counts) are the common case; one decoded span would otherwise allocate
 * one per int attribute, each copied again when the tail buffer holds it. Bigints are
 * immutable, so sharing is invisible.
 */
const SMALL_INTS: readonly bigint[] = Array.from({ length: 4096 }, (_, i) => BigInt(i));

/** Bytes per id slab (≈ 100 spans' trace, span and parent ids). */
const ID_SLAB = 4096;

export class ProtoReader {
  readonly buf: Uint8Array;
  /** Node Buffer view of the same memory (no copy), for native latin1 slicing. */
  private readonly nodeBuf: Buffer;
  private readonly view: DataView;
  pos = 0;
  depth = 0;
  private slab: Uint8Array | null = null;
  private slabPos = 0;
  /** High 32 bits of the last {@link varint64} read. */
  hi = 0;

  /** Short-string table ({@link StringInterner}); null decodes every string afresh. */
  private readonly interner: StringInterner | null;

  constructor(buf: Uint8Array, interner: StringInterner | null = SHARED_INTERNER) {
    this.buf = buf;
    this.interner = interner;
    this.nodeBuf = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(message: string, offset: number = this.pos): never {
    throw new OtlpDecodeError(message, offset);
  }

  /** Enters a nested message; throws past {@link MAX_NESTING_DEPTH}. */
  enter(): void {
    if (++this.depth > MAX_NESTING_DEPTH) {
      this.fail(`nesting deeper than ${MAX_NESTING_DEPTH}`);
    }
  }

  leave(): void {
    this.depth--;
  }

  /**
   * Reads a field tag and returns it (field number << 3 | wire type). Rejects field number 0,
   * wire types 6 and 7, and a stray end-group.
   */
  tag(): number {
    const at = this.pos;
    const tag = this.varint32();
    const wire = tag & 7;
    if (wire > 5 || wire === WIRE_EGROUP) {
      this.fail(`invalid wire type ${wire} (field ${tag >>> 3})`, at);
    }
    if (tag >>> 3 === 0) this.fail('invalid field number 0', at);
    return tag;
  }

  /** Reads a varint and returns its low 32 bits, unsigned (uint32, enum, tag). */
  varint32(): number {
    const buf = this.buf;
    let p = this.pos;
    if (p + 10 > buf.length) return this.varint32Checked();
    let b = buf[p++];
    let v = b & 0x7f;
    if (b < 0x80) {
      this.pos = p;
      return v;
    }
    b = buf[p++];
    v |= (b & 0x7f) << 7;
    if (b < 0x80) {
      this.pos = p;
      return v;
    }
    b = buf[p++];
    v |= (b & 0x7f) << 14;
    if (b < 0x80) {
      this.pos = p;
      return v;
    }
    b = buf[p++];
    v |= (b & 0x7f) << 21;
    if (b < 0x80) {
      this.pos = p;
      return v;
    }
    b = buf[p++];
    v |= (b & 0x0f) << 28;
    // Bytes 6..10 only carry bits above 32: consume them.
    for (let i = 5; b >= 0x80; i++) {
      if (i === 10) this.fail('varint longer than 10 bytes', this.pos);
      b = buf[p++];
    }
    this.pos = p;
    return v >>> 0;
  }

  private varint32Checked(): number {
    return this.varint64();
  }

  /**
   * Reads a varint of up to 64 bits: returns the low 32 bits (unsigned) and leaves the high
   * 32 bits in {@link hi}. Bounds-checked byte by byte.
   */
  varint64(): number {
    const buf = this.buf;
    const start = this.pos;
    let p = start;
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let i = 0; ; i++) {
      if (i === 10) this.fail('varint longer than 10 bytes', start);
      if (p >= buf.length) this.fail('truncated varint', start);
      b = buf[p++];
      if (i < 4) {
        lo |= (b & 0x7f) << (7 * i);
      } else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else {
        hi |= (b & 0x7f) << (7 * i - 32);
      }
      if (b < 0x80) break;
    }
    this.pos = p;
    this.hi = hi >>> 0;
    return lo >>> 0;
  }

  int32(): number {
    return this.varint32() | 0;
  }

  sint32(): number {
    const v = this.varint32();
    return (v >>> 1) ^ -(v & 1);
  }

  bool(): boolean {
    const lo = this.varint64();
    return lo !== 0 || this.hi !== 0;
  }

  /** int64 (two's complement varint) as a bigint. */
  int64(): bigint {
    const lo = this.varint64();
    const hi = this.hi;
    if (hi === 0) return lo < SMALL_INTS.length ? SMALL_INTS[lo] : BigInt(lo);
    if (hi < 0x200000) return BigInt(hi * 0x100000000 + lo);
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  /** uint64 varint as a bigint. */
  uint64(): bigint {
    const lo = this.varint64();
    const hi = this.hi;
    if (hi < 0x200000) return BigInt(hi * 0x100000000 + lo);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Skips a varint without decoding it. */
  skipVarint(): void {
    const buf = this.buf;
    const start = this.pos;
    let p = start;
    const max = Math.min(buf.length, start + 10);
    while (p < max) {
      if (buf[p++] < 0x80) {
        this.pos = p;
        return;
      }
    }
    this.fail(p - start >= 10 ? 'varint longer than 10 bytes' : 'truncated varint', start);
  }

  private need(n: number, end: number, tag: number): number {
    const p = this.pos;
    if (p + n > end) this.fail(`truncated ${n === 4 ? 'fixed32' : 'fixed64'} field ${tag >>> 3}`);
    this.pos = p + n;
    return p;
  }

  fixed32(end: number, tag: number): number {
    return this.view.getUint32(this.need(4, end, tag), true);
  }

  fixed64(end: number, tag: number): bigint {
    return this.view.getBigUint64(this.need(8, end, tag), true);
  }

  sfixed64(end: number, tag: number): bigint {
    return this.view.getBigInt64(this.need(8, end, tag), true);
  }

  double(end: number, tag: number): number {
    return this.view.getFloat64(this.need(8, end, tag), true);
  }

  /**
   * Reads the length prefix of a length-delimited field and returns the end offset of its
   * content (the reader is left at the content's start). The declared length is checked
   * against `end` (the enclosing message's end) before anything else happens.
   */
  len(end: number, tag: number): number {
    const at = this.pos;
    let n = this.varint32();
    if (this.pos - at > 5) {
      // Longer than 5 bytes: only a padded small length can still be valid.
      this.pos = at;
      n = this.varint64();
      if (this.hi !== 0) this.fail(`truncated length-delimited field ${tag >>> 3}`, at);
    }
    if (n > end - this.pos) this.fail(`truncated length-delimited field ${tag >>> 3}`, at);
    return this.pos + n;
  }

  /**
   * A trace or span id (a short `bytes` field), copied into a slab shared by the ids this
   * reader decodes: a view instead of an ArrayBuffer of its own per id. Ids held in the tail
   * sampler's buffers survive young-generation collections, and every object per span is
   * copied on the way to the old generation: three fewer objects per span is ~6% of the worker's
   * decode-hold-encode cost (issue #5). The model treats ids as immutable; a retained id keeps at
   * most {@link ID_SLAB} bytes alive, never the request buffer.
   */
  id(end: number, tag: number): Uint8Array {
    const e = this.len(end, tag);
    const s = this.pos;
    const n = e - s;
    this.pos = e;
    if (n > 64) return this.buf.slice(s, e);
    let slab = this.slab;
    if (slab === null || this.slabPos + n > slab.length) {
      slab = this.slab = new Uint8Array(ID_SLAB);
      this.slabPos = 0;
    }
    const at = this.slabPos;
    const buf = this.buf;
    for (let i = 0; i < n; i++) slab[at + i] = buf[s + i];
    this.slabPos = at + n;
    return slab.subarray(at, at + n);
  }

  /** A `bytes` field, copied (the model must not keep the request buffer alive). */
  bytes(end: number, tag: number): Uint8Array {
    const e = this.len(end, tag);
    const out = this.buf.slice(this.pos, e);
    this.pos = e;
    return out;
  }

  /**
   * A `string` field; invalid UTF-8 throws naming `what` (e.g. "Span.name"). `intern`: look
   * short ASCII strings up in the {@link StringInterner} (keys and names); attribute VALUES pass
   * false, so a short secret value is never kept beyond its request by the table.
   */
  string(end: number, tag: number, what: string, intern = true): string {
    const e = this.len(end, tag);
    const s = this.pos;
    this.pos = e;
    const n = e - s;
    if (n === 0) return '';
    const buf = this.buf;
    const t = this.interner;
    if (intern && t !== null && n <= INTERN_MAX) {
      // FNV-1a over the bytes, checking for ASCII on the way.
      let h = 0x811c9dc5 ^ n;
      for (let i = s; i < e; i++) {
        const c = buf[i];
        if (c >= 0x80) return this.utf8(s, e, what);
        h = Math.imul(h ^ c, 0x01000193);
      }
      const slot = (h ^ (h >>> 15)) & t.mask;
      const seen = t.strings[slot];
      if (t.hashes[slot] === h && seen.length === n) {
        let i = 0;
        while (i < n && seen.charCodeAt(i) === buf[s + i]) i++;
        if (i === n) return seen;
      }
      const out = this.ascii(s, e);
      t.strings[slot] = out;
      t.hashes[slot] = h;
      return out;
    }
    if (n <= SHORT_STRING) {
      let out = '';
      for (let i = s; i < e; i++) {
        const c = buf[i];
        if (c >= 0x80) return this.utf8(s, e, what);
        out += String.fromCharCode(c);
      }
      return out;
    }
    if (n <= JS_ASCII_CHECK) {
      for (let i = s; i < e; i++) {
        if (buf[i] >= 0x80) return this.utf8(s, e, what);
      }
    } else if (!isAscii(buf.subarray(s, e))) {
      // long strings (prompts, messages): simdutf's check instead of a JS loop per byte
      return this.utf8(s, e, what);
    }
    return this.nodeBuf.toString('latin1', s, e);
  }

  /** Builds a string from bytes already known to be ASCII. */
  private ascii(s: number, e: number): string {
    if (e - s > SHORT_STRING) return this.nodeBuf.toString('latin1', s, e);
    const buf = this.buf;
    let out = '';
    for (let i = s; i < e; i++) out += String.fromCharCode(buf[i]);
    return out;
  }

  private utf8(s: number, e: number, what: string): string {
    const view = this.buf.subarray(s, e);
    if (!isUtf8(view)) this.fail(`invalid UTF-8 in ${what}`, s);
    return utf8Decoder.decode(view);
  }

  /**
   * Checks that [s, e) is valid UTF-8 without building a string (the splitters' path): a JS
   * loop for short ASCII runs, simdutf (isUtf8) for anything longer or non-ASCII.
   */
  checkUtf8(s: number, e: number, what: string): void {
    const buf = this.buf;
    if (e - s <= 64) {
      let i = s;
      while (i < e && buf[i] < 0x80) i++;
      if (i === e) return;
    }
    if (!isUtf8(buf.subarray(s, e))) this.fail(`invalid UTF-8 in ${what}`, s);
  }

  /** Throws the error for a known field that arrived with the wrong wire type. */
  wrongWireType(tag: number, msg: string): never {
    return this.fail(
      `field ${tag >>> 3} of ${msg} has unexpected wire type ${WIRE_NAMES[tag & 7]}`,
    );
  }

  /**
   * Skips the value of an unknown field. `known` is a bit set of the message's field numbers
   * (bit n = field n); a known field that reaches here had the wrong wire type.
   */
  skip(tag: number, end: number, known: number, msg: string): void {
    const field = tag >>> 3;
    if (field < 32 && ((known >>> field) & 1) === 1) this.wrongWireType(tag, msg);
    this.skipValue(tag, end);
  }

  skipValue(tag: number, end: number): void {
    switch (tag & 7) {
      case WIRE_VARINT:
        this.skipVarint();
        break;
      case WIRE_I64:
        this.need(8, end, tag);
        break;
      case WIRE_LEN:
        this.pos = this.len(end, tag);
        break;
      case WIRE_I32:
        this.need(4, end, tag);
        break;
      case WIRE_SGROUP:
        this.skipGroup(tag, end);
        break;
      default:
        this.fail(`invalid wire type ${tag & 7}`);
    }
    if (this.pos > end) this.fail(`field ${tag >>> 3} overruns its message`);
  }

  /** Skips a (deprecated, proto2) group up to its matching end-group tag. */
  private skipGroup(tag: number, end: number): void {
    this.enter();
    const field = tag >>> 3;
    for (;;) {
      if (this.pos >= end) this.fail(`unterminated group field ${field}`);
      const at = this.pos;
      const t = this.varint32();
      const wire = t & 7;
      if (wire === WIRE_EGROUP) {
        if (t >>> 3 !== field) this.fail(`mismatched end-group field ${t >>> 3}`, at);
        break;
      }
      if (wire > 5) this.fail(`invalid wire type ${wire} (field ${t >>> 3})`, at);
      if (t >>> 3 === 0) this.fail('invalid field number 0', at);
      this.skipValue(t, end);
    }
    this.leave();
  }

  /** Call after a message's field loop: the last field must end exactly at `end`. */
  finish(end: number, msg: string): void {
    if (this.pos !== end) this.fail(`${msg} overruns its length`);
  }
}
