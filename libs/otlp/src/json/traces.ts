/**
 * OTLP/JSON for traces: ExportTraceServiceRequest (= TracesData) ⇄ the model. This is the body
 * of `POST /v1/traces` with `Content-Type: application/json` (OTLP spec, "OTLP/HTTP" and "JSON
 * Protobuf Encoding"). Field numbers and names: opentelemetry-proto trace/v1/trace.proto.
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
  EMPTY_BYTES,
  Reader,
  attributes,
  decodeDocument,
  enumNames,
  enumValue,
  hexId,
  message,
  object,
  repeated,
  resource,
  scope,
  str,
  uint32,
  uint64,
  type JsonObject,
} from './reader';
import { ObjectWriter, encodeAttributes, encodeResource, encodeScope } from './writer';

const SPAN_KIND = enumNames([
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
]);

const STATUS_CODE = enumNames(['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR']);

/** Decodes an OTLP/JSON traces document (text or UTF-8 bytes). Throws OtlpJsonError. */
export function decodeTracesJson(input: string | Uint8Array): TracesData {
  return decodeDocument(input, tracesData);
}

function tracesData(r: Reader, o: JsonObject): TracesData {
  const key = o.resourceSpans !== undefined ? 'resourceSpans' : 'resource_spans';
  const v = o[key];
  return { resourceSpans: v === undefined || v === null ? [] : repeated(r, v, key, resourceSpans) };
}

function resourceSpans(r: Reader, v: unknown): ResourceSpans {
  const o = object(r, v);
  const out: ResourceSpans = { resource: undefined, scopeSpans: [], schemaUrl: '' };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'resource':
        out.resource = message(r, x, k, resource);
        break;
      case 'scopeSpans':
      case 'scope_spans':
        out.scopeSpans = repeated(r, x, k, scopeSpans);
        break;
      case 'schemaUrl':
      case 'schema_url':
        out.schemaUrl = str(r, x, k);
        break;
    }
  }
  return out;
}

function scopeSpans(r: Reader, v: unknown): ScopeSpans {
  const o = object(r, v);
  const out: ScopeSpans = { scope: undefined, spans: [], schemaUrl: '' };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'scope':
        out.scope = message(r, x, k, scope);
        break;
      case 'spans':
        out.spans = repeated(r, x, k, span);
        break;
      case 'schemaUrl':
      case 'schema_url':
        out.schemaUrl = str(r, x, k);
        break;
    }
  }
  return out;
}

function span(r: Reader, v: unknown): Span {
  const o = object(r, v);
  const out: Span = {
    traceId: EMPTY_BYTES,
    spanId: EMPTY_BYTES,
    traceState: '',
    parentSpanId: EMPTY_BYTES,
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
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'traceId':
      case 'trace_id':
        out.traceId = hexId(r, x, k, 16);
        break;
      case 'spanId':
      case 'span_id':
        out.spanId = hexId(r, x, k, 8);
        break;
      case 'traceState':
      case 'trace_state':
        out.traceState = str(r, x, k);
        break;
      case 'parentSpanId':
      case 'parent_span_id':
        out.parentSpanId = hexId(r, x, k, 8);
        break;
      case 'flags':
        out.flags = uint32(r, x, k);
        break;
      case 'name':
        out.name = str(r, x, k);
        break;
      case 'kind':
        out.kind = enumValue(r, x, k, SPAN_KIND);
        break;
      case 'startTimeUnixNano':
      case 'start_time_unix_nano':
        out.startTimeUnixNano = uint64(r, x, k);
        break;
      case 'endTimeUnixNano':
      case 'end_time_unix_nano':
        out.endTimeUnixNano = uint64(r, x, k);
        break;
      case 'attributes':
        out.attributes = attributes(r, x, k);
        break;
      case 'droppedAttributesCount':
      case 'dropped_attributes_count':
        out.droppedAttributesCount = uint32(r, x, k);
        break;
      case 'events':
        out.events = repeated(r, x, k, event);
        break;
      case 'droppedEventsCount':
      case 'dropped_events_count':
        out.droppedEventsCount = uint32(r, x, k);
        break;
      case 'links':
        out.links = repeated(r, x, k, link);
        break;
      case 'droppedLinksCount':
      case 'dropped_links_count':
        out.droppedLinksCount = uint32(r, x, k);
        break;
      case 'status':
        out.status = message(r, x, k, status);
        break;
    }
  }
  return out;
}

