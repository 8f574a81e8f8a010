/**
 * opentelemetry/proto/common/v1/common.proto and resource/v1/resource.proto: AnyValue,
 * ArrayValue, KeyValueList, KeyValue, InstrumentationScope, Resource — decode to the model and
 * size/write for encode. Shared by the trace, log and metric codecs.
 *
 * Field presence on encode follows @opentelemetry/otlp-transformer (see ./traces.ts): KeyValue
 * always carries key and value, a set AnyValue member is always written (oneof members have
 * presence, so `false`, `0` and `""` are real values), the scope name is always written and
 * Resource.dropped_attributes_count is always written, as the OTel JS exporters do.
 */
import type { AnyValue, InstrumentationScope, KeyValue, Resource } from '../model';
import type { ProtoReader } from './reader';
import { int64Size, type ProtoWriter, type SizeTape, varintSize } from './writer';

/** Bit set of field numbers, for {@link ProtoReader.skip}. */
export function fields(...numbers: number[]): number {
  let mask = 0;
  for (const n of numbers) mask |= 1 << n;
  return mask;
}

/** Size of a length-delimited field with a one-byte tag and content of n bytes. */
export function lenField(n: number): number {
  return 1 + varintSize(n) + n;
}

// ---- decode ----------------------------------------------------------------------------

const ANY_VALUE = fields(1, 2, 3, 4, 5, 6, 7);
const KEY_VALUE = fields(1, 2);
const LIST = fields(1);
const SCOPE = fields(1, 2, 3, 4);
const RESOURCE = fields(1, 2);

export function decodeAnyValue(r: ProtoReader, end: number): AnyValue {
  r.enter();
  // oneof: the last member on the wire wins (protobuf merge semantics). No placeholder object
  // up front: one allocation per value, not two (the decoder's GC share, issue #5).
  let v: AnyValue | undefined;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        v = { stringValue: r.string(end, tag, 'AnyValue.string_value', false) };
        break;
      case 0x10:
        v = { boolValue: r.bool() };
        break;
      case 0x18:
        v = { intValue: r.int64() };
        break;
      case 0x21:
        v = { doubleValue: r.double(end, tag) };
        break;
      case 0x2a: {
        const e = r.len(end, tag);
        v = { arrayValue: { values: decodeAnyValues(r, e) } };
        break;
      }
      case 0x32: {
        const e = r.len(end, tag);
        v = { kvlistValue: { values: decodeKeyValues(r, e) } };
        break;
      }
      case 0x3a:
        v = { bytesValue: r.bytes(end, tag) };
        break;
      default:
        r.skip(tag, end, ANY_VALUE, 'AnyValue');
    }
  }
  r.finish(end, 'AnyValue');
  r.leave();
  return v ?? {};
}

/** ArrayValue: repeated AnyValue values = 1. */
function decodeAnyValues(r: ProtoReader, end: number): AnyValue[] {
  r.enter();
  const out: AnyValue[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      const e = r.len(end, tag);
      out.push(decodeAnyValue(r, e));
    } else {
      r.skip(tag, end, LIST, 'ArrayValue');
    }
  }
  r.finish(end, 'ArrayValue');
  r.leave();
  return out;
}

/** KeyValueList: repeated KeyValue values = 1. */
function decodeKeyValues(r: ProtoReader, end: number): KeyValue[] {
  r.enter();
  const out: KeyValue[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      const e = r.len(end, tag);
      out.push(decodeKeyValue(r, e));
    } else {
      r.skip(tag, end, LIST, 'KeyValueList');
    }
  }
  r.finish(end, 'KeyValueList');
  r.leave();
  return out;
}

export function decodeKeyValue(r: ProtoReader, end: number): KeyValue {
  r.enter();
  let key = '';
  let value: AnyValue | undefined;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        key = r.string(end, tag, 'KeyValue.key');
        break;
      case 0x12: {
        const e = r.len(end, tag);
        value = decodeAnyValue(r, e);
        break;
      }
      default:
        r.skip(tag, end, KEY_VALUE, 'KeyValue');
    }
  }
  r.finish(end, 'KeyValue');
  r.leave();
  return { key, value: value ?? {} };
}

/**
 * A set of attribute keys that a KeyValue's key bytes are matched against before anything is
 * decoded (decodeTraces' `skeleton`).
 */
