/**
 * The gateway's hot path for logs: split an ExportLogsServiceRequest into one request per
 * Kafka partition. A log record carrying a trace id goes to its trace's partition
 * (partitionOfTraceId), so it can share the trace's sampling decision in the worker; one
 * without goes to `fallbackPartition`, which the caller derives from tenant + resource.
 *
 * Per logs.proto, trace_id is optional and "an ID with all zeroes OR of length other than 16
 * bytes is considered invalid": an absent or all-zero trace id means "no trace" (fallback);
 * any other length rejects the record ('invalid_trace_id'). span_id is optional too: empty or
 * 8 bytes, else 'invalid_span_id'. Validation of the message is as strict as splitTraces.
 */
import { traceIdHashAt } from '../partition';
import { fields } from './common';
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
import { AttributeTally, validateAnyValue, validateKeyValue, validateString } from './validate';

/** Options of {@link splitLogs}. */
export interface LogSplitOptions {
  /** Partition count of the logs topic (an integer ≥ 1). */
  partitions: number;
  /**
   * Partition for log records without a trace id, 0 ≤ fallbackPartition < partitions; the
   * caller computes it from tenant + resource (the metrics keying rule).
   */
  fallbackPartition: number;
  /** Most attributes one log record may carry; more rejects it ('attribute_limit'). */
  maxAttributesPerItem?: number;
  /**
   * Largest value of a log record's own attributes, in bytes (as in TraceSplitOptions); the
   * body is not an attribute and is not limited here.
   */
  maxAttributeValueBytes?: number;
}

/** Reports every problem with the options at once (an empty array means valid). */
export function validateLogSplitOptions(opts: LogSplitOptions): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const partitionsOk =
    Number.isInteger(opts.partitions) && opts.partitions >= 1 && opts.partitions <= MAX_PARTITIONS;
  if (!partitionsOk) {
    problems.push({ path: 'partitions', message: 'must be an integer from 1 to 65536' });
  }
  const f = opts.fallbackPartition;
  if (!Number.isInteger(f) || f < 0 || (partitionsOk && f >= opts.partitions)) {
    problems.push({
      path: 'fallbackPartition',
      message: 'must be an integer with 0 ≤ fallbackPartition < partitions',
    });
  }
  checkLimit(opts.maxAttributesPerItem, 'maxAttributesPerItem', problems);
  checkLimit(opts.maxAttributeValueBytes, 'maxAttributeValueBytes', problems);
  return problems;
}

export interface LogPart {
  partition: number;
  /** An ExportLogsServiceRequest holding only this partition's log records. */
  bytes: Uint8Array;
  logRecords: number;
}

export interface LogSplit {
  /** One per partition that received log records, in ascending partition order. */
  parts: LogPart[];
  /** Log records accepted (the sum of the parts' logRecords). */
  logRecords: number;
  rejectedLogRecords: number;
  rejectReasons: RejectCounts;
}

const LOG_RECORD = fields(1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12);

const tally = new AttributeTally();

const walkLogRecord: ItemWalker = (r, end, ctx) => {
  r.enter();
  let traceId = 0;
  let traceIdLen = 0;
  let spanIdLen = 0;
  tally.reset();
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x09:
      case 0x59:
        r.double(end, tag);
        break;
      case 0x10:
      case 0x38:
        r.skipVarint();
        break;
      case 0x1a:
        validateString(r, end, tag, 'LogRecord.severity_text');
        break;
      case 0x2a:
        validateAnyValue(r, r.len(end, tag));
        break;
      case 0x32:
        tally.add(validateKeyValue(r, r.len(end, tag)));
        break;
      case 0x45:
        r.fixed32(end, tag);
        break;
      case 0x4a: {
        const e = r.len(end, tag);
        traceId = r.pos;
        traceIdLen = e - r.pos;
        r.pos = e;
        break;
      }
      case 0x52: {
        const e = r.len(end, tag);
        spanIdLen = e - r.pos;
        r.pos = e;
        break;
      }
      case 0x62:
        validateString(r, end, tag, 'LogRecord.event_name');
        break;
      default:
        r.skip(tag, end, LOG_RECORD, 'LogRecord');
    }
  }
  r.finish(end, 'LogRecord');
  r.leave();
  if (traceIdLen !== 0 && traceIdLen !== 16) return REJECT_INVALID_TRACE_ID;
  if (spanIdLen !== 0 && spanIdLen !== 8) return REJECT_INVALID_SPAN_ID;
  if (tally.exceeds(ctx.maxAttributes, ctx.maxValueBytes)) return REJECT_ATTRIBUTE_LIMIT;
  if (traceIdLen === 0 || allZero(r.buf, traceId, 16)) return ctx.fallbackPartition;
  return traceIdHashAt(r.buf, traceId) % ctx.partitions;
};

const LOGS: SignalShape = {
  request: 'ExportLogsServiceRequest',
  resource: 'ResourceLogs',
  scope: 'ScopeLogs',
  resourceSchemaUrl: 'ResourceLogs.schema_url',
  scopeSchemaUrl: 'ScopeLogs.schema_url',
  walkItem: walkLogRecord,
};

/**
 * Splits an ExportLogsServiceRequest by trace-id partition (fallback partition for records
 * without one). Throws OtlpDecodeError for a malformed message, RangeError for bad options.
 */
export function splitLogs(bytes: Uint8Array, opts: LogSplitOptions): LogSplit {
  throwIfInvalid(validateLogSplitOptions(opts));
  const ctx = makeContext(
    opts.partitions,
    opts.maxAttributesPerItem,
    opts.maxAttributeValueBytes,
    opts.fallbackPartition,
  );
  const raw = splitRequest(bytes, LOGS, ctx);
  const parts = raw.parts.map((p) => ({
    partition: p.partition,
    bytes: p.bytes,
    logRecords: p.count,
  }));
  return {
    parts,
    logRecords: raw.accepted,
    rejectedLogRecords: ctx.rejected[0] + ctx.rejected[1] + ctx.rejected[2],
    rejectReasons: rejectCounts(ctx),
  };
}
