/**
 * Zipkin v2 JSON (the body of `POST /api/v2/spans`: a JSON array of spans,
 * https://zipkin.io/zipkin-api/#/default/post_spans) → the OTLP model, with the semantics of
 * the OpenTelemetry Collector's zipkin receiver (opentelemetry-collector-contrib
 * pkg/translator/zipkin/zipkinv2/to_translator.go, reading spans with zipkin-go's model), so a
 * tenant moving from a Collector to Custodian sees the same OTLP data:
 *
 * - traceId: 1–32 hex digits, left-padded to 16 bytes (64-bit ids get 8 zero high bytes);
 *   id / parentId: 1–16 hex digits, left-padded to 8 bytes; a parentId equal to id is dropped.
 * - kind CLIENT/SERVER/PRODUCER/CONSUMER → span kind; otherwise a `span.kind` tag of
 *   "internal" → INTERNAL (that tag is consumed), else UNSPECIFIED.
 * - timestamp/duration are µs → start/end ns. No timestamp: start = 0, end = duration, and the
 *   attribute `otel.zipkin.absentField.startTime = true` (the Collector's marker).
 * - Spans are grouped into ResourceSpans by localEndpoint.serviceName (resource `service.name`,
 *   or the key named by the `otlp.service.name.source` tag) and into ScopeSpans by
 *   `otel.scope.name` / `otel.library.name`, after a stable sort on those two, as the Collector
 *   does. The first span of a group supplies the resource (its resource-convention tags, e.g.
 *   host.name, telemetry.sdk.*, move to the resource) and the scope; those tags never become
 *   span attributes. Spans without a local service name get an empty resource.
 * - Tags become string attributes (or int/double/bool with `parseStringTags`, the receiver's
 *   `parse_string_tags`), minus the special ones: `w3c.tracestate` → traceState,
 *   `otel.status_code` (+ `otel.status_description`) → status, `error: "true"` → status ERROR,
 *   `otlp.link.N` → links (Collector exporter format `traceId|spanId|traceState|{json}|dropped`).
 * - localEndpoint ipv4/ipv6/port → net.host.ip / net.host.port; remoteEndpoint serviceName /
 *   ipv4 / ipv6 / port → peer.service / net.peer.ip / net.peer.port (semconv 1.6.1, as the
 *   Collector writes them).
 * - annotations → events (µs → ns); a value `name|{json attributes}|dropped`, which the
 *   Collector's zipkin exporter writes, restores the event's attributes.
 * - `debug` and `shared` are checked for type and otherwise ignored, as in the Collector.
 *
 * Deliberate differences: every problem is a ZipkinError naming the span index and field; an
 * all-zero or missing traceId / id is refused (zipkin-go accepts a missing traceId); the
 * Collector's map iteration order becomes the document's order, so output is deterministic;
 * `otel.scope.*` tags (the current name of `otel.library.*`, OTel spec "Mapping to non-OTLP")
 * are read as well.
 */
import type {
  AnyValue,
  KeyValue,
  ResourceSpans,
  ScopeSpans,
  Span,
  SpanEvent,
  SpanLink,
} from '../model';
import { SpanKind, StatusCode, type TracesData } from '../model';
import { tryHexToBytes } from '../json/hex';
import { formatIp, parseIp } from './ip';

/** A Zipkin document or span that cannot be converted: a client error (HTTP 400). */
export class ZipkinError extends Error {
  override readonly name = 'ZipkinError';

  constructor(
    reason: string,
    /** Index of the offending span in the posted array (undefined: the document itself). */
    readonly spanIndex?: number,
    /** Field of that span, e.g. `traceId`, `localEndpoint.ipv4`, `annotations[2].timestamp`. */
    readonly field?: string,
  ) {
    super(
      spanIndex === undefined
        ? reason
        : `spans[${spanIndex}]${field === undefined ? '' : `.${field}`}: ${reason}`,
    );
  }
}

