/**
 * Encoding side of the OTLP/JSON mapping: shared primitives and the common messages. Output
 * follows the OTLP spec's JSON Protobuf Encoding as the OTel Collector writes it: lowerCamelCase
 * keys, hex trace/span ids, int64/fixed64 as decimal strings, enums as integers, base64 bytes,
 * "NaN"/"Infinity"/"-Infinity" for non-finite doubles, and fields at their default omitted
 * (a set oneof member is always written, even when it holds its type's default).
 *
 * The JSON text is built by string concatenation (V8 ropes) straight from the model: no
 * intermediate objects, strings escaped by JSON.stringify.
 */
import { Buffer } from 'node:buffer';
import type { AnyValue, InstrumentationScope, KeyValue, Resource } from '../model';
import { OtlpJsonError } from './error';
import { bytesToHex } from './hex';
import { MAX_ANY_VALUE_DEPTH } from './reader';

/** Accumulates the members of one JSON object. */
export class ObjectWriter {
  private out = '';

  /** A raw JSON value (already encoded). */
  raw(key: string, json: string): this {
    this.out += `${this.out === '' ? '' : ','}"${key}":${json}`;
    return this;
  }

  string(key: string, v: string): this {
    return v === '' ? this : this.raw(key, JSON.stringify(v));
  }

  /** int32 / uint32 / enum: a JSON number, omitted when 0. */
  int(key: string, v: number): this {
    return v === 0 ? this : this.raw(key, String(v));
  }

  /** int64 / fixed64: a decimal string, omitted when 0. */
  int64(key: string, v: bigint): this {
    return v === 0n ? this : this.raw(key, `"${v}"`);
  }

  bool(key: string, v: boolean): this {
    return v ? this.raw(key, 'true') : this;
  }

  /** A double field that is not optional: omitted when +0. */
  double(key: string, v: number): this {
    return Object.is(v, 0) ? this : this.raw(key, doubleJson(v));
  }

  /** An `optional double` (or oneof member): written whenever present. */
  optionalDouble(key: string, v: number | undefined): this {
    return v === undefined ? this : this.raw(key, doubleJson(v));
  }

  /** A trace or span id: hex, omitted when empty. */
  id(key: string, v: Uint8Array): this {
    return v.length === 0 ? this : this.raw(key, `"${bytesToHex(v)}"`);
  }

  /** A repeated message field, omitted when empty. */
  list<T>(key: string, items: readonly T[], encode: (item: T) => string): this {
    const n = items.length;
    if (n === 0) return this;
    let json = '[';
    for (let i = 0; i < n; i++) json += (i === 0 ? '' : ',') + encode(items[i]);
    return this.raw(key, `${json}]`);
  }

  /** An optional message field, written when present (even if empty). */
  message<T>(key: string, v: T | undefined, encode: (v: T) => string): this {
    return v === undefined ? this : this.raw(key, encode(v));
  }

  toString(): string {
    return `{${this.out}}`;
  }
}

export function doubleJson(v: number): string {
  if (Number.isFinite(v)) return Object.is(v, -0) ? '-0' : String(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

export function int64Json(v: bigint): string {
  return `"${v}"`;
}

export function base64Json(v: Uint8Array): string {
  return `"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}"`;
}

export function encodeAnyValue(v: AnyValue, depth = 1): string {
  if (depth > MAX_ANY_VALUE_DEPTH) {
    throw new OtlpJsonError('', `AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  }
  if (v.stringValue !== undefined) return `{"stringValue":${JSON.stringify(v.stringValue)}}`;
  if (v.intValue !== undefined) return `{"intValue":"${v.intValue}"}`;
  if (v.boolValue !== undefined) return v.boolValue ? '{"boolValue":true}' : '{"boolValue":false}';
  if (v.doubleValue !== undefined) return `{"doubleValue":${doubleJson(v.doubleValue)}}`;
  if (v.arrayValue !== undefined) {
    const values = v.arrayValue.values;
    if (values.length === 0) return '{"arrayValue":{}}';
    let json = '{"arrayValue":{"values":[';
    for (let i = 0; i < values.length; i++) {
      json += (i === 0 ? '' : ',') + encodeAnyValue(values[i], depth + 1);
    }
    return `${json}]}}`;
  }
  if (v.kvlistValue !== undefined) {
    const values = v.kvlistValue.values;
    if (values.length === 0) return '{"kvlistValue":{}}';
    let json = '{"kvlistValue":{"values":[';
    for (let i = 0; i < values.length; i++) {
      json += (i === 0 ? '' : ',') + encodeKeyValue(values[i], depth + 1);
    }
    return `${json}]}}`;
  }
  if (v.bytesValue !== undefined) return `{"bytesValue":${base64Json(v.bytesValue)}}`;
  return '{}';
}

export function encodeKeyValue(kv: KeyValue, depth = 1): string {
  return `{"key":${JSON.stringify(kv.key)},"value":${encodeAnyValue(kv.value, depth)}}`;
}

const topKeyValue = (kv: KeyValue): string => encodeKeyValue(kv, 1);

export function encodeAttributes(w: ObjectWriter, key: string, attrs: readonly KeyValue[]): void {
  w.list(key, attrs, topKeyValue);
}

export function encodeResource(v: Resource): string {
  const w = new ObjectWriter();
  encodeAttributes(w, 'attributes', v.attributes);
  return w.int('droppedAttributesCount', v.droppedAttributesCount).toString();
}

export function encodeScope(v: InstrumentationScope): string {
  const w = new ObjectWriter().string('name', v.name).string('version', v.version);
  encodeAttributes(w, 'attributes', v.attributes);
  return w.int('droppedAttributesCount', v.droppedAttributesCount).toString();
}
