/**
 * The gateway's hot path for traces: split an ExportTraceServiceRequest into one request per
 * Kafka partition, by the partition of each span's trace id (partitionOfTraceId, the record
 * contract's "same function everywhere"), without decoding spans to objects.
 *
 * The whole message is validated structurally on the way (tags, wire types per known field,
 * lengths against the enclosing message, nesting ≤ 32, UTF-8 of every string field including
 * nested attribute values); anything malformed rejects the request as a whole with an
 * OtlpDecodeError (HTTP 400 / INVALID_ARGUMENT). Individually bad spans are dropped and counted
 * by reason, so the gateway can answer with OTLP partial success (rejected_spans).
 */
import { traceIdHashAt } from '../partition';
import { fields } from './common';
import type { ProtoReader } from './reader';
import {
  allZero,
  checkLimit,
  type ItemWalker,
  makeContext,
  MAX_PARTITIONS,
  type OptionProblem,
  REJECT_ATTRIBUTE_LIMIT,
  REJECT_INVALID_SPAN_ID,
  REJECT_INVALID_TRACE_ID,
  type RejectCounts,
  rejectCounts,
  type SignalShape,
  splitRequest,
  throwIfInvalid,
} from './split';
import { AttributeTally, validateKeyValue, validateString } from './validate';

/** Options of {@link splitTraces}. */
export interface TraceSplitOptions {
  /** Partition count of the traces topic (an integer ≥ 1). */
  partitions: number;
  /**
   * Most attributes one span may carry in its own `attributes` (events' and links' are not
   * counted). A span with more is rejected with 'attribute_limit'. Default: unlimited.
   */
  maxAttributesPerItem?: number;
  /**
   * Largest attribute value of a span's own attributes, in bytes: the UTF-8 length of a
   * string, the length of a bytes value, the encoded length of an array or kvlist value.
   * A span with a larger one is rejected with 'attribute_limit'. Default: unlimited.
   */
  maxAttributeValueBytes?: number;
}

/** Reports every problem with the options at once (an empty array means valid). */
export function validateTraceSplitOptions(opts: TraceSplitOptions): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (
    !Number.isInteger(opts.partitions) ||
    opts.partitions < 1 ||
    opts.partitions > MAX_PARTITIONS
  ) {
    problems.push({ path: 'partitions', message: 'must be an integer from 1 to 65536' });
  }
  checkLimit(opts.maxAttributesPerItem, 'maxAttributesPerItem', problems);
  checkLimit(opts.maxAttributeValueBytes, 'maxAttributeValueBytes', problems);
  return problems;
}

export interface TracePart {
  partition: number;
  /** An ExportTraceServiceRequest holding only this partition's spans. */
  bytes: Uint8Array;
  spans: number;
}

export interface TraceSplit {
  /** One per partition that received spans, in ascending partition order. */
  parts: TracePart[];
  /** Spans accepted (the sum of the parts' spans). */
  spans: number;
  /** Spans dropped; the reasons add up to this. */
  rejectedSpans: number;
  rejectReasons: RejectCounts;
}

const SPAN = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
const EVENT = fields(1, 2, 3, 4);
const LINK = fields(1, 2, 3, 4, 5, 6);
const STATUS = fields(2, 3);

const tally = new AttributeTally();