/** Options of the conversion (the Collector zipkin receiver's settings). */
export interface ZipkinOptions {
  /**
   * Turn tag values that look like integers, decimals or booleans into attributes of that type
   * (the receiver's `parse_string_tags`). Default false: every tag stays a string.
   */
  parseStringTags?: boolean;
}

/** Upper bound on `otlp.link.N` tags read per span, as in the Collector. */
const MAX_LINK_TAGS = 128;

const START_TIME_ABSENT = 'otel.zipkin.absentField.startTime';
const SERVICE_NAME_SOURCE = 'otlp.service.name.source';
const NO_SERVICE_NAME = 'OtlpResourceNoServiceName';
const SCOPE_NAME = 'otel.scope.name';
const SCOPE_VERSION = 'otel.scope.version';
const LIBRARY_NAME = 'otel.library.name';
const LIBRARY_VERSION = 'otel.library.version';
const SCOPE_KEYS = [SCOPE_NAME, SCOPE_VERSION, LIBRARY_NAME, LIBRARY_VERSION];

/**
 * Tags that describe the resource, not the span (the Collector's nonSpanAttributes: semconv
 * 1.6.1 resource attributes plus OpenCensus and scope keys). They never become span attributes.
 */
const RESOURCE_TAGS: ReadonlySet<string> = new Set([
  ...[
    'cloud.provider',
    'cloud.account.id',
    'cloud.region',
    'cloud.availability_zone',
    'cloud.platform',
    'aws.ecs.container.arn',
    'aws.ecs.cluster.arn',
    'aws.ecs.launchtype',
    'aws.ecs.task.arn',
    'aws.ecs.task.family',
    'aws.ecs.task.revision',
    'aws.eks.cluster.arn',
    'aws.log.group.names',
    'aws.log.group.arns',
    'aws.log.stream.names',
    'aws.log.stream.arns',
    'container.name',
    'container.id',
    'container.runtime',
    'container.image.name',
    'container.image.tag',
    'deployment.environment',
    'device.id',
    'device.model.identifier',
    'device.model.name',
    'faas.name',
    'faas.id',
    'faas.version',
    'faas.instance',
    'faas.max_memory',
    'host.id',
    'host.name',
    'host.type',
    'host.arch',
    'host.image.name',
    'host.image.id',
    'host.image.version',
    'k8s.cluster.name',
    'k8s.node.name',
    'k8s.node.uid',
    'k8s.namespace.name',
    'k8s.pod.uid',
    'k8s.pod.name',
    'k8s.container.name',
    'k8s.replicaset.uid',
    'k8s.replicaset.name',
    'k8s.deployment.uid',
    'k8s.deployment.name',
    'k8s.statefulset.uid',
    'k8s.statefulset.name',
    'k8s.daemonset.uid',
    'k8s.daemonset.name',
    'k8s.job.uid',
    'k8s.job.name',
    'k8s.cronjob.uid',
    'k8s.cronjob.name',
    'os.type',
    'os.description',
    'os.name',
    'os.version',
    'process.pid',
    'process.executable.name',
    'process.executable.path',
    'process.command',
    'process.command_line',
    'process.command_args',
    'process.owner',
    'process.runtime.name',
    'process.runtime.version',
    'process.runtime.description',
    'service.name',
    'service.namespace',
    'service.instance.id',
    'service.version',
    'telemetry.sdk.name',
    'telemetry.sdk.language',
    'telemetry.sdk.version',
    'telemetry.auto.version',
    'webengine.name',
    'webengine.version',
    'webengine.description',
  ],
  SERVICE_NAME_SOURCE,
  'opencensus.starttime',
  'opencensus.exporterversion',
  'opencensus.resourcetype',
  ...SCOPE_KEYS,
]);

/** otel.status_code values: the proto names (older Collectors) and the spec's. */
const STATUS_CODES: ReadonlyMap<string, number> = new Map([
  ['STATUS_CODE_UNSET', StatusCode.Unset],
  ['STATUS_CODE_OK', StatusCode.Ok],
  ['STATUS_CODE_ERROR', StatusCode.Error],
  ['Unset', StatusCode.Unset],
  ['Ok', StatusCode.Ok],
  ['Error', StatusCode.Error],
  ['UNSET', StatusCode.Unset],
  ['OK', StatusCode.Ok],
  ['ERROR', StatusCode.Error],
]);

