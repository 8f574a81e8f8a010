/**
 * ExportLogsServiceRequest (opentelemetry/proto/collector/logs/v1/logs_service.proto, which is
 * LogsData of logs/v1/logs.proto) <-> the model's {@link LogsData}.
 *
 * Field presence on encode matches @opentelemetry/otlp-transformer's ProtobufLogsSerializer
 * (see ./traces.ts for why): time_unix_nano, observed_time_unix_nano and
 * dropped_attributes_count are always written; everything else is omitted at its default.
 */
import type { LogRecord, LogsData, ResourceLogs, ScopeLogs } from '../model';
import {
  decodeAnyValue,
  decodeResource,
  decodeScope,
  fields,
  lenField,
  pushKeyValue,
  sizeAnyValue,
  sizeKeyValues,
  sizeResourceField,
  sizeScopeField,
  writeAnyValue,
  writeKeyValues,
  writeResourceField,
  writeScopeField,
} from './common';
import { ProtoReader } from './reader';
import { encodeMessage, int32Size, type ProtoWriter, type SizeTape, varintSize } from './writer';

const EMPTY = new Uint8Array(0);

const REQUEST = fields(1);
const RESOURCE_LOGS = fields(1, 2, 3);
const SCOPE_LOGS = fields(1, 2, 3);
const LOG_RECORD = fields(1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12);

/** Decodes an ExportLogsServiceRequest; throws OtlpDecodeError on malformed input. */
export function decodeLogs(bytes: Uint8Array): LogsData {
  const r = new ProtoReader(bytes);
  const end = bytes.length;
  const resourceLogs: ResourceLogs[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      resourceLogs.push(decodeResourceLogs(r, r.len(end, tag)));
    } else {
      r.skip(tag, end, REQUEST, 'ExportLogsServiceRequest');
    }
  }
  r.finish(end, 'ExportLogsServiceRequest');
  return { resourceLogs };
}

function decodeResourceLogs(r: ProtoReader, end: number): ResourceLogs {
  r.enter();
  const rl: ResourceLogs = { resource: undefined, scopeLogs: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        rl.resource = decodeResource(r, r.len(end, tag));
        break;
      case 0x12:
        rl.scopeLogs.push(decodeScopeLogs(r, r.len(end, tag)));
        break;
      case 0x1a:
        rl.schemaUrl = r.string(end, tag, 'ResourceLogs.schema_url');
        break;
      default:
        r.skip(tag, end, RESOURCE_LOGS, 'ResourceLogs');
    }
  }
  r.finish(end, 'ResourceLogs');
  r.leave();
  return rl;
}

function decodeScopeLogs(r: ProtoReader, end: number): ScopeLogs {
  r.enter();
  const sl: ScopeLogs = { scope: undefined, logRecords: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        sl.scope = decodeScope(r, r.len(end, tag));
        break;
      case 0x12:
        sl.logRecords.push(decodeLogRecord(r, r.len(end, tag)));
        break;
      case 0x1a:
        sl.schemaUrl = r.string(end, tag, 'ScopeLogs.schema_url');
        break;
      default:
        r.skip(tag, end, SCOPE_LOGS, 'ScopeLogs');
    }
  }
  r.finish(end, 'ScopeLogs');
  r.leave();
  return sl;
}

function decodeLogRecord(r: ProtoReader, end: number): LogRecord {
  r.enter();
  const lr: LogRecord = {
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: undefined,
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: EMPTY,
    spanId: EMPTY,
    eventName: '',
  };
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag) {
      case 0x09:
        lr.timeUnixNano = r.fixed64(end, tag);
        break;
      case 0x10:
        lr.severityNumber = r.int32();
        break;
      case 0x1a:
        lr.severityText = r.string(end, tag, 'LogRecord.severity_text');
        break;
      case 0x2a:
        lr.body = decodeAnyValue(r, r.len(end, tag));
        break;
      case 0x32:
        pushKeyValue(r, end, tag, lr.attributes);
        break;
      case 0x38:
        lr.droppedAttributesCount = r.varint32();
        break;
      case 0x45:
        lr.flags = r.fixed32(end, tag);
        break;
      case 0x4a:
        lr.traceId = r.id(end, tag);
        break;
      case 0x52:
        lr.spanId = r.id(end, tag);
        break;
      case 0x59:
        lr.observedTimeUnixNano = r.fixed64(end, tag);
        break;
      case 0x62:
        lr.eventName = r.string(end, tag, 'LogRecord.event_name');
        break;
      default:
        r.skip(tag, end, LOG_RECORD, 'LogRecord');
    }
  }
  r.finish(end, 'LogRecord');
  r.leave();
  return lr;
}

