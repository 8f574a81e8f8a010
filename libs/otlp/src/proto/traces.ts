/**
 * ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1/trace_service.proto,
 * which is TracesData of trace/v1/trace.proto) <-> the model's {@link TracesData}.
 *
 * Field presence on encode: proto3 defaults are omitted, except where the official OTel JS
 * serializer (@opentelemetry/otlp-transformer 0.223, ProtobufTraceSerializer) always writes a
 * field — Span.name, start/end times, the three dropped_*_count fields, Status.code,
 * Event.time_unix_nano/name/dropped_attributes_count, Link.dropped_attributes_count. Matching
 * it means decode → encode of what the OTel JS exporters send reproduces their exact bytes
 * (proven in interop.spec.ts); both forms are valid proto3 and decode to the same values.
 * Fields are written in field-number order, as that serializer does.
 */
import type {
  ResourceSpans,
  ScopeSpans,
  Span,
  SpanEvent,
  SpanLink,
  Status,
  TracesData,
} from '../model';
import {
  type AttributeKeys,
  decodeResource,
  decodeScope,
  fields,
  lenField,
  pushKeyValue,
  pushKeyValueOf,
  sizeKeyValues,
  sizeResourceField,
  sizeScopeField,
  writeKeyValues,
  writeResourceField,
  writeScopeField,
} from './common';
import { type DecodeOptions, ProtoReader } from './reader';
import { encodeMessage, int32Size, type ProtoWriter, type SizeTape, varintSize } from './writer';

const EMPTY = new Uint8Array(0);

const REQUEST = fields(1);
const RESOURCE_SPANS = fields(1, 2, 3);
const SCOPE_SPANS = fields(1, 2, 3);
const SPAN = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
const EVENT = fields(1, 2, 3, 4);
const LINK = fields(1, 2, 3, 4, 5, 6);
const STATUS = fields(2, 3);

/** Options of {@link decodeTraces}. */
export interface TraceDecodeOptions extends DecodeOptions {
  /**
   * Decode only the spans whose trace id this accepts (called with a view of the 16 id bytes,
   * valid during the call only); the others are skipped unread when the trace id is the span's
   * first field, as every OTLP serializer writes it. ScopeSpans left without spans and
   * ResourceSpans left without ScopeSpans are omitted. The worker uses it to rebuild the
   * traces the tail sampler kept from the Kafka records that carried them.
   */
  traceFilter?: (traceId: Uint8Array) => boolean;
  /**
   * Decode a skeleton: of the resource and span attributes only those with these keys, and no
   * span events or links (left empty); everything else as usual. What is skipped is skipped
   * unread, so it is not validated either. For a first look at spans that are decoded in full
   * again before they go anywhere (the worker's tail stage, whose decisions read none of it).
   */
  skeleton?: { resourceKeys: AttributeKeys; spanKeys: AttributeKeys };
}

/** The skeleton of the decodeTraces call in progress (decoding is synchronous). */
let skeleton: TraceDecodeOptions['skeleton'];

/** Decodes an ExportTraceServiceRequest; throws OtlpDecodeError on malformed input. */
export function decodeTraces(bytes: Uint8Array, options: TraceDecodeOptions = {}): TracesData {
  const r = new ProtoReader(bytes, options.interner);
  const end = bytes.length;
  const filter = options.traceFilter;
  const resourceSpans: ResourceSpans[] = [];
  skeleton = options.skeleton;
  try {
    while (r.pos < end) {
      const tag = r.tag();
      if (tag === 0x0a) {
        const e = r.len(end, tag);
        const rs = decodeResourceSpans(r, e, filter);
        if (filter === undefined || rs.scopeSpans.length > 0) resourceSpans.push(rs);
      } else {
        r.skip(tag, end, REQUEST, 'ExportTraceServiceRequest');
      }
    }
    r.finish(end, 'ExportTraceServiceRequest');
  } finally {
    skeleton = undefined;
  }
  return { resourceSpans };
}

