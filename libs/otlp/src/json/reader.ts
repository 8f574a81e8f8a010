/**
 * Decoding side of the OTLP/JSON mapping (OTLP spec, "JSON Protobuf Encoding", on top of the
 * proto3 JSON mapping): shared primitives and the common messages (AnyValue, KeyValue,
 * Resource, InstrumentationScope). The per-signal decoders build on these.
 *
 * Rules implemented here, each from the spec:
 * - keys are lowerCamelCase; the original snake_case names are accepted too, as proto3 JSON
 *   parsers must; unknown keys are ignored; `null` means "the default".
 * - trace/span ids are case-insensitive hex (not base64); `bytesValue` is base64 (standard or
 *   URL-safe, padding optional).
 * - int64/fixed64 accept a JSON number or a decimal string; int32/uint32 too.
 * - doubles accept numbers, numeric strings and "NaN" / "Infinity" / "-Infinity".
 * - enums accept the integer or the enum value's name.
 *
 * The text is parsed with JSON.parse (iterative in V8, so deep nesting cannot overflow the
 * stack); the decoders then walk the result. The only recursive walk is AnyValue, which is
 * capped at MAX_ANY_VALUE_DEPTH. Every object is visited once with `for…in` and a switch, so
 * camelCase, snake_case, oneof conflicts and unknown keys all cost one pass.
 *
 * JSON.parse rounds integers beyond 2^53. A decoder that meets such a number in an int64 field
 * throws `UnsafeInteger`; decodeDocument then re-parses the text with every long integer token
 * quoted, so precision is kept without taxing the common case.
 */
import { Buffer } from 'node:buffer';
import type { AnyValue, InstrumentationScope, KeyValue, Resource } from '../model';
import { OtlpJsonError } from './error';
import { tryHexToBytes } from './hex';

/** AnyValue nesting (arrays and kvlists inside each other) accepted before an error. */
export const MAX_ANY_VALUE_DEPTH = 64;

export const EMPTY_BYTES = new Uint8Array(0);

export type JsonObject = Record<string, unknown>;

/** Thrown (internally) when an int64 arrives as a JSON number JSON.parse could not hold. */
class UnsafeInteger extends Error {}

/** Walk state: the path to the value being decoded, kept as a stack so it costs nothing. */
export class Reader {
  private readonly stack: (string | number)[] = [];

  constructor(
    /** Second pass: long integers arrive quoted; an unsafe number left is taken as is. */
    readonly precise: boolean,
  ) {}

  push(key: string | number): void {
    this.stack.push(key);
  }

  pop(): void {
    this.stack.pop();
  }

  /** Throws an OtlpJsonError for the value at the current path (plus `key` if given). */
  fail(reason: string, key?: string | number): never {
    let path = '';
    const parts = key === undefined ? this.stack : [...this.stack, key];
    for (const p of parts) {
      path += typeof p === 'number' ? `[${p}]` : path === '' ? p : `.${p}`;
    }
    throw new OtlpJsonError(path, reason);
  }
}

const TEXT_DECODER = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a document and runs `decode` on it, with the precise second pass described at the
 * top. Throws OtlpJsonError for invalid UTF-8, invalid JSON and every decoding problem.
 */
export function decodeDocument<T>(
  input: string | Uint8Array,
  decode: (r: Reader, doc: JsonObject) => T,
): T {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = TEXT_DECODER.decode(input);
    } catch {
      throw new OtlpJsonError('', 'invalid UTF-8');
    }
  }
  try {
    return decode(new Reader(false), parseObject(text));
  } catch (e) {
    if (!(e instanceof UnsafeInteger)) throw e;
  }
  return decode(new Reader(true), parseObject(quoteLongIntegers(text)));
}

