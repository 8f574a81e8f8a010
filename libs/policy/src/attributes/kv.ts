/**
 * Helpers over the OTLP model's attribute lists (KeyValue[]), shared by every stage. OTLP
 * attributes are a list, not a map; lists are short (tens of entries), so a linear scan beats
 * building a Map per span on the hot path.
 */
import { Buffer } from 'node:buffer';
import type { AnyValue, KeyValue } from '@custodian/otlp';

export function findIndex(attrs: KeyValue[], key: string): number {
  for (let i = 0; i < attrs.length; i++) if (attrs[i].key === key) return i;
  return -1;
}

export function getValue(attrs: KeyValue[], key: string): AnyValue | undefined {
  for (let i = 0; i < attrs.length; i++) if (attrs[i].key === key) return attrs[i].value;
  return undefined;
}

export function getString(attrs: KeyValue[] | undefined, key: string): string | undefined {
  if (attrs === undefined) return undefined;
  const v = getValue(attrs, key);
  return v === undefined ? undefined : v.stringValue;
}

/** Sets (replacing in place when present) an attribute. */
export function putValue(attrs: KeyValue[], key: string, value: AnyValue): void {
  const i = findIndex(attrs, key);
  if (i >= 0) attrs[i].value = value;
  else attrs.push({ key, value });
}

export function removeKey(attrs: KeyValue[], key: string): boolean {
  const i = findIndex(attrs, key);
  if (i < 0) return false;
  attrs.splice(i, 1);
  return true;
}

/** A deep copy, so one configured value is never shared (and mutated) by two spans. */
export function cloneValue(v: AnyValue): AnyValue {
  if (v.arrayValue) return { arrayValue: { values: v.arrayValue.values.map(cloneValue) } };
  if (v.kvlistValue) {
    return {
      kvlistValue: {
        values: v.kvlistValue.values.map((kv) => ({ key: kv.key, value: cloneValue(kv.value) })),
      },
    };
  }
  if (v.bytesValue) return { bytesValue: v.bytesValue.slice() };
  return { ...v };
}

/**
 * Converts a configuration value (YAML/JSON scalar, list or map) into an AnyValue, like
 * pcommon.Value.FromRaw: integers become intValue, other numbers doubleValue.
 */
export function fromRaw(raw: unknown): AnyValue | undefined {
  switch (typeof raw) {
    case 'string':
      return { stringValue: raw };
    case 'boolean':
      return { boolValue: raw };
    case 'bigint':
      return { intValue: raw };
    case 'number':
      if (!Number.isFinite(raw)) return undefined;
      return Number.isInteger(raw) ? { intValue: BigInt(raw) } : { doubleValue: raw };
    case 'object': {
      if (raw === null) return undefined;
      if (Array.isArray(raw)) {
        const values: AnyValue[] = [];
        for (const item of raw) {
          const v = fromRaw(item);
          if (v === undefined) return undefined;
          values.push(v);
        }
        return { arrayValue: { values } };
      }
      const values: KeyValue[] = [];
      for (const [key, item] of Object.entries(raw)) {
        const v = fromRaw(item);
        if (v === undefined) return undefined;
        values.push({ key, value: v });
      }
      return { kvlistValue: { values } };
    }
    default:
      return undefined;
  }
}

/** The value as a plain JSON-able JS value (used by `convert` to string and by matching). */
export function toRaw(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return v.intValue;
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return v.arrayValue.values.map(toRaw);
  if (v.kvlistValue) {
    const out: Record<string, unknown> = {};
    for (const kv of v.kvlistValue.values) out[kv.key] = toRaw(kv.value);
    return out;
  }
  if (v.bytesValue) return Buffer.from(v.bytesValue).toString('base64');
  return null;
}

/** The value as a string, like pcommon.Value.AsString (maps and lists as JSON). */
export function asString(v: AnyValue): string {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue ? 'true' : 'false';
  if (v.intValue !== undefined) return v.intValue.toString();
  if (v.doubleValue !== undefined) return formatDouble(v.doubleValue);
  if (v.bytesValue) return Buffer.from(v.bytesValue).toString('base64');
  if (v.arrayValue || v.kvlistValue) {
    return JSON.stringify(toRaw(v), (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));
  }
  return '';
}

function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return '+Inf';
  if (d === -Infinity) return '-Inf';
  return String(d);
}

/** True when two AnyValues are equal scalars (the matcher's `value:` comparison). */
export function scalarEquals(v: AnyValue, expected: AnyValue): boolean {
  if (expected.stringValue !== undefined) return v.stringValue === expected.stringValue;
  if (expected.boolValue !== undefined) return v.boolValue === expected.boolValue;
  if (expected.intValue !== undefined) {
    if (v.intValue !== undefined) return v.intValue === expected.intValue;
    return v.doubleValue !== undefined && v.doubleValue === Number(expected.intValue);
  }
  if (expected.doubleValue !== undefined) {
    if (v.doubleValue !== undefined) return v.doubleValue === expected.doubleValue;
    return v.intValue !== undefined && Number(v.intValue) === expected.doubleValue;
  }
  return asString(v) === asString(expected);
}