const KINDS: ReadonlyMap<string, number> = new Map([
  ['CLIENT', SpanKind.Client],
  ['SERVER', SpanKind.Server],
  ['PRODUCER', SpanKind.Producer],
  ['CONSUMER', SpanKind.Consumer],
]);

interface Endpoint {
  serviceName: string;
  ip: string | undefined;
  port: number;
}

/** A validated Zipkin span, before grouping. */
interface ZipkinSpan {
  index: number;
  traceId: Uint8Array;
  id: Uint8Array;
  parentId: Uint8Array | undefined;
  name: string;
  kind: string;
  timestamp: bigint;
  duration: bigint;
  local: Endpoint | undefined;
  remote: Endpoint | undefined;
  annotations: { timestamp: bigint; value: string }[];
  tags: Map<string, string>;
  serviceName: string;
  scopeName: string;
}

const TEXT_DECODER = new TextDecoder('utf-8', { fatal: true });

/** Decodes a Zipkin v2 JSON body (text or UTF-8 bytes) into OTLP traces. Throws ZipkinError. */
export function decodeZipkinSpansJson(
  input: string | Uint8Array,
  options: ZipkinOptions = {},
): TracesData {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = TEXT_DECODER.decode(input);
    } catch {
      throw new ZipkinError('invalid UTF-8');
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ZipkinError(`invalid JSON: ${(e as Error).message}`);
  }
  return zipkinSpansToTraces(doc, options);
}