function parseObject(text: string): JsonObject {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new OtlpJsonError('', `invalid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new OtlpJsonError('', 'expected a JSON object');
  }
  return doc as JsonObject;
}

/**
 * Rewrites integer tokens of 16 or more digits outside strings as JSON strings, which every
 * int64 and double reader accepts. Only runs when the fast pass met such a number.
 */
export function quoteLongIntegers(text: string): string {
  let out = '';
  let last = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34) break;
      }
    } else if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      const start = i;
      let digits = 0;
      let integer = true;
      for (; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d >= 48 && d <= 57) digits++;
        else if (d === 46 || d === 101 || d === 69 || d === 43 || (d === 45 && i > start)) {
          integer = false;
        } else if (!(d === 45 && i === start)) break;
      }
      if (integer && digits >= 16) {
        out += `${text.slice(last, start)}"${text.slice(start, i)}"`;
        last = i;
      }
      i--;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

// ---- primitives ------------------------------------------------------------------------

export function object(r: Reader, v: unknown, key?: string | number): JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) r.fail('expected an object', key);
  return v as JsonObject;
}

/** Decodes a repeated field; null elements are errors (proto3 JSON forbids them). */
export function repeated<T>(
  r: Reader,
  v: unknown,
  key: string,
  item: (r: Reader, v: unknown) => T,
): T[] {
  if (!Array.isArray(v)) r.fail('expected an array', key);
  const n = v.length;
  const out = new Array<T>(n);
  r.push(key);
  for (let i = 0; i < n; i++) {
    r.push(i);
    out[i] = item(r, v[i]);
    r.pop();
  }
  r.pop();
  return out;
}

/** Decodes a singular message field. */
export function message<T>(
  r: Reader,
  v: unknown,
  key: string,
  decode: (r: Reader, v: unknown) => T,
): T {
  r.push(key);
  const out = decode(r, v);
  r.pop();
  return out;
}

export function str(r: Reader, v: unknown, key: string): string {
  if (typeof v !== 'string') r.fail('expected a string', key);
  return v;
}

export function bool(r: Reader, v: unknown, key: string): boolean {
  if (typeof v !== 'boolean') r.fail('expected true or false', key);
  return v;
}

const INTEGER = /^-?\d+$/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function int64Of(r: Reader, v: unknown, key?: string | number): bigint {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) r.fail('expected an integer', key);
    if (!Number.isSafeInteger(v) && !r.precise) throw new UnsafeInteger();
    return BigInt(v);
  }
  if (typeof v === 'string' && INTEGER.test(v)) return BigInt(v);
  return r.fail('expected an integer or a decimal string', key);
}

/** fixed64 / uint64. */
export function uint64(r: Reader, v: unknown, key?: string | number): bigint {
  const b = int64Of(r, v, key);
  if (b < 0n || b > UINT64_MAX) r.fail('out of range for an unsigned 64-bit integer', key);
  return b;
}

/** int64 / sfixed64. */
export function int64(r: Reader, v: unknown, key?: string | number): bigint {
  const b = int64Of(r, v, key);
  if (b < INT64_MIN || b > INT64_MAX) r.fail('out of range for a 64-bit integer', key);
  return b;
}

function int32Of(
  r: Reader,
  v: unknown,
  key: string,
  min: number,
  max: number,
  what: string,
): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && INTEGER.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) r.fail(`expected ${what}`, key);
  return n;
}

/** uint32 / fixed32. */
export function uint32(r: Reader, v: unknown, key: string): number {
  return int32Of(r, v, key, 0, 0xffffffff, 'an unsigned 32-bit integer');
}

/** int32 / sint32. */
export function int32(r: Reader, v: unknown, key: string): number {
  return int32Of(r, v, key, -0x80000000, 0x7fffffff, 'a 32-bit integer');
}

/** double: numbers, numeric strings and the three special values. */
export function double(r: Reader, v: unknown, key?: string | number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (NUMBER.test(v)) return Number(v);
  }
  return r.fail('expected a number, "NaN", "Infinity" or "-Infinity"', key);
}

/** An enum: its integer (unknown values kept, as proto3 requires) or its value's name. */
export function enumValue(
  r: Reader,
  v: unknown,
  key: string,
  names: ReadonlyMap<string, number>,
): number {
  if (typeof v === 'string') {
    const n = names.get(v);
    if (n === undefined) r.fail(`unknown enum value ${JSON.stringify(v)}`, key);
    return n;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
    r.fail('expected an enum name or a 32-bit integer', key);
  }
  return v;
}

/** Builds the name table of an enum from its proto value names, in value order. */
export function enumNames(names: readonly string[]): ReadonlyMap<string, number> {
  return new Map(names.map((name, i) => [name, i]));
}

/** A trace or span id: hex of exactly `bytes` bytes, or '' (absent). */
export function hexId(r: Reader, v: unknown, key: string, bytes: number): Uint8Array {
  if (typeof v !== 'string') r.fail(`expected ${bytes * 2} hex characters`, key);
  if (v.length === 0) return EMPTY_BYTES;
  const out = tryHexToBytes(v, bytes);
  if (out === undefined) r.fail(`expected ${bytes * 2} hex characters`, key);
  return out;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** bytes: base64, standard or URL-safe alphabet, padding optional. */
export function bytes(r: Reader, v: unknown, key: string): Uint8Array {
  if (typeof v !== 'string' || !BASE64.test(v)) r.fail('expected base64', key);
  let n = v.length;
  while (n > 0 && v.charCodeAt(n - 1) === 61 /* = */) n--;
  if (n % 4 === 1 || (n !== v.length && v.length % 4 !== 0)) r.fail('expected base64', key);
  if (v.length === 0) return EMPTY_BYTES;
  const buf = Buffer.from(v, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

// ---- common messages -------------------------------------------------------------------

export function anyValue(r: Reader, v: unknown, depth: number): AnyValue {
  if (depth > MAX_ANY_VALUE_DEPTH) {
    r.fail(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  }
  const o = object(r, v);
  let out: AnyValue | undefined;
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    let value: AnyValue;
    switch (k) {
      case 'stringValue':
      case 'string_value':
        value = { stringValue: str(r, x, k) };
        break;
      case 'boolValue':
      case 'bool_value':
        value = { boolValue: bool(r, x, k) };
        break;
      case 'intValue':
      case 'int_value':
        value = { intValue: int64(r, x, k) };
        break;
      case 'doubleValue':
      case 'double_value':
        value = { doubleValue: double(r, x, k) };
        break;
      case 'bytesValue':
      case 'bytes_value':
        value = { bytesValue: bytes(r, x, k) };
        break;
      case 'arrayValue':
      case 'array_value':
        r.push(k);
        value = { arrayValue: { values: anyValues(r, x, depth) } };
        r.pop();
        break;
      case 'kvlistValue':
      case 'kvlist_value':
        r.push(k);
        value = { kvlistValue: { values: keyValues(r, x, depth) } };
        r.pop();
        break;
      default:
        continue;
    }
    if (out !== undefined) r.fail('more than one AnyValue field is set', k);
    out = value;
  }
  return out ?? {};
}

/** The `values` of an ArrayValue message. */
function anyValues(r: Reader, v: unknown, depth: number): AnyValue[] {
  const o = object(r, v);
  const values = o.values;
  if (values === undefined || values === null) return [];
  return repeated(r, values, 'values', (r, x) => anyValue(r, x, depth + 1));
}

/** The `values` of a KeyValueList message. */
function keyValues(r: Reader, v: unknown, depth: number): KeyValue[] {
  const o = object(r, v);
  const values = o.values;
  if (values === undefined || values === null) return [];
  return repeated(r, values, 'values', (r, x) => keyValue(r, x, depth + 1));
}

function keyValue(r: Reader, v: unknown, depth: number): KeyValue {
  const o = object(r, v);
  let key = '';
  let value: AnyValue | undefined;
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    if (k === 'key') key = str(r, x, k);
    else if (k === 'value') {
      r.push(k);
      value = anyValue(r, x, depth);
      r.pop();
    }
  }
  return { key, value: value ?? {} };
}

const topKeyValue = (r: Reader, v: unknown): KeyValue => keyValue(r, v, 1);

/** A repeated KeyValue field (attributes, filteredAttributes, metadata). */
export function attributes(r: Reader, v: unknown, key: string): KeyValue[] {
  return repeated(r, v, key, topKeyValue);
}

export function resource(r: Reader, v: unknown): Resource {
  const o = object(r, v);
  const out: Resource = { attributes: [], droppedAttributesCount: 0 };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'attributes':
        out.attributes = attributes(r, x, k);
        break;
      case 'droppedAttributesCount':
      case 'dropped_attributes_count':
        out.droppedAttributesCount = uint32(r, x, k);
        break;
    }
  }
  return out;
}

export function scope(r: Reader, v: unknown): InstrumentationScope {
  const o = object(r, v);
  const out: InstrumentationScope = {
    name: '',
    version: '',
    attributes: [],
    droppedAttributesCount: 0,
  };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'name':
        out.name = str(r, x, k);
        break;
      case 'version':
        out.version = str(r, x, k);
        break;
      case 'attributes':
        out.attributes = attributes(r, x, k);
        break;
      case 'droppedAttributesCount':
      case 'dropped_attributes_count':
        out.droppedAttributesCount = uint32(r, x, k);
        break;
    }
  }
  return out;
}