export class AttributeKeys {
  readonly names: ReadonlySet<string>;
  private readonly bytes: Uint8Array[];

  constructor(keys: readonly string[]) {
    this.names = new Set(keys);
    this.bytes = keys.map((k) => new TextEncoder().encode(k));
  }

  /** Whether buf[at, at + n) is one of the keys' UTF-8 bytes. */
  hasBytes(buf: Uint8Array, at: number, n: number): boolean {
    for (const k of this.bytes) {
      if (k.length !== n) continue;
      let i = 0;
      while (i < n && buf[at + i] === k[i]) i++;
      if (i === n) return true;
    }
    return false;
  }
}

/**
 * pushKeyValue for the keys in `keys` only: any other KeyValue is skipped unread when its key
 * comes first (as every serializer writes it), so its value is neither decoded nor validated.
 */
export function pushKeyValueOf(
  r: ProtoReader,
  end: number,
  tag: number,
  into: KeyValue[],
  keys: AttributeKeys,
): void {
  const e = r.len(end, tag);
  const buf = r.buf;
  const p = r.pos;
  const n = buf[p + 1];
  if (e - p >= 2 && buf[p] === 0x0a && n < 0x80 && p + 2 + n <= e) {
    if (keys.hasBytes(buf, p + 2, n)) into.push(decodeKeyValue(r, e));
    else r.pos = e;
    return;
  }
  const kv = decodeKeyValue(r, e);
  if (keys.names.has(kv.key)) into.push(kv);
}

/** Reads one length-delimited KeyValue field (tag already read) and appends it. */
export function pushKeyValue(r: ProtoReader, end: number, tag: number, into: KeyValue[]): void {
  const e = r.len(end, tag);
  into.push(decodeKeyValue(r, e));
}

export function decodeScope(r: ProtoReader, end: number): InstrumentationScope {
  r.enter();
  const scope: InstrumentationScope = {
    name: '',
    version: '',
    attributes: [],
    droppedAttributesCount: 0,
  };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        scope.name = r.string(end, tag, 'InstrumentationScope.name');
        break;
      case 0x12:
        scope.version = r.string(end, tag, 'InstrumentationScope.version');
        break;
      case 0x1a:
        pushKeyValue(r, end, tag, scope.attributes);
        break;
      case 0x20:
        scope.droppedAttributesCount = r.varint32();
        break;
      default:
        r.skip(tag, end, SCOPE, 'InstrumentationScope');
    }
  }
  r.finish(end, 'InstrumentationScope');
  r.leave();
  return scope;
}

/** Decodes a Resource; with `keys`, only those attributes (pushKeyValueOf). */
export function decodeResource(r: ProtoReader, end: number, keys?: AttributeKeys): Resource {
  r.enter();
  const resource: Resource = { attributes: [], droppedAttributesCount: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        if (keys === undefined) pushKeyValue(r, end, tag, resource.attributes);
        else pushKeyValueOf(r, end, tag, resource.attributes, keys);
        break;
      case 0x10:
        resource.droppedAttributesCount = r.varint32();
        break;
      default:
        // entity_refs (3, development) and anything newer are skipped.
        r.skip(tag, end, RESOURCE, 'Resource');
    }
  }
  r.finish(end, 'Resource');
  r.leave();
  return resource;
}

// ---- encode ----------------------------------------------------------------------------

/** Content size of an AnyValue; members are tried in field order, the first set one wins. */
export function sizeAnyValue(t: SizeTape, v: AnyValue): number {
  if (v.stringValue !== undefined) return 1 + t.str(v.stringValue);
  if (v.boolValue !== undefined) return 2;
  if (v.intValue !== undefined) return 1 + int64Size(v.intValue);
  if (v.doubleValue !== undefined) return 9;
  if (v.arrayValue !== undefined) {
    const slot = t.reserve();
    let n = 0;
    for (const item of v.arrayValue.values) {
      const s = t.reserve();
      const m = sizeAnyValue(t, item);
      t.set(s, m);
      n += lenField(m);
    }
    t.set(slot, n);
    return lenField(n);
  }
  if (v.kvlistValue !== undefined) {
    const slot = t.reserve();
    const n = sizeKeyValues(t, v.kvlistValue.values, 1);
    t.set(slot, n);
    return lenField(n);
  }
  if (v.bytesValue !== undefined) return lenField(v.bytesValue.length);
  return 0;
}

