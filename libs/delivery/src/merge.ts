/**
 * Merges several OTLP requests of one signal into one, the way the Collector's batch processor
 * does: resource groups with the same resource (and schema URL) become one group, and within it
 * scope groups with the same scope become one, so the merged request repeats no resource or
 * scope. Inputs are not mutated (one decoded record can be routed to several sinks); the cost
 * is one key per resource and scope group, never per span.
 */
import type {
  AnyValue,
  InstrumentationScope,
  KeyValue,
  LogsData,
  MetricsData,
  Resource,
  TracesData,
} from '@custodian/otlp';

export type SignalData = TracesData | LogsData | MetricsData;

function valueKey(v: AnyValue): string {
  if (v.stringValue !== undefined) return `s${v.stringValue.length}:${v.stringValue}`;
  if (v.intValue !== undefined) return `i${v.intValue}`;
  if (v.doubleValue !== undefined) return `d${v.doubleValue}`;
  if (v.boolValue !== undefined) return v.boolValue ? 'T' : 'F';
  if (v.bytesValue !== undefined) return `b${Buffer.from(v.bytesValue).toString('base64')}`;
  if (v.arrayValue) return `[${v.arrayValue.values.map(valueKey).join(',')}]`;
  if (v.kvlistValue) return `{${attrsKey(v.kvlistValue.values)}}`;
  return 'n';
}

function attrsKey(attrs: readonly KeyValue[]): string {
  let key = '';
  for (const a of attrs) key += `${a.key.length}:${a.key}=${valueKey(a.value)};`;
  return key;
}

function resourceKey(r: Resource | undefined, schemaUrl: string): string {
  return r
    ? `${schemaUrl}|${r.droppedAttributesCount}|${attrsKey(r.attributes)}`
    : `${schemaUrl}|-`;
}

function scopeKey(s: InstrumentationScope | undefined, schemaUrl: string): string {
  return s
    ? `${schemaUrl}|${s.name.length}:${s.name}|${s.version.length}:${s.version}|${s.droppedAttributesCount}|${attrsKey(s.attributes)}`
    : `${schemaUrl}|-`;
}

interface Group<S> {
  resource?: Resource;
  schemaUrl: string;
  scopes: S[];
}
interface Scoped<I> {
  scope?: InstrumentationScope;
  schemaUrl: string;
  items: I[];
}

/** Generic over the three signals' shapes: resource group → scope groups → items. */
function mergeGroups<
  R extends { resource?: Resource; schemaUrl: string },
  S extends { scope?: InstrumentationScope; schemaUrl: string },
  I,
>(
  inputs: readonly (readonly R[])[],
  scopesOf: (r: R) => readonly S[],
  itemsOf: (s: S) => readonly I[],
  build: (g: Group<Scoped<I>>) => R,
): R[] {
  if (inputs.length === 1) return inputs[0] as R[];
  const groups = new Map<string, { group: Group<Scoped<I>>; scopes: Map<string, Scoped<I>> }>();
  for (const list of inputs) {
    for (const r of list) {
      const rk = resourceKey(r.resource, r.schemaUrl);
      let g = groups.get(rk);
      if (!g) {
        g = {
          group: { resource: r.resource, schemaUrl: r.schemaUrl, scopes: [] },
          scopes: new Map(),
        };
        groups.set(rk, g);
      }
      for (const s of scopesOf(r)) {
        const sk = scopeKey(s.scope, s.schemaUrl);
        let sg = g.scopes.get(sk);
        if (!sg) {
          sg = { scope: s.scope, schemaUrl: s.schemaUrl, items: [] };
          g.scopes.set(sk, sg);
          g.group.scopes.push(sg);
        }
        for (const item of itemsOf(s)) sg.items.push(item);
      }
    }
  }
  const out: R[] = [];
  for (const { group } of groups.values()) out.push(build(group));
  return out;
}

export function mergeTraces(inputs: readonly TracesData[]): TracesData {
  return {
    resourceSpans: mergeGroups(
      inputs.map((d) => d.resourceSpans),
      (r) => r.scopeSpans,
      (s) => s.spans,
      (g) => ({
        resource: g.resource,
        schemaUrl: g.schemaUrl,
        scopeSpans: g.scopes.map((s) => ({
          scope: s.scope,
          schemaUrl: s.schemaUrl,
          spans: s.items,
        })),
      }),
    ),
  };
}

export function mergeLogs(inputs: readonly LogsData[]): LogsData {
  return {
    resourceLogs: mergeGroups(
      inputs.map((d) => d.resourceLogs),
      (r) => r.scopeLogs,
      (s) => s.logRecords,
      (g) => ({
        resource: g.resource,
        schemaUrl: g.schemaUrl,
        scopeLogs: g.scopes.map((s) => ({
          scope: s.scope,
          schemaUrl: s.schemaUrl,
          logRecords: s.items,
        })),
      }),
    ),
  };
}

export function mergeMetrics(inputs: readonly MetricsData[]): MetricsData {
  return {
    resourceMetrics: mergeGroups(
      inputs.map((d) => d.resourceMetrics),
      (r) => r.scopeMetrics,
      (s) => s.metrics,
      (g) => ({
        resource: g.resource,
        schemaUrl: g.schemaUrl,
        scopeMetrics: g.scopes.map((s) => ({
          scope: s.scope,
          schemaUrl: s.schemaUrl,
          metrics: s.items,
        })),
      }),
    ),
  };
}
