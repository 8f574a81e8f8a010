/**
 * The policy content hash (issue #4, item 6): "a compiled policy carries a content hash;
 * output is stamped with it (`custodian.policy.hash`), so every exported span points to the
 * exact policy that shaped it."
 *
 * The hash is SHA-256 (hex) of the canonical JSON of the NORMALIZED document — the output of
 * validatePolicy, where absent sections already hold the platform defaults. Canonical JSON:
 * object keys sorted by UTF-16 code unit, no whitespace, `undefined` members left out, array
 * order kept (policy order is meaningful). So the same content written in JSON or YAML, with
 * keys in any order, with defaults spelled out or left implicit, hashes the same; any change
 * that can change behaviour (a rule, a threshold, a policy's position) changes the hash.
 * The description is content too: changing it yields a new version, hence a new hash. The
 * tenant's HMAC key is not part of the document and never enters the hash.
 *
 * Stamping writes one shared, frozen KeyValue by reference into every span, log record and
 * metric data point handed out (no allocation per item); it overwrites a value the tenant
 * sent under the same key, as the retention attributes do.
 */
import { createHash } from 'node:crypto';
import type { KeyValue, LogsData, Metric, MetricsData, ResourceSpans } from '@custodian/otlp';
import type { PolicyDocument } from './policy';

/** The attribute every delivered span, log record and data point carries. */
export const POLICY_HASH_ATTRIBUTE = 'custodian.policy.hash';

/** Canonical JSON: sorted keys, no whitespace, undefined members omitted. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = obj[key];
    if (v === undefined || typeof v === 'function') continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** SHA-256 hex of the canonical JSON of a validated (normalized) policy document. */
export function policyHash(policy: PolicyDocument): string {
  return createHash('sha256').update(canonicalJson(policy), 'utf8').digest('hex');
}

/** A frozen attribute entry for the hash, shared by every item it is written to. */
export function policyHashAttribute(hash: string): KeyValue {
  return Object.freeze({
    key: POLICY_HASH_ATTRIBUTE,
    value: Object.freeze({ stringValue: hash }),
  }) as KeyValue;
}

function setShared(attrs: KeyValue[], kv: KeyValue): void {
  for (let i = 0; i < attrs.length; i++) {
    if (attrs[i].key === kv.key) {
      attrs[i] = kv;
      return;
    }
  }
  attrs.push(kv);
}

export function stampSpans(spans: readonly ResourceSpans[], kv: KeyValue): void {
  for (const rs of spans)
    for (const ss of rs.scopeSpans) {
      const list = ss.spans;
      for (let i = 0; i < list.length; i++) setShared(list[i].attributes, kv);
    }
}

export function stampLogs(data: LogsData, kv: KeyValue): void {
  for (const rl of data.resourceLogs)
    for (const sl of rl.scopeLogs) {
      const list = sl.logRecords;
      for (let i = 0; i < list.length; i++) setShared(list[i].attributes, kv);
    }
}

function dataPointsOf(m: Metric): readonly { attributes: KeyValue[] }[] {
  return (
    m.gauge?.dataPoints ??
    m.sum?.dataPoints ??
    m.histogram?.dataPoints ??
    m.exponentialHistogram?.dataPoints ??
    m.summary?.dataPoints ??
    []
  );
}

export function stampMetrics(data: MetricsData, kv: KeyValue): void {
  for (const rm of data.resourceMetrics)
    for (const sm of rm.scopeMetrics)
      for (const m of sm.metrics) for (const dp of dataPointsOf(m)) setShared(dp.attributes, kv);
}
