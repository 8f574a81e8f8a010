/**
 * Restricted values: kept, but only for the store (encrypted per tenant), for roles allowed to
 * reveal them, and for sinks cleared for them.
 *
 * Representation: each item (resource, scope, span, event, link, log record, data point) lists
 * its own restricted top-level attribute keys in an attribute `custodian.restricted_keys`
 * (array of strings; `$body` stands for a log record's body). Chosen over a side table in the
 * redaction result (e.g. paths per span index) because the marking must survive what happens
 * between redaction and delivery: tail sampling buffers spans for seconds and regroups them by
 * trace, the retry queue re-serializes batches, and the store reads items one by one — an index
 * into the original batch means nothing by then, while an attribute travels with its item
 * through every codec. The marker names keys only, never values. A nested value that is
 * restricted restricts its whole top-level attribute (over-restricting is the safe side).
 *
 * `stripRestricted*` produce what an uncleared sink may receive: copy-on-write (the same decoded
 * batch may fan out to cleared and uncleared sinks), so the input is never modified and an item
 * without a marker is shared, not copied.
 */
import type {
  AnyValue,
  KeyValue,
  LogRecord,
  LogsData,
  MetricsData,
  Span,
  TracesData,
} from '@custodian/otlp';

export const RESTRICTED_KEYS_ATTRIBUTE = 'custodian.restricted_keys';
/** Marker entry for a log record's body. */
export const RESTRICTED_BODY = '$body';
/** What an uncleared sink sees in place of a restricted value. */
export const RESTRICTED_PLACEHOLDER = '[RESTRICTED]';

/** The restricted keys an attribute list declares (empty when none). */
export function restrictedKeysOf(attrs: readonly KeyValue[]): string[] {
  for (const kv of attrs) {
    if (kv.key !== RESTRICTED_KEYS_ATTRIBUTE) continue;
    const out: string[] = [];
    for (const v of kv.value.arrayValue?.values ?? [])
      if (v.stringValue !== undefined) out.push(v.stringValue);
    return out;
  }
  return [];
}

const placeholder = (): AnyValue => ({ stringValue: RESTRICTED_PLACEHOLDER });

/** Attributes with restricted values replaced; the same array when nothing is restricted. */
export function stripRestrictedAttributes(attrs: KeyValue[]): KeyValue[] {
  const keys = restrictedKeysOf(attrs);
  if (keys.length === 0) return attrs;
  const set = new Set(keys);
  return attrs.map((kv) => (set.has(kv.key) ? { key: kv.key, value: placeholder() } : kv));
}

function stripOwner<T extends { attributes: KeyValue[] }>(item: T): T {
  const attributes = stripRestrictedAttributes(item.attributes);
  return attributes === item.attributes ? item : { ...item, attributes };
}

function stripList<T>(list: T[], f: (t: T) => T): T[] {
  let out: T[] | null = null;
  for (let i = 0; i < list.length; i++) {
    const r = f(list[i]);
    if (r !== list[i]) {
      out ??= list.slice();
      out[i] = r;
    }
  }
  return out ?? list;
}

function stripSpan(span: Span): Span {
  const attributes = stripRestrictedAttributes(span.attributes);
  const events = stripList(span.events, stripOwner);
  const links = stripList(span.links, stripOwner);
  if (attributes === span.attributes && events === span.events && links === span.links) return span;
  return { ...span, attributes, events, links };
}

function stripLog(log: LogRecord): LogRecord {
  const keys = restrictedKeysOf(log.attributes);
  if (keys.length === 0) return log;
  return {
    ...log,
    attributes: stripRestrictedAttributes(log.attributes),
    body: keys.includes(RESTRICTED_BODY) ? placeholder() : log.body,
  };
}

function stripResourceScope<
  R extends { resource?: { attributes: KeyValue[]; droppedAttributesCount: number } },
>(r: R): R {
  if (!r.resource) return r;
  const res = stripOwner(r.resource);
  return res === r.resource ? r : { ...r, resource: res };
}

