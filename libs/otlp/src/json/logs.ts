/**
 * OTLP/JSON for logs: ExportLogsServiceRequest (= LogsData) ⇄ the model; the body of
 * `POST /v1/logs` with `Content-Type: application/json`. Field names: opentelemetry-proto
 * logs/v1/logs.proto.
 */
import type { LogRecord, LogsData, ResourceLogs, ScopeLogs } from '../model';
import {
  EMPTY_BYTES,
  Reader,
  anyValue,
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
import {
  ObjectWriter,
  encodeAnyValue,
  encodeAttributes,
  encodeResource,
  encodeScope,
} from './writer';

const SEVERITY_NUMBER = enumNames([
  'SEVERITY_NUMBER_UNSPECIFIED',
  ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((level) =>
    ['', '2', '3', '4'].map((n) => `SEVERITY_NUMBER_${level}${n}`),
  ),
]);

const body = (r: Reader, v: unknown) => anyValue(r, v, 1);

/** Decodes an OTLP/JSON logs document (text or UTF-8 bytes). Throws OtlpJsonError. */
export function decodeLogsJson(input: string | Uint8Array): LogsData {
  return decodeDocument(input, logsData);
}

function logsData(r: Reader, o: JsonObject): LogsData {
  const key = o.resourceLogs !== undefined ? 'resourceLogs' : 'resource_logs';
  const v = o[key];
  return { resourceLogs: v === undefined || v === null ? [] : repeated(r, v, key, resourceLogs) };
}

function resourceLogs(r: Reader, v: unknown): ResourceLogs {
  const o = object(r, v);
  const out: ResourceLogs = { resource: undefined, scopeLogs: [], schemaUrl: '' };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'resource':
        out.resource = message(r, x, k, resource);
        break;
      case 'scopeLogs':
      case 'scope_logs':
        out.scopeLogs = repeated(r, x, k, scopeLogs);
        break;
      case 'schemaUrl':
      case 'schema_url':
        out.schemaUrl = str(r, x, k);
        break;
    }
  }
  return out;
}

function scopeLogs(r: Reader, v: unknown): ScopeLogs {
  const o = object(r, v);
  const out: ScopeLogs = { scope: undefined, logRecords: [], schemaUrl: '' };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'scope':
        out.scope = message(r, x, k, scope);
        break;
      case 'logRecords':
      case 'log_records':
        out.logRecords = repeated(r, x, k, logRecord);
        break;
      case 'schemaUrl':
      case 'schema_url':
        out.schemaUrl = str(r, x, k);
        break;
    }
  }
  return out;
}

function logRecord(r: Reader, v: unknown): LogRecord {
  const o = object(r, v);
  const out: LogRecord = {
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: undefined,
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: EMPTY_BYTES,
    spanId: EMPTY_BYTES,
    eventName: '',
  };
  for (const k in o) {
    const x = o[k];
    if (x === null) continue;
    switch (k) {
      case 'timeUnixNano':
      case 'time_unix_nano':
        out.timeUnixNano = uint64(r, x, k);
        break;
      case 'observedTimeUnixNano':
      case 'observed_time_unix_nano':
        out.observedTimeUnixNano = uint64(r, x, k);
        break;
      case 'severityNumber':
      case 'severity_number':
        out.severityNumber = enumValue(r, x, k, SEVERITY_NUMBER);
        break;
      case 'severityText':
      case 'severity_text':
        out.severityText = str(r, x, k);
        break;
      case 'body':
        out.body = message(r, x, k, body);
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
      case 'traceId':
      case 'trace_id':
        out.traceId = hexId(r, x, k, 16);
        break;
      case 'spanId':
      case 'span_id':
        out.spanId = hexId(r, x, k, 8);
        break;
      case 'eventName':
      case 'event_name':
        out.eventName = str(r, x, k);
        break;
    }
  }
  return out;
}

// ---- encode ----------------------------------------------------------------------------

/** Encodes logs as OTLP/JSON text. */
export function encodeLogsJson(data: LogsData): string {
  return new ObjectWriter().list('resourceLogs', data.resourceLogs, encodeResourceLogs).toString();
}

function encodeResourceLogs(v: ResourceLogs): string {
  return new ObjectWriter()
    .message('resource', v.resource, encodeResource)
    .list('scopeLogs', v.scopeLogs, encodeScopeLogs)
    .string('schemaUrl', v.schemaUrl)
    .toString();
}

function encodeScopeLogs(v: ScopeLogs): string {
  return new ObjectWriter()
    .message('scope', v.scope, encodeScope)
    .list('logRecords', v.logRecords, encodeLogRecord)
    .string('schemaUrl', v.schemaUrl)
    .toString();
}

const encodeBody = (v: Parameters<typeof encodeAnyValue>[0]) => encodeAnyValue(v, 1);

function encodeLogRecord(v: LogRecord): string {
  const w = new ObjectWriter()
    .int64('timeUnixNano', v.timeUnixNano)
    .int64('observedTimeUnixNano', v.observedTimeUnixNano)
    .int('severityNumber', v.severityNumber)
    .string('severityText', v.severityText)
    .message('body', v.body, encodeBody);
  encodeAttributes(w, 'attributes', v.attributes);
  return w
    .int('droppedAttributesCount', v.droppedAttributesCount)
    .int('flags', v.flags)
    .id('traceId', v.traceId)
    .id('spanId', v.spanId)
    .string('eventName', v.eventName)
    .toString();
}