/** Converts an already parsed Zipkin v2 span array into OTLP traces. Throws ZipkinError. */
export function zipkinSpansToTraces(doc: unknown, options: ZipkinOptions = {}): TracesData {
  if (!Array.isArray(doc)) throw new ZipkinError('expected a JSON array of spans');
  const spans: ZipkinSpan[] = [];
  for (let i = 0; i < doc.length; i++) {
    // zipkin-go decodes a null element to a nil span, which the Collector skips.
    if (doc[i] !== null) spans.push(readSpan(doc[i], i));
  }
  // Stable, so spans keep their posted order within a group.
  spans.sort((a, b) => compare(a.serviceName, b.serviceName) || compare(a.scopeName, b.scopeName));

  const resourceSpans: ResourceSpans[] = [];
  let current: ResourceSpans | undefined;
  let currentScope: ScopeSpans | undefined;
  let prevService = '';
  let prevScope = '';
  for (const z of spans) {
    const tags = z.tags;
    if (current === undefined || z.serviceName !== prevService) {
      prevService = z.serviceName;
      current = {
        resource: {
          attributes: resourceAttributes(z.serviceName, tags),
          droppedAttributesCount: 0,
        },
        scopeSpans: [],
        schemaUrl: '',
      };
      resourceSpans.push(current);
      currentScope = undefined;
    }
    if (currentScope === undefined || z.scopeName !== prevScope) {
      prevScope = z.scopeName;
      currentScope = { scope: scopeOf(z.scopeName, tags), spans: [], schemaUrl: '' };
      current.scopeSpans.push(currentScope);
    }
    currentScope.spans.push(toSpan(z, options.parseStringTags === true));
  }
  return { resourceSpans };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function resourceAttributes(serviceName: string, tags: Map<string, string>): KeyValue[] {
  if (serviceName === NO_SERVICE_NAME) return [];
  const attrs: KeyValue[] = [];
  const source = tags.get(SERVICE_NAME_SOURCE);
  put(attrs, source === undefined || source === '' ? 'service.name' : source, {
    stringValue: serviceName,
  });
  tags.delete(SERVICE_NAME_SOURCE);
  for (const [key, value] of tags) {
    if (RESOURCE_TAGS.has(key) && !SCOPE_KEYS.includes(key)) {
      put(attrs, key, { stringValue: value });
      tags.delete(key);
    }
  }
  return attrs;
}

function scopeOf(scopeName: string, tags: Map<string, string>) {
  const scope = { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
  if (scopeName !== '') {
    scope.name = scopeName;
    scope.version = tags.get(SCOPE_VERSION) ?? tags.get(LIBRARY_VERSION) ?? '';
    for (const key of SCOPE_KEYS) tags.delete(key);
  }
  return scope;
}

function toSpan(z: ZipkinSpan, parseStringTags: boolean): Span {
  const tags = z.tags;
  const field =
    (name: string) =>
    (reason: string): never => {
      throw new ZipkinError(reason, z.index, name);
    };

  let traceState = tags.get('w3c.tracestate');
  if (traceState !== undefined) tags.delete('w3c.tracestate');
  traceState ??= '';

  let kind = KINDS.get(z.kind);
  if (kind === undefined) {
    kind = SpanKind.Unspecified;
    const tag = tags.get('span.kind');
    if (tag !== undefined) {
      tags.delete('span.kind');
      if (tag === 'internal') kind = SpanKind.Internal;
    }
  }

  let code: number = StatusCode.Unset;
  let message = '';
  const statusTag = tags.get('otel.status_code');
  if (statusTag !== undefined) {
    code = STATUS_CODES.get(statusTag) ?? StatusCode.Unset;
    tags.delete('otel.status_code');
    const description = tags.get('otel.status_description');
    if (description !== undefined) {
      message = description;
      tags.delete('otel.status_description');
    }
  }
  if (tags.get('error') === 'true') {
    code = StatusCode.Error;
    tags.delete('error');
  }

  const links: SpanLink[] = [];
  for (let i = 0; i < MAX_LINK_TAGS; i++) {
    const key = `otlp.link.${i}`;
    const value = tags.get(key);
    if (value === undefined) break;
    tags.delete(key);
    const link = parseLink(value, field(`tags.${key}`));
    if (link !== undefined) links.push(link);
  }

  const attributes: KeyValue[] = [];
  for (const [key, value] of tags) {
    if (RESOURCE_TAGS.has(key)) continue;
    attributes.push({ key, value: parseStringTags ? typedTag(value) : { stringValue: value } });
  }
  if (z.local !== undefined) {
    if (z.local.ip !== undefined) put(attributes, 'net.host.ip', { stringValue: z.local.ip });
    if (z.local.port > 0) put(attributes, 'net.host.port', { intValue: BigInt(z.local.port) });
  }
  if (z.remote !== undefined) {
    if (z.remote.serviceName !== '') {
      put(attributes, 'peer.service', { stringValue: z.remote.serviceName });
    }
    if (z.remote.ip !== undefined) put(attributes, 'net.peer.ip', { stringValue: z.remote.ip });
    if (z.remote.port > 0) put(attributes, 'net.peer.port', { intValue: BigInt(z.remote.port) });
  }

  let start = z.timestamp * 1000n;
  if (z.timestamp === 0n) {
    start = 0n;
    put(attributes, START_TIME_ABSENT, { boolValue: true });
  }

  const events: SpanEvent[] = z.annotations.map((a, i) =>
    parseEvent(a.timestamp, a.value, field(`annotations[${i}].value`)),
  );

  return {
    traceId: z.traceId,
    spanId: z.id,
    traceState,
    parentSpanId: z.parentId ?? new Uint8Array(0),
    flags: 0,
    name: z.name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + z.duration * 1000n,
    attributes,
    droppedAttributesCount: 0,
    events,
    droppedEventsCount: 0,
    links,
    droppedLinksCount: 0,
    status: code === StatusCode.Unset && message === '' ? undefined : { code, message },
  };
}

/** Sets `key` (replacing an existing value in place, as pcommon.Map.Put* does). */
function put(attrs: KeyValue[], key: string, value: AnyValue): void {
  for (const kv of attrs) {
    if (kv.key === key) {
      kv.value = value;
      return;
    }
  }
  attrs.push({ key, value });
}

const INT_TAG = /^-?\d+$/;
const DOUBLE_TAG = /^-?\d+\.\d+$/;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** The Collector's DetermineValueType: int, double, bool, else string. */
function typedTag(value: string): AnyValue {
  if (INT_TAG.test(value)) {
    // strconv.ParseInt saturates on overflow, and the Collector ignores the error.
    const n = BigInt(value);
    return { intValue: n < INT64_MIN ? INT64_MIN : n > INT64_MAX ? INT64_MAX : n };
  }
  if (DOUBLE_TAG.test(value)) return { doubleValue: Number(value) };
  if (value === 'true' || value === 'false') return { boolValue: value === 'true' };
  return { stringValue: value };
}

/** `name` or `name|{json attributes}|droppedCount` (the Collector zipkin exporter's format). */
function parseEvent(timestamp: bigint, value: string, fail: (reason: string) => never): SpanEvent {
  const parts = value.split('|');
  const event: SpanEvent = {
    timeUnixNano: timestamp * 1000n,
    name: parts[0],
    attributes: [],
    droppedAttributesCount: 0,
  };
  if (parts.length < 3) return event;
  event.attributes = jsonAttributes(parts.slice(1, -1).join('|'), fail);
  event.droppedAttributesCount = droppedCount(parts[parts.length - 1], fail);
  return event;
}

/** `traceId|spanId|traceState|{json attributes}|droppedCount`; fewer parts: skipped. */
function parseLink(value: string, fail: (reason: string) => never): SpanLink | undefined {
  const parts = value.split('|');
  if (parts.length < 5) return undefined;
  return {
    traceId: linkId(parts[0], 16, fail),
    spanId: linkId(parts[1], 8, fail),
    traceState: parts[2],
    attributes: jsonAttributes(parts.slice(3, -1).join('|'), fail),
    droppedAttributesCount: droppedCount(parts[parts.length - 1], fail),
    flags: 0,
  };
}

function linkId(text: string, bytes: number, fail: (reason: string) => never): Uint8Array {
  const hex =
    text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
  if (hex === '') return new Uint8Array(bytes);
  return tryHexToBytes(hex, bytes) ?? fail(`invalid link id ${JSON.stringify(text)}`);
}

function jsonAttributes(json: string, fail: (reason: string) => never): KeyValue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return fail('invalid JSON attributes');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail('JSON attributes must be an object');
  }
  const attrs: KeyValue[] = [];
  for (const [key, v] of Object.entries(parsed)) {
    if (typeof v === 'string') attrs.push({ key, value: { stringValue: v } });
    else if (typeof v === 'boolean') attrs.push({ key, value: { boolValue: v } });
    else if (typeof v === 'number') {
      attrs.push({
        key,
        value: Number.isInteger(v) ? { intValue: BigInt(v) } : { doubleValue: v },
      });
    }
  }
  return attrs;
}