function stripScope<
  S extends {
    scope?: {
      attributes: KeyValue[];
      name: string;
      version: string;
      droppedAttributesCount: number;
    };
  },
>(s: S): S {
  if (!s.scope) return s;
  const scope = stripOwner(s.scope);
  return scope === s.scope ? s : { ...s, scope };
}

/** What a sink not cleared for restricted fields may receive. Never modifies `data`. */
export function stripRestrictedTraces(data: TracesData): TracesData {
  const resourceSpans = stripList(data.resourceSpans, (rs) => {
    const withRes = stripResourceScope(rs);
    const scopeSpans = stripList(rs.scopeSpans, (ss) => {
      const withScope = stripScope(ss);
      const spans = stripList(ss.spans, stripSpan);
      return spans === ss.spans ? withScope : { ...withScope, spans };
    });
    return scopeSpans === rs.scopeSpans ? withRes : { ...withRes, scopeSpans };
  });
  return resourceSpans === data.resourceSpans ? data : { resourceSpans };
}

export function stripRestrictedLogs(data: LogsData): LogsData {
  const resourceLogs = stripList(data.resourceLogs, (rl) => {
    const withRes = stripResourceScope(rl);
    const scopeLogs = stripList(rl.scopeLogs, (sl) => {
      const withScope = stripScope(sl);
      const logRecords = stripList(sl.logRecords, stripLog);
      return logRecords === sl.logRecords ? withScope : { ...withScope, logRecords };
    });
    return scopeLogs === rl.scopeLogs ? withRes : { ...withRes, scopeLogs };
  });
  return resourceLogs === data.resourceLogs ? data : { resourceLogs };
}

export function stripRestrictedMetrics(data: MetricsData): MetricsData {
  const resourceMetrics = stripList(data.resourceMetrics, (rm) => {
    const withRes = stripResourceScope(rm);
    const scopeMetrics = stripList(rm.scopeMetrics, (sm) => {
      const withScope = stripScope(sm);
      const metrics = stripList(sm.metrics, (m) => {
        const metadata = stripRestrictedAttributes(m.metadata);
        const out = metadata === m.metadata ? m : { ...m, metadata };
        if (m.gauge) {
          const dataPoints = stripList(m.gauge.dataPoints, stripOwner);
          return dataPoints === m.gauge.dataPoints ? out : { ...out, gauge: { dataPoints } };
        }
        if (m.sum) {
          const dataPoints = stripList(m.sum.dataPoints, stripOwner);
          return dataPoints === m.sum.dataPoints ? out : { ...out, sum: { ...m.sum, dataPoints } };
        }
        if (m.histogram) {
          const dataPoints = stripList(m.histogram.dataPoints, stripOwner);
          return dataPoints === m.histogram.dataPoints
            ? out
            : { ...out, histogram: { ...m.histogram, dataPoints } };
        }
        if (m.exponentialHistogram) {
          const dataPoints = stripList(m.exponentialHistogram.dataPoints, stripOwner);
          return dataPoints === m.exponentialHistogram.dataPoints
            ? out
            : { ...out, exponentialHistogram: { ...m.exponentialHistogram, dataPoints } };
        }
        if (m.summary) {
          const dataPoints = stripList(m.summary.dataPoints, stripOwner);
          return dataPoints === m.summary.dataPoints ? out : { ...out, summary: { dataPoints } };
        }
        return out;
      });
      return metrics === sm.metrics ? withScope : { ...withScope, metrics };
    });
    return scopeMetrics === rm.scopeMetrics ? withRes : { ...withRes, scopeMetrics };
  });
  return resourceMetrics === data.resourceMetrics ? data : { resourceMetrics };
}

/** Any signal: dispatches on the shape. */
export function stripRestricted<T extends TracesData | LogsData | MetricsData>(data: T): T {
  if ('resourceSpans' in data) return stripRestrictedTraces(data) as T;
  if ('resourceLogs' in data) return stripRestrictedLogs(data) as T;
  return stripRestrictedMetrics(data as MetricsData) as T;
}