export function writeAnyValue(w: ProtoWriter, v: AnyValue): void {
  if (v.stringValue !== undefined) {
    w.byte(0x0a);
    w.string(v.stringValue);
  } else if (v.boolValue !== undefined) {
    w.byte(0x10);
    w.byte(v.boolValue ? 1 : 0);
  } else if (v.intValue !== undefined) {
    w.byte(0x18);
    w.int64(v.intValue);
  } else if (v.doubleValue !== undefined) {
    w.byte(0x21);
    w.double(v.doubleValue);
  } else if (v.arrayValue !== undefined) {
    w.byte(0x2a);
    w.fork();
    for (const item of v.arrayValue.values) {
      w.byte(0x0a);
      w.fork();
      writeAnyValue(w, item);
    }
  } else if (v.kvlistValue !== undefined) {
    w.byte(0x32);
    w.fork();
    writeKeyValues(w, v.kvlistValue.values, 0x0a);
  } else if (v.bytesValue !== undefined) {
    w.byte(0x3a);
    w.bytes(v.bytesValue);
  }
}

/** Total size of a repeated KeyValue field (tags included); `tagSize` is 1 or 2. */
export function sizeKeyValues(t: SizeTape, kvs: readonly KeyValue[], tagSize: number): number {
  let total = 0;
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i];
    const slot = t.reserve();
    let n = 1 + t.str(kv.key);
    const vslot = t.reserve();
    const vn = sizeAnyValue(t, kv.value);
    t.set(vslot, vn);
    n += lenField(vn);
    t.set(slot, n);
    total += tagSize + varintSize(n) + n;
  }
  return total;
}

/** Writes a repeated KeyValue field; `tag` is the field's tag (a one-byte value). */
export function writeKeyValues(w: ProtoWriter, kvs: readonly KeyValue[], tag: number): void {
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i];
    w.byte(tag);
    w.fork();
    w.byte(0x0a);
    w.string(kv.key);
    w.byte(0x12);
    w.fork();
    writeAnyValue(w, kv.value);
  }
}

export function sizeScope(t: SizeTape, s: InstrumentationScope): number {
  let n = 1 + t.str(s.name);
  if (s.version.length > 0) n += 1 + t.str(s.version);
  n += sizeKeyValues(t, s.attributes, 1);
  if (s.droppedAttributesCount !== 0) n += 1 + varintSize(s.droppedAttributesCount);
  return n;
}

export function writeScope(w: ProtoWriter, s: InstrumentationScope): void {
  w.byte(0x0a);
  w.string(s.name);
  if (s.version.length > 0) {
    w.byte(0x12);
    w.string(s.version);
  }
  writeKeyValues(w, s.attributes, 0x1a);
  if (s.droppedAttributesCount !== 0) {
    w.byte(0x20);
    w.uint32(s.droppedAttributesCount);
  }
}

export function sizeResource(t: SizeTape, r: Resource): number {
  return sizeKeyValues(t, r.attributes, 1) + 1 + varintSize(r.droppedAttributesCount);
}

export function writeResource(w: ProtoWriter, r: Resource): void {
  writeKeyValues(w, r.attributes, 0x0a);
  w.byte(0x10);
  w.uint32(r.droppedAttributesCount);
}

/** Size of an optional scope/resource field (tag 0x0a) including tag and length. */
export function sizeScopeField(t: SizeTape, s: InstrumentationScope | undefined): number {
  if (s === undefined) return 0;
  const slot = t.reserve();
  const n = sizeScope(t, s);
  t.set(slot, n);
  return lenField(n);
}

export function writeScopeField(w: ProtoWriter, s: InstrumentationScope | undefined): void {
  if (s === undefined) return;
  w.byte(0x0a);
  w.fork();
  writeScope(w, s);
}

export function sizeResourceField(t: SizeTape, r: Resource | undefined): number {
  if (r === undefined) return 0;
  const slot = t.reserve();
  const n = sizeResource(t, r);
  t.set(slot, n);
  return lenField(n);
}

export function writeResourceField(w: ProtoWriter, r: Resource | undefined): void {
  if (r === undefined) return;
  w.byte(0x0a);
  w.fork();
  writeResource(w, r);
}