// ---- encode ----------------------------------------------------------------------------

/** Encodes an ExportLogsServiceRequest. */
export function encodeLogs(data: LogsData): Uint8Array {
  return encodeMessage(data, sizeLogsData, writeLogsData);
}

function sizeLogsData(t: SizeTape, data: LogsData): number {
  let n = 0;
  for (const rl of data.resourceLogs) {
    const slot = t.reserve();
    let m = sizeResourceField(t, rl.resource);
    for (const sl of rl.scopeLogs) {
      const sslot = t.reserve();
      let k = sizeScopeField(t, sl.scope);
      for (const lr of sl.logRecords) {
        const lslot = t.reserve();
        const l = sizeLogRecord(t, lr);
        t.set(lslot, l);
        k += lenField(l);
      }
      if (sl.schemaUrl.length > 0) k += 1 + t.str(sl.schemaUrl);
      t.set(sslot, k);
      m += lenField(k);
    }
    if (rl.schemaUrl.length > 0) m += 1 + t.str(rl.schemaUrl);
    t.set(slot, m);
    n += lenField(m);
  }
  return n;
}

function writeLogsData(w: ProtoWriter, data: LogsData): void {
  for (const rl of data.resourceLogs) {
    w.byte(0x0a);
    w.fork();
    writeResourceField(w, rl.resource);
    for (const sl of rl.scopeLogs) {
      w.byte(0x12);
      w.fork();
      writeScopeField(w, sl.scope);
      for (const lr of sl.logRecords) {
        w.byte(0x12);
        w.fork();
        writeLogRecord(w, lr);
      }
      if (sl.schemaUrl.length > 0) {
        w.byte(0x1a);
        w.string(sl.schemaUrl);
      }
    }
    if (rl.schemaUrl.length > 0) {
      w.byte(0x1a);
      w.string(rl.schemaUrl);
    }
  }
}

function sizeLogRecord(t: SizeTape, lr: LogRecord): number {
  let n = 9; // time_unix_nano
  if (lr.severityNumber !== 0) n += 1 + int32Size(lr.severityNumber);
  if (lr.severityText.length > 0) n += 1 + t.str(lr.severityText);
  if (lr.body !== undefined) {
    const slot = t.reserve();
    const b = sizeAnyValue(t, lr.body);
    t.set(slot, b);
    n += lenField(b);
  }
  n += sizeKeyValues(t, lr.attributes, 1);
  n += 1 + varintSize(lr.droppedAttributesCount);
  if (lr.flags !== 0) n += 5;
  if (lr.traceId.length > 0) n += lenField(lr.traceId.length);
  if (lr.spanId.length > 0) n += lenField(lr.spanId.length);
  n += 9; // observed_time_unix_nano
  if (lr.eventName.length > 0) n += 1 + t.str(lr.eventName);
  return n;
}

function writeLogRecord(w: ProtoWriter, lr: LogRecord): void {
  w.byte(0x09);
  w.fixed64(lr.timeUnixNano);
  if (lr.severityNumber !== 0) {
    w.byte(0x10);
    w.int32(lr.severityNumber);
  }
  if (lr.severityText.length > 0) {
    w.byte(0x1a);
    w.string(lr.severityText);
  }
  if (lr.body !== undefined) {
    w.byte(0x2a);
    w.fork();
    writeAnyValue(w, lr.body);
  }
  writeKeyValues(w, lr.attributes, 0x32);
  w.byte(0x38);
  w.uint32(lr.droppedAttributesCount);
  if (lr.flags !== 0) {
    w.byte(0x45);
    w.fixed32(lr.flags);
  }
  if (lr.traceId.length > 0) {
    w.byte(0x4a);
    w.bytes(lr.traceId);
  }
  if (lr.spanId.length > 0) {
    w.byte(0x52);
    w.bytes(lr.spanId);
  }
  w.byte(0x59);
  w.fixed64(lr.observedTimeUnixNano);
  if (lr.eventName.length > 0) {
    w.byte(0x62);
    w.string(lr.eventName);
  }
}