function droppedCount(text: string, fail: (reason: string) => never): number {
  const n = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(n <= 0xffffffff)) fail(`invalid dropped attributes count ${JSON.stringify(text)}`);
  return n;
}

// ---- reading one span ------------------------------------------------------------------

function readSpan(v: unknown, index: number): ZipkinSpan {
  const fail = (field: string | undefined, reason: string): never => {
    throw new ZipkinError(reason, index, field);
  };
  if (typeof v !== 'object' || Array.isArray(v) || v === null)
    return fail(undefined, 'expected a span object');
  const o = v as Record<string, unknown>;

  const traceId = readId(o.traceId, 16, 'traceId', fail);
  const id = readId(o.id, 8, 'id', fail);
  let parentId: Uint8Array | undefined;
  if (o.parentId !== undefined && o.parentId !== null && o.parentId !== '') {
    parentId = readId(o.parentId, 8, 'parentId', fail, true);
    if (sameBytes(parentId, id) || parentId.every((b) => b === 0)) parentId = undefined;
  }
  const name = optionalString(o.name, 'name', fail);
  const kind = optionalString(o.kind, 'kind', fail);
  const timestamp = micros(o.timestamp, 'timestamp', fail);
  const duration = micros(o.duration, 'duration', fail);
  for (const flag of ['debug', 'shared']) {
    const f = o[flag];
    if (f !== undefined && f !== null && typeof f !== 'boolean')
      fail(flag, 'expected true or false');
  }
  const local = endpoint(o.localEndpoint, 'localEndpoint', fail);
  const remote = endpoint(o.remoteEndpoint, 'remoteEndpoint', fail);

  const annotations: { timestamp: bigint; value: string }[] = [];
  if (o.annotations !== undefined && o.annotations !== null) {
    if (!Array.isArray(o.annotations)) fail('annotations', 'expected an array');
    const list = o.annotations as unknown[];
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      const at = `annotations[${i}]`;
      if (typeof a !== 'object' || a === null || Array.isArray(a)) fail(at, 'expected an object');
      const ao = a as Record<string, unknown>;
      annotations.push({
        timestamp: micros(ao.timestamp, `${at}.timestamp`, fail),
        value: optionalString(ao.value, `${at}.value`, fail),
      });
    }
  }

  const tags = new Map<string, string>();
  if (o.tags !== undefined && o.tags !== null) {
    if (typeof o.tags !== 'object' || Array.isArray(o.tags)) fail('tags', 'expected an object');
    for (const [key, value] of Object.entries(o.tags as Record<string, unknown>)) {
      if (typeof value !== 'string') fail(`tags.${key}`, 'expected a string');
      tags.set(key, value as string);
    }
  }

  return {
    index,
    traceId,
    id,
    parentId,
    name,
    kind,
    timestamp,
    duration,
    local,
    remote,
    annotations,
    tags,
    serviceName: local?.serviceName ? local.serviceName : NO_SERVICE_NAME,
    scopeName: tags.get(SCOPE_NAME) ?? tags.get(LIBRARY_NAME) ?? '',
  };
}