function event(r: Reader, v: unknown): SpanEvent {
  const o = object(r, v);
  const out: SpanEvent = { timeUnixNano: 0n, name: '', attributes: [], droppedAttributesCount: 0 };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'timeUnixNano':
      case 'time_unix_nano':
        out.timeUnixNano = uint64(r, x, k);
        break;
      case 'name':
        out.name = str(r, x, k);
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

function link(r: Reader, v: unknown): SpanLink {
  const o = object(r, v);
  const out: SpanLink = {
    traceId: EMPTY_BYTES,
    spanId: EMPTY_BYTES,
    traceState: '',
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
  };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'traceId':
      case 'trace_id':
        out.traceId = hexId(r, x, k, 16);
        break;
      case 'spanId':
      case 'span_id':
        out.spanId = hexId(r, x, k, 8);
        break;
      case 'traceState':
      case 'trace_state':
        out.traceState = str(r, x, k);
        break;
      case 'attributes':
        out.attributes = attributes(r, x, k);
        break;
      case 'droppedAttributesCount':
      case 'dropped_attributes_count':
        out.droppedAttributesCount = uint32(r, x, k);
        break;
      case 'flags':
        out.flags = uint32(r, x, k);
        break;
    }
  }
  return out;
}

function status(r: Reader, v: unknown): Status {
  const o = object(r, v);
  const out: Status = { message: '', code: 0 };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    if (k === 'message') out.message = str(r, x, k);
    else if (k === 'code') out.code = enumValue(r, x, k, STATUS_CODE);
  }
  return out;
}

// ---- encode ----------------------------------------------------------------------------

/** Encodes traces as OTLP/JSON text. */
export function encodeTracesJson(data: TracesData): string {
  return new ObjectWriter()
    .list('resourceSpans', data.resourceSpans, encodeResourceSpans)
    .toString();
}

function encodeResourceSpans(v: ResourceSpans): string {
  return new ObjectWriter()
    .message('resource', v.resource, encodeResource)
    .list('scopeSpans', v.scopeSpans, encodeScopeSpans)
    .string('schemaUrl', v.schemaUrl)
    .toString();
}

function encodeScopeSpans(v: ScopeSpans): string {
  return new ObjectWriter()
    .message('scope', v.scope, encodeScope)
    .list('spans', v.spans, encodeSpan)
    .string('schemaUrl', v.schemaUrl)
    .toString();
}

function encodeSpan(v: Span): string {
  const w = new ObjectWriter()
    .id('traceId', v.traceId)
    .id('spanId', v.spanId)
    .string('traceState', v.traceState)
    .id('parentSpanId', v.parentSpanId)
    .int('flags', v.flags)
    .string('name', v.name)
    .int('kind', v.kind)
    .int64('startTimeUnixNano', v.startTimeUnixNano)
    .int64('endTimeUnixNano', v.endTimeUnixNano);
  encodeAttributes(w, 'attributes', v.attributes);
  return w
    .int('droppedAttributesCount', v.droppedAttributesCount)
    .list('events', v.events, encodeEvent)
    .int('droppedEventsCount', v.droppedEventsCount)
    .list('links', v.links, encodeLink)
    .int('droppedLinksCount', v.droppedLinksCount)
    .message('status', v.status, encodeStatus)
    .toString();
}

function encodeEvent(v: SpanEvent): string {
  const w = new ObjectWriter().int64('timeUnixNano', v.timeUnixNano).string('name', v.name);
  encodeAttributes(w, 'attributes', v.attributes);
  return w.int('droppedAttributesCount', v.droppedAttributesCount).toString();
}

function encodeLink(v: SpanLink): string {
  const w = new ObjectWriter()
    .id('traceId', v.traceId)
    .id('spanId', v.spanId)
    .string('traceState', v.traceState);
  encodeAttributes(w, 'attributes', v.attributes);
  return w.int('droppedAttributesCount', v.droppedAttributesCount).int('flags', v.flags).toString();
}

function encodeStatus(v: Status): string {
  return new ObjectWriter().string('message', v.message).int('code', v.code).toString();
}