function decodeResourceSpans(
  r: ProtoReader,
  end: number,
  filter: ((traceId: Uint8Array) => boolean) | undefined,
): ResourceSpans {
  r.enter();
  const rs: ResourceSpans = { resource: undefined, scopeSpans: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        rs.resource = decodeResource(r, r.len(end, tag), skeleton?.resourceKeys);
        break;
      case 0x12: {
        const ss = decodeScopeSpans(r, r.len(end, tag), filter);
        if (filter === undefined || ss.spans.length > 0) rs.scopeSpans.push(ss);
        break;
      }
      case 0x1a:
        rs.schemaUrl = r.string(end, tag, 'ResourceSpans.schema_url');
        break;
      default:
        r.skip(tag, end, RESOURCE_SPANS, 'ResourceSpans');
    }
  }
  r.finish(end, 'ResourceSpans');
  r.leave();
  return rs;
}

function decodeScopeSpans(
  r: ProtoReader,
  end: number,
  filter: ((traceId: Uint8Array) => boolean) | undefined,
): ScopeSpans {
  r.enter();
  const ss: ScopeSpans = { scope: undefined, spans: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        ss.scope = decodeScope(r, r.len(end, tag));
        break;
      case 0x12: {
        const e = r.len(end, tag);
        if (filter === undefined) ss.spans.push(decodeSpan(r, e));
        else {
          const id = peekTraceId(r, e);
          if (id !== undefined && !filter(id)) r.pos = e;
          else {
            const span = decodeSpan(r, e);
            if (id !== undefined || filter(span.traceId)) ss.spans.push(span);
          }
        }
        break;
      }
      case 0x1a:
        ss.schemaUrl = r.string(end, tag, 'ScopeSpans.schema_url');
        break;
      default:
        r.skip(tag, end, SCOPE_SPANS, 'ScopeSpans');
    }
  }
  r.finish(end, 'ScopeSpans');
  r.leave();
  return ss;
}

/** A view of the span's trace id when it is the span's first field (16 bytes), else undefined. */
function peekTraceId(r: ProtoReader, end: number): Uint8Array | undefined {
  const p = r.pos;
  const buf = r.buf;
  if (end - p < 18 || buf[p] !== 0x0a || buf[p + 1] !== 16) return undefined;
  return buf.subarray(p + 2, p + 18);
}

function decodeSpan(r: ProtoReader, end: number): Span {
  r.enter();
  const span: Span = {
    traceId: EMPTY,
    spanId: EMPTY,
    traceState: '',
    parentSpanId: EMPTY,
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: undefined,
  };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        span.traceId = r.id(end, tag);
        break;
      case 0x12:
        span.spanId = r.id(end, tag);
        break;
      case 0x1a:
        span.traceState = r.string(end, tag, 'Span.trace_state');
        break;
      case 0x22:
        span.parentSpanId = r.id(end, tag);
        break;
      case 0x2a:
        span.name = r.string(end, tag, 'Span.name');
        break;
      case 0x30:
        span.kind = r.int32();
        break;
      case 0x39:
        span.startTimeUnixNano = r.fixed64(end, tag);
        break;
      case 0x41:
        span.endTimeUnixNano = r.fixed64(end, tag);
        break;
      case 0x4a:
        if (skeleton === undefined) pushKeyValue(r, end, tag, span.attributes);
        else pushKeyValueOf(r, end, tag, span.attributes, skeleton.spanKeys);
        break;
      case 0x50:
        span.droppedAttributesCount = r.varint32();
        break;
      case 0x5a:
        if (skeleton === undefined) span.events.push(decodeEvent(r, r.len(end, tag)));
        else r.pos = r.len(end, tag);
        break;
      case 0x60:
        span.droppedEventsCount = r.varint32();
        break;
      case 0x6a:
        if (skeleton === undefined) span.links.push(decodeLink(r, r.len(end, tag)));
        else r.pos = r.len(end, tag);
        break;
      case 0x70:
        span.droppedLinksCount = r.varint32();
        break;
      case 0x7a:
        span.status = decodeStatus(r, r.len(end, tag));
        break;
      case 0x85:
        span.flags = r.fixed32(end, tag);
        break;
      default:
        r.skip(tag, end, SPAN, 'Span');
    }
  }
  r.finish(end, 'Span');
  r.leave();
  return span;
}

