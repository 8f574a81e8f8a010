/**
 * OTLP spans → trace-store rows (issue #5 item 4). Pure: no I/O, so the mapping that decides
 * what is stored in the clear and what only encrypted is tested on its own.
 *
 * What goes where:
 * - Derived columns for search (service, run id, tool, model) come from span attributes, then
 *   resource attributes, and NEVER from a restricted value: a restricted run id or model is
 *   left out of the column rather than written in the clear.
 * - `attributes` (jsonb) holds everything else — span, resource and scope attributes, events,
 *   links — as plain JSON values (strings, numbers, booleans, arrays, objects; int64 outside
 *   2^53 as a decimal string, bytes as base64), restricted values replaced by "[RESTRICTED]".
 * - `restricted` holds the restricted values, keyed by where they sit (restrictedKeyOf):
 *   `key` for a span attribute, `resource:key`, `scope:key`, `events[i]:key`, `links[i]:key`.
 *   A span attribute literally named like one of the other forms loses to the span attribute.
 * - Retention: the class and days the policy's retention stage stamped on the span
 *   (`custodian.retention.class` / `.days`); a span without them gets the platform default,
 *   30 days, class "standard".
 */
import type { AnyValue, KeyValue, Span, TracesData } from '@custodian/otlp';
import { StatusCode } from '@custodian/otlp';
import {
  RESTRICTED_KEYS_ATTRIBUTE,
  RESTRICTED_PLACEHOLDER,
  RETENTION_CLASS_ATTRIBUTE,
  RETENTION_DAYS_ATTRIBUTE,
  restrictedKeysOf,
} from '@custodian/policy';

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type JsonMap = { [key: string]: JsonValue };

/** Attribute keys a run id is read from, in order (span first, then resource). */
export const RUN_ID_KEYS = ['run_id', 'gen_ai.conversation.id', 'session.id'] as const;
export const TOOL_NAME_KEYS = ['tool.name', 'gen_ai.tool.name'] as const;
export const MODEL_KEYS = ['gen_ai.request.model', 'llm.model'] as const;

export const DEFAULT_RETENTION_CLASS = 'standard';
export const DEFAULT_RETENTION_DAYS = 30;
/** Longest text kept in a derived search column. */
const MAX_COLUMN_CHARS = 512;

/** What is stored in the clear for one span, besides its columns. */
export interface StoredAttributes {
  span: JsonMap;
  resource: JsonMap;
  scope: { name: string; version: string; attributes: JsonMap };
  events: { name: string; timeUnixNano: string; attributes: JsonMap }[];
  links: { traceId: string; spanId: string; traceState: string; attributes: JsonMap }[];
  traceState: string;
  flags: number;
}

export interface SpanRow {
  traceId: Buffer;
  spanId: Buffer;
  parentSpanId: Buffer | null;
  name: string;
  kind: number;
  statusCode: number;
  statusMessage: string;
  serviceName: string;
  startUnixNano: bigint;
  endUnixNano: bigint;
  durationNs: bigint;
  runId: string | null;
  toolName: string | null;
  model: string | null;
  isError: boolean;
  attributes: StoredAttributes;
  /** Restricted values by restricted key; null when the span has none. */
  restricted: JsonMap | null;
  restrictedKeys: string[];
  retentionClass: string;
  retentionDays: number;
}

const toHex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** An OTLP AnyValue as plain JSON. */
export function anyValueToJson(v: AnyValue | undefined): JsonValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : v.intValue.toString();
  }
  if (v.doubleValue !== undefined)
    return Number.isFinite(v.doubleValue) ? v.doubleValue : String(v.doubleValue);
  if (v.arrayValue) return v.arrayValue.values.map(anyValueToJson);
  if (v.kvlistValue) {
    const o: JsonMap = {};
    for (const kv of v.kvlistValue.values) o[kv.key] = anyValueToJson(kv.value);
    return o;
  }
  if (v.bytesValue) return Buffer.from(v.bytesValue).toString('base64');
  return null;
}

/** The restricted key naming an attribute of the span (`where` undefined) or of another item. */
export function restrictedKeyOf(where: string | undefined, key: string): string {
  return where === undefined ? key : `${where}:${key}`;
}

/**
 * Splits an attribute list into what is stored in the clear and what is encrypted. Restricted
 * entries appear in the clear map as the placeholder.
 */
function splitAttributes(
  attrs: readonly KeyValue[],
  where: string | undefined,
  restricted: JsonMap,
  restrictedKeys: string[],
): JsonMap {
  const keys = new Set(restrictedKeysOf(attrs));
  const clear: JsonMap = {};
  for (const kv of attrs) {
    if (keys.has(kv.key) && kv.key !== RESTRICTED_KEYS_ATTRIBUTE) {
      const rk = restrictedKeyOf(where, kv.key);
      if (!(rk in restricted)) {
        restricted[rk] = anyValueToJson(kv.value);
        restrictedKeys.push(rk);
      }
      clear[kv.key] = RESTRICTED_PLACEHOLDER;
    } else {
      clear[kv.key] = anyValueToJson(kv.value);
    }
  }
  return clear;
}