const walkSpan: ItemWalker = (r, end, ctx) => {
  r.enter();
  let traceId = 0;
  let traceIdLen = 0;
  let spanId = 0;
  let spanIdLen = 0;
  tally.reset();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a: {
        const e = r.len(end, tag);
        traceId = r.pos;
        traceIdLen = e - r.pos;
        r.pos = e;
        break;
      }
      case 0x12: {
        const e = r.len(end, tag);
        spanId = r.pos;
        spanIdLen = e - r.pos;
        r.pos = e;
        break;
      }
      case 0x22:
        r.pos = r.len(end, tag);
        break;
      case 0x1a:
        validateString(r, end, tag, 'Span.trace_state');
        break;
      case 0x2a:
        validateString(r, end, tag, 'Span.name');
        break;
      case 0x30:
      case 0x50:
      case 0x60:
      case 0x70:
        r.skipVarint();
        break;
      case 0x39:
      case 0x41:
        r.double(end, tag);
        break;
      case 0x4a:
        tally.add(validateKeyValue(r, r.len(end, tag)));
        break;
      case 0x5a:
        validateEvent(r, r.len(end, tag));
        break;
      case 0x6a:
        validateLink(r, r.len(end, tag));
        break;
      case 0x7a:
        validateStatus(r, r.len(end, tag));
        break;
      case 0x85:
        r.fixed32(end, tag);
        break;
      default:
        r.skip(tag, end, SPAN, 'Span');
    }
  }
  r.finish(end, 'Span');
  r.leave();
  const buf = r.buf;
  if (traceIdLen !== 16 || allZero(buf, traceId, 16)) return REJECT_INVALID_TRACE_ID;
  if (spanIdLen !== 8 || allZero(buf, spanId, 8)) return REJECT_INVALID_SPAN_ID;
  if (tally.exceeds(ctx.maxAttributes, ctx.maxValueBytes)) return REJECT_ATTRIBUTE_LIMIT;
  return traceIdHashAt(buf, traceId) % ctx.partitions;
};

function validateEvent(r: ProtoReader, end: number): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x09:
        r.double(end, tag);
        break;
      case 0x12:
        validateString(r, end, tag, 'Span.Event.name');
        break;
      case 0x1a:
        validateKeyValue(r, r.len(end, tag));
        break;
      case 0x20:
        r.skipVarint();
        break;
      default:
        r.skip(tag, end, EVENT, 'Span.Event');
    }
  }
  r.finish(end, 'Span.Event');
  r.leave();
}

function validateLink(r: ProtoReader, end: number): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
      case 0x12:
        r.pos = r.len(end, tag);
        break;
      case 0x1a:
        validateString(r, end, tag, 'Span.Link.trace_state');
        break;
      case 0x22:
        validateKeyValue(r, r.len(end, tag));
        break;
      case 0x28:
        r.skipVarint();
        break;
      case 0x35:
        r.fixed32(end, tag);
        break;
      default:
        r.skip(tag, end, LINK, 'Span.Link');
    }
  }
  r.finish(end, 'Span.Link');
  r.leave();
}

function validateStatus(r: ProtoReader, end: number): void {
  r.enter();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x12:
        validateString(r, end, tag, 'Status.message');
        break;
      case 0x18:
        r.skipVarint();
        break;
      default:
        r.skip(tag, end, STATUS, 'Status');
    }
  }
  r.finish(end, 'Status');
  r.leave();
}

const TRACES: SignalShape = {
  request: 'ExportTraceServiceRequest',
  resource: 'ResourceSpans',
  scope: 'ScopeSpans',
  resourceSchemaUrl: 'ResourceSpans.schema_url',
  scopeSchemaUrl: 'ScopeSpans.schema_url',
  walkItem: walkSpan,
};

/**
 * Splits an ExportTraceServiceRequest by the partition of each span's trace id.
 * Throws OtlpDecodeError for a malformed message, RangeError for invalid options.
 */
export function splitTraces(bytes: Uint8Array, opts: TraceSplitOptions): TraceSplit {
  throwIfInvalid(validateTraceSplitOptions(opts));
  const ctx = makeContext(
    opts.partitions,
    opts.maxAttributesPerItem,
    opts.maxAttributeValueBytes,
    0,
  );
  const raw = splitRequest(bytes, TRACES, ctx);
  const parts = raw.parts.map((p) => ({ partition: p.partition, bytes: p.bytes, spans: p.count }));
  const rejected = ctx.rejected[0] + ctx.rejected[1] + ctx.rejected[2];
  return { parts, spans: raw.accepted, rejectedSpans: rejected, rejectReasons: rejectCounts(ctx) };
}