type Fail = (field: string | undefined, reason: string) => never;

function readId(
  v: unknown,
  bytes: number,
  field: string,
  fail: Fail,
  allowZero = false,
): Uint8Array {
  const max = bytes * 2;
  if (v === undefined || v === null || v === '') return fail(field, 'is required');
  if (typeof v !== 'string' || v.length > max) {
    return fail(field, `expected 1 to ${max} hex characters`);
  }
  const id = tryHexToBytes(v.padStart(max, '0'), bytes);
  if (id === undefined) return fail(field, `expected 1 to ${max} hex characters`);
  if (!allowZero && id.every((b) => b === 0)) return fail(field, 'must not be all zeros');
  return id;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function optionalString(v: unknown, field: string, fail: Fail): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(field, 'expected a string');
  return v as string;
}

/** A µs count: a non-negative integer JSON number (zipkin-go reads uint64). */
function micros(v: unknown, field: string, fail: Fail): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    return fail(field, 'expected a non-negative integer (microseconds)');
  }
  return BigInt(v);
}

function endpoint(v: unknown, field: string, fail: Fail): Endpoint | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) return fail(field, 'expected an object');
  const o = v as Record<string, unknown>;
  const serviceName = optionalString(o.serviceName, `${field}.serviceName`, fail);
  let ip: string | undefined;
  for (const family of ['ipv4', 'ipv6']) {
    const text = optionalString(o[family], `${field}.${family}`, fail);
    if (text === '') continue;
    const bytes = parseIp(text);
    if (bytes === undefined)
      fail(`${field}.${family}`, `invalid IP address ${JSON.stringify(text)}`);
    ip = formatIp(bytes as Uint8Array); // ipv6 wins over ipv4, as in the Collector
  }
  let port = 0;
  if (o.port !== undefined && o.port !== null) {
    if (typeof o.port !== 'number' || !Number.isInteger(o.port)) {
      fail(`${field}.port`, 'expected an integer');
    }
    port = o.port as number;
  }
  if (serviceName === '' && ip === undefined && port === 0) return undefined;
  return { serviceName, ip, port };
}