/** A string value of `key` in `clear`, unless it is restricted or absent. */
function column(clear: JsonMap, keys: readonly string[]): string | null {
  for (const k of keys) {
    const v = clear[k];
    if (v === undefined || v === null || v === RESTRICTED_PLACEHOLDER) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      const s = String(v);
      if (s !== '') return s.length > MAX_COLUMN_CHARS ? s.slice(0, MAX_COLUMN_CHARS) : s;
    }
  }
  return null;
}

function retentionOf(span: Span): { cls: string; days: number } {
  let cls = DEFAULT_RETENTION_CLASS;
  let days = DEFAULT_RETENTION_DAYS;
  let sawClass = false;
  for (const kv of span.attributes) {
    if (kv.key === RETENTION_CLASS_ATTRIBUTE && kv.value.stringValue) {
      cls = kv.value.stringValue;
      sawClass = true;
    } else if (kv.key === RETENTION_DAYS_ATTRIBUTE) {
      const d =
        kv.value.intValue !== undefined ? Number(kv.value.intValue) : (kv.value.doubleValue ?? NaN);
      if (Number.isFinite(d) && d >= 1) days = Math.floor(d);
    }
  }
  return { cls: sawClass ? cls : DEFAULT_RETENTION_CLASS, days };
}

/** One row per span of `data`. Spans with ids of the wrong length are left out and counted. */
export function spanRows(data: TracesData): { rows: SpanRow[]; invalid: number } {
  const rows: SpanRow[] = [];
  let invalid = 0;
  for (const rs of data.resourceSpans) {
    const resAttrs = rs.resource?.attributes ?? [];
    for (const ss of rs.scopeSpans) {
      const scopeAttrs = ss.scope?.attributes ?? [];
      for (const span of ss.spans) {
        if (span.traceId.length !== 16 || span.spanId.length !== 8) {
          invalid++;
          continue;
        }
        const restricted: JsonMap = {};
        const restrictedKeys: string[] = [];
        const spanClear = splitAttributes(span.attributes, undefined, restricted, restrictedKeys);
        const resource = splitAttributes(resAttrs, 'resource', restricted, restrictedKeys);
        const scope = {
          name: ss.scope?.name ?? '',
          version: ss.scope?.version ?? '',
          attributes: splitAttributes(scopeAttrs, 'scope', restricted, restrictedKeys),
        };
        const events = span.events.map((e, i) => ({
          name: e.name,
          timeUnixNano: e.timeUnixNano.toString(),
          attributes: splitAttributes(e.attributes, `events[${i}]`, restricted, restrictedKeys),
        }));
        const links = span.links.map((l, i) => ({
          traceId: toHex(l.traceId),
          spanId: toHex(l.spanId),
          traceState: l.traceState,
          attributes: splitAttributes(l.attributes, `links[${i}]`, restricted, restrictedKeys),
        }));
        const start = span.startTimeUnixNano;
        const end = span.endTimeUnixNano >= start ? span.endTimeUnixNano : start;
        const statusCode = span.status?.code ?? StatusCode.Unset;
        const { cls, days } = retentionOf(span);
        rows.push({
          traceId: Buffer.from(span.traceId),
          spanId: Buffer.from(span.spanId),
          parentSpanId: span.parentSpanId.length === 8 ? Buffer.from(span.parentSpanId) : null,
          name: span.name,
          kind: span.kind,
          statusCode,
          statusMessage: span.status?.message ?? '',
          serviceName: column(resource, ['service.name']) ?? '',
          startUnixNano: start,
          endUnixNano: end,
          durationNs: end - start,
          runId: column(spanClear, RUN_ID_KEYS) ?? column(resource, RUN_ID_KEYS),
          toolName: column(spanClear, TOOL_NAME_KEYS),
          model: column(spanClear, MODEL_KEYS),
          isError: statusCode === StatusCode.Error,
          attributes: {
            span: spanClear,
            resource,
            scope,
            events,
            links,
            traceState: span.traceState,
            flags: span.flags,
          },
          restricted: restrictedKeys.length > 0 ? restricted : null,
          restrictedKeys,
          retentionClass: cls,
          retentionDays: days,
        });
      }
    }
  }
  return { rows, invalid };
}

/** Nanoseconds since the epoch as an ISO timestamp with microseconds (PostgreSQL's precision). */
export function nanosToIsoMicros(nanos: bigint): string {
  const ms = nanos / 1_000_000n;
  const micros = (nanos / 1000n) % 1000n;
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, -1)}${String(micros < 0n ? 0n : micros).padStart(3, '0')}Z`;
}