function decodeEvent(r: ProtoReader, end: number): SpanEvent {
  r.enter();
  const ev: SpanEvent = { timeUnixNano: 0n, name: '', attributes: [], droppedAttributesCount: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x09:
        ev.timeUnixNano = r.fixed64(end, tag);
        break;
      case 0x12:
        ev.name = r.string(end, tag, 'Span.Event.name');
        break;
      case 0x1a:
        pushKeyValue(r, end, tag, ev.attributes);
        break;
      case 0x20:
        ev.droppedAttributesCount = r.varint32();
        break;
      default:
        r.skip(tag, end, EVENT, 'Span.Event');
    }
  }
  r.finish(end, 'Span.Event');
  r.leave();
  return ev;
}

function decodeLink(r: ProtoReader, end: number): SpanLink {
  r.enter();
  const link: SpanLink = {
    traceId: EMPTY,
    spanId: EMPTY,
    traceState: '',
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
  };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        link.traceId = r.id(end, tag);
        break;
      case 0x12:
        link.spanId = r.id(end, tag);
        break;
      case 0x1a:
        link.traceState = r.string(end, tag, 'Span.Link.trace_state');
        break;
      case 0x22:
        pushKeyValue(r, end, tag, link.attributes);
        break;
      case 0x28:
        link.droppedAttributesCount = r.varint32();
        break;
      case 0x35:
        link.flags = r.fixed32(end, tag);
        break;
      default:
        r.skip(tag, end, LINK, 'Span.Link');
    }
  }
  r.finish(end, 'Span.Link');
  r.leave();
  return link;
}

function decodeStatus(r: ProtoReader, end: number): Status {
  r.enter();
  const status: Status = { message: '', code: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x12:
        status.message = r.string(end, tag, 'Status.message', false);
        break;
      case 0x18:
        status.code = r.int32();
        break;
      default:
        r.skip(tag, end, STATUS, 'Status');
    }
  }
  r.finish(end, 'Status');
  r.leave();
  return status;
}

// ---- encode ----------------------------------------------------------------------------

/** Encodes an ExportTraceServiceRequest. */
export function encodeTraces(data: TracesData): Uint8Array {
  return encodeMessage(data, sizeTracesData, writeTracesData);
}

function sizeTracesData(t: SizeTape, data: TracesData): number {
  let n = 0;
  for (const rs of data.resourceSpans) {
    const slot = t.reserve();
    let m = sizeResourceField(t, rs.resource);
    for (const ss of rs.scopeSpans) {
      const sslot = t.reserve();
      let k = sizeScopeField(t, ss.scope);
      for (const span of ss.spans) {
        const pslot = t.reserve();
        const p = sizeSpan(t, span);
        t.set(pslot, p);
        k += lenField(p);
      }
      if (ss.schemaUrl.length > 0) k += 1 + t.str(ss.schemaUrl);
      t.set(sslot, k);
      m += lenField(k);
    }
    if (rs.schemaUrl.length > 0) m += 1 + t.str(rs.schemaUrl);
    t.set(slot, m);
    n += lenField(m);
  }
  return n;
}

function writeTracesData(w: ProtoWriter, data: TracesData): void {
  for (const rs of data.resourceSpans) {
    w.byte(0x0a);
    w.fork();
    writeResourceField(w, rs.resource);
    for (const ss of rs.scopeSpans) {
      w.byte(0x12);
      w.fork();
      writeScopeField(w, ss.scope);
      for (const span of ss.spans) {
        w.byte(0x12);
        w.fork();
        writeSpan(w, span);
      }
      if (ss.schemaUrl.length > 0) {
        w.byte(0x1a);
        w.string(ss.schemaUrl);
      }
    }
    if (rs.schemaUrl.length > 0) {
      w.byte(0x1a);
      w.string(rs.schemaUrl);
    }
  }
}

