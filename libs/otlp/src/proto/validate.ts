/**
 * Structural validation of the common OTLP messages (AnyValue, KeyValue, Resource,
 * InstrumentationScope) straight on the wire, for the gateway's splitters and scanners: every
 * tag, wire type, length, nesting level and string (UTF-8) is checked exactly as the decoder
 * would, but nothing is materialized. What passes here, the decoder accepts.
 */
import { fields } from './common';
import type { ProtoReader } from './reader';

const ANY_VALUE = fields(1, 2, 3, 4, 5, 6, 7);
const KEY_VALUE = fields(1, 2);
const LIST = fields(1);
const SCOPE = fields(1, 2, 3, 4);
const RESOURCE = fields(1, 2);

/**
 * Validates an AnyValue ending at `end`; returns its payload size: the byte length of a string
 * or bytes value, the encoded length of an array or kvlist value, 0 for scalars (the member on
 * the wire last wins, as the oneof does).
 */
export function validateAnyValue(r: ProtoReader, end: number): number {
  r.enter();
  let size = 0;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a: {
        const e = r.len(end, tag);
        r.checkUtf8(r.pos, e, 'AnyValue.string_value');
        size = e - r.pos;
        r.pos = e;
        break;
      }
      case 0x10:
      case 0x18:
        r.skipVarint();
        size = 0;
        break;
      case 0x21:
        r.double(end, tag);
        size = 0;
        break;
      case 0x2a: {
        const e = r.len(end, tag);
        size = e - r.pos;
        validateList(r, e, false);
        break;
      }
      case 0x32: {
        const e = r.len(end, tag);
        size = e - r.pos;
        validateList(r, e, true);
        break;
      }
      case 0x3a: {
        const e = r.len(end, tag);
        size = e - r.pos;
        r.pos = e;
        break;
      }
      default:
        r.skip(tag, end, ANY_VALUE, 'AnyValue');
    }
  }
  r.finish(end, 'AnyValue');
  r.leave();
  return size;
}

/** ArrayValue (values: AnyValue = 1) or KeyValueList (values: KeyValue = 1). */
function validateList(r: ProtoReader, end: number, kv: boolean): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      const e = r.len(end, tag);
      if (kv) validateKeyValue(r, e);
      else validateAnyValue(r, e);
    } else {
      r.skip(tag, end, LIST, kv ? 'KeyValueList' : 'ArrayValue');
    }
  }
  r.finish(end, kv ? 'KeyValueList' : 'ArrayValue');
  r.leave();
}

/** Validates a KeyValue; returns its value's payload size (see {@link validateAnyValue}). */
export function validateKeyValue(r: ProtoReader, end: number): number {
  r.enter();
  let size = 0;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a: {
        const e = r.len(end, tag);
        r.checkUtf8(r.pos, e, 'KeyValue.key');
        r.pos = e;
        break;
      }
      case 0x12:
        size = validateAnyValue(r, r.len(end, tag));
        break;
      default:
        r.skip(tag, end, KEY_VALUE, 'KeyValue');
    }
  }
  r.finish(end, 'KeyValue');
  r.leave();
  return size;
}

/** Validates a length-delimited `string` field's content (tag already read). */
export function validateString(r: ProtoReader, end: number, tag: number, what: string): void {
  const e = r.len(end, tag);
  r.checkUtf8(r.pos, e, what);
  r.pos = e;
}

export function validateScope(r: ProtoReader, end: number): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        validateString(r, end, tag, 'InstrumentationScope.name');
        break;
      case 0x12:
        validateString(r, end, tag, 'InstrumentationScope.version');
        break;
      case 0x1a:
        validateKeyValue(r, r.len(end, tag));
        break;
      case 0x20:
        r.skipVarint();
        break;
      default:
        r.skip(tag, end, SCOPE, 'InstrumentationScope');
    }
  }
  r.finish(end, 'InstrumentationScope');
  r.leave();
}

export function validateResource(r: ProtoReader, end: number): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        validateKeyValue(r, r.len(end, tag));
        break;
      case 0x10:
        r.skipVarint();
        break;
      default:
        r.skip(tag, end, RESOURCE, 'Resource');
    }
  }
  r.finish(end, 'Resource');
  r.leave();
}

/**
 * Attribute limits seen on one item: call {@link reset}, then {@link add} per own attribute.
 * A plain mutable object, reused across items, so the hot path allocates nothing.
 */
export class AttributeTally {
  count = 0;
  maxValueBytes = 0;

  reset(): void {
    this.count = 0;
    this.maxValueBytes = 0;
  }

  add(valueBytes: number): void {
    this.count++;
    if (valueBytes > this.maxValueBytes) this.maxValueBytes = valueBytes;
  }

  exceeds(maxAttributes: number, maxValueBytes: number): boolean {
    return this.count > maxAttributes || this.maxValueBytes > maxValueBytes;
  }
}