function sizeSpan(t: SizeTape, s: Span): number {
  let n = 0;
  if (s.traceId.length > 0) n += lenField(s.traceId.length);
  if (s.spanId.length > 0) n += lenField(s.spanId.length);
  if (s.traceState.length > 0) n += 1 + t.str(s.traceState);
  if (s.parentSpanId.length > 0) n += lenField(s.parentSpanId.length);
  n += 1 + t.str(s.name);
  if (s.kind !== 0) n += 1 + int32Size(s.kind);
  n += 18; // start and end times
  n += sizeKeyValues(t, s.attributes, 1);
  n += 1 + varintSize(s.droppedAttributesCount);
  for (const ev of s.events) {
    const slot = t.reserve();
    const e = sizeEvent(t, ev);
    t.set(slot, e);
    n += lenField(e);
  }
  n += 1 + varintSize(s.droppedEventsCount);
  for (const link of s.links) {
    const slot = t.reserve();
    const l = sizeLink(t, link);
    t.set(slot, l);
    n += lenField(l);
  }
  n += 1 + varintSize(s.droppedLinksCount);
  if (s.status !== undefined) {
    const slot = t.reserve();
    let st = 0;
    if (s.status.message.length > 0) st += 1 + t.str(s.status.message);
    st += 1 + int32Size(s.status.code);
    t.set(slot, st);
    n += lenField(st);
  }
  if (s.flags !== 0) n += 6; // two-byte tag (field 16) + fixed32
  return n;
}

function writeSpan(w: ProtoWriter, s: Span): void {
  if (s.traceId.length > 0) {
    w.byte(0x0a);
    w.bytes(s.traceId);
  }
  if (s.spanId.length > 0) {
    w.byte(0x12);
    w.bytes(s.spanId);
  }
  if (s.traceState.length > 0) {
    w.byte(0x1a);
    w.string(s.traceState);
  }
  if (s.parentSpanId.length > 0) {
    w.byte(0x22);
    w.bytes(s.parentSpanId);
  }
  w.byte(0x2a);
  w.string(s.name);
  if (s.kind !== 0) {
    w.byte(0x30);
    w.int32(s.kind);
  }
  w.byte(0x39);
  w.fixed64(s.startTimeUnixNano);
  w.byte(0x41);
  w.fixed64(s.endTimeUnixNano);
  writeKeyValues(w, s.attributes, 0x4a);
  w.byte(0x50);
  w.uint32(s.droppedAttributesCount);
  for (const ev of s.events) {
    w.byte(0x5a);
    w.fork();
    writeEvent(w, ev);
  }
  w.byte(0x60);
  w.uint32(s.droppedEventsCount);
  for (const link of s.links) {
    w.byte(0x6a);
    w.fork();
    writeLink(w, link);
  }
  w.byte(0x70);
  w.uint32(s.droppedLinksCount);
  if (s.status !== undefined) {
    w.byte(0x7a);
    w.fork();
    if (s.status.message.length > 0) {
      w.byte(0x12);
      w.string(s.status.message);
    }
    w.byte(0x18);
    w.int32(s.status.code);
  }
  if (s.flags !== 0) {
    w.byte(0x85);
    w.byte(0x01);
    w.fixed32(s.flags);
  }
}

function sizeEvent(t: SizeTape, ev: SpanEvent): number {
  return (
    9 +
    1 +
    t.str(ev.name) +
    sizeKeyValues(t, ev.attributes, 1) +
    1 +
    varintSize(ev.droppedAttributesCount)
  );
}

function writeEvent(w: ProtoWriter, ev: SpanEvent): void {
  w.byte(0x09);
  w.fixed64(ev.timeUnixNano);
  w.byte(0x12);
  w.string(ev.name);
  writeKeyValues(w, ev.attributes, 0x1a);
  w.byte(0x20);
  w.uint32(ev.droppedAttributesCount);
}

function sizeLink(t: SizeTape, l: SpanLink): number {
  let n = 0;
  if (l.traceId.length > 0) n += lenField(l.traceId.length);
  if (l.spanId.length > 0) n += lenField(l.spanId.length);
  if (l.traceState.length > 0) n += 1 + t.str(l.traceState);
  n += sizeKeyValues(t, l.attributes, 1);
  n += 1 + varintSize(l.droppedAttributesCount);
  if (l.flags !== 0) n += 5;
  return n;
}

function writeLink(w: ProtoWriter, l: SpanLink): void {
  if (l.traceId.length > 0) {
    w.byte(0x0a);
    w.bytes(l.traceId);
  }
  if (l.spanId.length > 0) {
    w.byte(0x12);
    w.bytes(l.spanId);
  }
  if (l.traceState.length > 0) {
    w.byte(0x1a);
    w.string(l.traceState);
  }
  writeKeyValues(w, l.attributes, 0x22);
  w.byte(0x28);
  w.uint32(l.droppedAttributesCount);
  if (l.flags !== 0) {
    w.byte(0x35);
    w.fixed32(l.flags);
  }
}
