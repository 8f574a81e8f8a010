/**
 * The compiled attributes stage. Each action compiles once into a closure over a KeyValue[]
 * (regexes compiled, configured values converted, the HMAC key bound), and the stage walks
 * the OTLP model in place: resource → scope → span (its events and links) → log record. See
 * ./config.ts for the semantics and where they differ from the Collector's.
 *
 * For `resource` and `scope` targets, include/exclude see only the resource and scope (span
 * properties such as span_names never match there); events and links are matched through
 * the span that carries them.
 */
import { createHmac } from 'node:crypto';
import { Buffer } from 'node:buffer';
import type {
  AnyValue,
  InstrumentationScope,
  KeyValue,
  LogsData,
  Span,
  TracesData,
} from '@custodian/otlp';
import type { AttributeAction, AttributesConfig, AttributeTarget } from './config';
import { asString, cloneValue, findIndex, fromRaw, getValue, putValue } from './kv';
import { compileIncludeExclude, type Matcher } from './match';
import { compileRe2, MemoizedRe2 } from './re2';
import { fastRegExp } from './fast-regexp';

/** Request context for `from_context` (e.g. `tenant.id`, `metadata.x-team`). */
export type AttributeContext = Readonly<Record<string, string>>;

export interface AttributesCompileOptions {
  /** The tenant's HMAC key for `hash`. */
  hmacKey: Uint8Array | string;
}

type ActionFn = (attrs: KeyValue[], ctx: AttributeContext | undefined) => void;

function contextValue(ctx: AttributeContext | undefined, key: string): string | undefined {
  if (!ctx) return undefined;
  const direct = ctx[key];
  if (direct !== undefined) return direct;
  return key.startsWith('metadata.') ? ctx[key.slice('metadata.'.length)] : undefined;
}

/** The Collector's value encodings for hashing, keyed with HMAC-SHA256. */
export function hmacValue(key: Uint8Array | string, v: AnyValue): string {
  const h = createHmac('sha256', key);
  if (v.stringValue !== undefined) h.update(v.stringValue, 'utf8');
  else if (v.boolValue !== undefined) h.update(Buffer.of(v.boolValue ? 1 : 0));
  else if (v.intValue !== undefined) {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64LE(BigInt.asIntN(64, v.intValue));
    h.update(b);
  } else if (v.doubleValue !== undefined) {
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(v.doubleValue);
    h.update(b);
  } else if (v.bytesValue !== undefined) h.update(v.bytesValue);
  else h.update(asString(v), 'utf8');
  return h.digest('hex');
}

/**
 * The HMACs of the string values a `hash` action saw last. Hashed attributes are identifiers
 * (user ids, emails, session ids) that repeat across the spans of a run and across runs, and
 * createHmac costs ~1 µs a value (key schedule, two SHA-256 passes, hex): ~1.5% of the
 * worker's CPU in bench/compare, where every span has a user.id. Bounded by entries and by
 * value length; emptied whole when full (no per-hit bookkeeping). It lives in the compiled
 * action, so it goes with the policy version and the key it was compiled with.
 */
class HashCache {
  static readonly MAX_ENTRIES = 4096;
  static readonly MAX_VALUE_LENGTH = 256;
  private readonly map = new Map<string, string>();

  get(text: string): string | undefined {
    return this.map.get(text);
  }

  set(text: string, hash: string): void {
    if (text.length > HashCache.MAX_VALUE_LENGTH) return;
    if (this.map.size >= HashCache.MAX_ENTRIES) this.map.clear();
    this.map.set(text, hash);
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT_TEXT = /^[+-]?\d+$/;
const FLOAT_TEXT =
  /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Inf(?:inity)?|NaN)$/i;

/** `convert` as the Collector's type_converter: unconvertible values are left as they are. */
export function convertValue(v: AnyValue, to: 'int' | 'double' | 'string'): AnyValue | undefined {
  switch (to) {
    case 'int':
      if (v.intValue !== undefined) return undefined;
      if (v.doubleValue !== undefined) {
        if (!Number.isFinite(v.doubleValue)) return undefined;
        return { intValue: BigInt(Math.trunc(v.doubleValue)) };
      }
      if (v.boolValue !== undefined) return { intValue: v.boolValue ? 1n : 0n };
      if (v.stringValue !== undefined && INT_TEXT.test(v.stringValue)) {
        const n = BigInt(v.stringValue);
        return n < INT64_MIN || n > INT64_MAX ? undefined : { intValue: n };
      }
      return undefined;
    case 'double':
      if (v.doubleValue !== undefined) return undefined;
      if (v.intValue !== undefined) return { doubleValue: Number(v.intValue) };
      if (v.boolValue !== undefined) return { doubleValue: v.boolValue ? 1 : 0 };
      if (v.stringValue !== undefined && FLOAT_TEXT.test(v.stringValue)) {
        const s = v.stringValue.replace(/inf(inity)?$/i, 'Infinity');
        const n = Number(s);
        return Number.isNaN(n) && !/nan/i.test(s) ? undefined : { doubleValue: n };
      }
      return undefined;
    case 'string':
      if (v.stringValue !== undefined) return undefined;
      return { stringValue: asString(v) };
  }
}

function keyPattern(pattern: string | undefined): MemoizedRe2 | undefined {
  if (pattern === undefined) return undefined;
  const r = compileRe2(pattern);
  if (!r.ok) throw new Error(r.message);
  return new MemoizedRe2(r.re);
}

function compileAction(a: AttributeAction, opts: AttributesCompileOptions): ActionFn {
  const key = a.key ?? '';
  switch (a.action) {
    case 'insert':
    case 'update':
    case 'upsert': {
      const configured = a.value === undefined ? undefined : fromRaw(a.value);
      const fallback = a.default_value === undefined ? undefined : fromRaw(a.default_value);
      const from = a.from_attribute;
      const fromCtx = a.from_context;
      const provided = (attrs: KeyValue[], ctx: AttributeContext | undefined) => {
        if (configured) return cloneValue(configured);
        if (fromCtx !== undefined) {
          const s = contextValue(ctx, fromCtx);
          return s === undefined ? undefined : { stringValue: s };
        }
        const v = from === undefined ? undefined : getValue(attrs, from);
        return v === undefined ? undefined : cloneValue(v);
      };
      const source =
        fallback === undefined
          ? provided
          : (attrs: KeyValue[], ctx: AttributeContext | undefined) =>
              provided(attrs, ctx) ?? cloneValue(fallback);
      if (a.action === 'insert') {
        return (attrs, ctx) => {
          if (findIndex(attrs, key) >= 0) return;
          const v = source(attrs, ctx);
          if (v) attrs.push({ key, value: v });
        };
      }
      if (a.action === 'update') {
        return (attrs, ctx) => {
          const i = findIndex(attrs, key);
          if (i < 0) return;
          const v = source(attrs, ctx);
          if (v) attrs[i].value = v;
        };
      }
      return (attrs, ctx) => {
        const v = source(attrs, ctx);
        if (v) putValue(attrs, key, v);
      };
    }
    case 'delete': {
      const re = keyPattern(a.pattern);
      const exact = a.key;
      return (attrs) => {
        for (let i = attrs.length - 1; i >= 0; i--) {
          const k = attrs[i].key;
          if (k === exact || (re !== undefined && re.test(k))) attrs.splice(i, 1);
        }
      };
    }
    case 'hash': {
      const re = keyPattern(a.pattern);
      const exact = a.key;
      const hmacKey = opts.hmacKey;
      const recent = new HashCache();
      return (attrs) => {
        for (let i = 0; i < attrs.length; i++) {
          const kv = attrs[i];
          if (kv.key === exact || (re !== undefined && re.test(kv.key))) {
            const text = kv.value.stringValue;
            if (text === undefined) {
              kv.value = { stringValue: hmacValue(hmacKey, kv.value) };
              continue;
            }
            let h = recent.get(text);
            if (h === undefined) recent.set(text, (h = hmacValue(hmacKey, kv.value)));
            kv.value = { stringValue: h };
          }
        }
      };
    }
    case 'extract': {
      const r = compileRe2(a.pattern ?? '');
      if (!r.ok) throw new Error(r.message);
      const re = r.re;
      // V8's RegExp where it provably matches as RE2 does, in linear time (~25x faster)
      const fast = fastRegExp(a.pattern ?? '');
      const names: string[] = [];
      for (const [name, index] of Object.entries(re.namedGroups())) names[index] = name;
      return (attrs) => {
        const v = getValue(attrs, key);
        if (v === undefined || v.stringValue === undefined) return;
        const m = fast !== null ? fast.exec(v.stringValue) : re.exec(v.stringValue);
        if (!m) return;
        for (let g = 1; g < names.length; g++) {
          putValue(attrs, names[g], { stringValue: (m[g] as string | undefined) ?? '' });
        }
      };
    }
    case 'convert': {
      const to = a.converted_type ?? 'string';
      return (attrs) => {
        const i = findIndex(attrs, key);
        if (i < 0) return;
        const converted = convertValue(attrs[i].value, to);
        if (converted) attrs[i].value = converted;
      };
    }
    case 'rename': {
      const from = a.from_attribute ?? '';
      return (attrs) => {
        const i = findIndex(attrs, from);
        if (i < 0 || from === key) return;
        const value = attrs[i].value;
        attrs.splice(i, 1);
        putValue(attrs, key, value);
      };
    }
  }
}

interface CompiledProcessor {
  name: string;
  targets: ReadonlySet<AttributeTarget>;
  /** targets' span-level members, read per span without a Set lookup */
  spans: boolean;
  events: boolean;
  links: boolean;
  matcher: Matcher | undefined;
  run: ActionFn;
}

function chain(fns: ActionFn[]): ActionFn {
  if (fns.length === 1) return fns[0];
  return (attrs, ctx) => {
    for (let i = 0; i < fns.length; i++) fns[i](attrs, ctx);
  };
}

const NO_ATTRS: KeyValue[] = [];

/** The attributes stage, compiled. Mutates the data in place. */
export class CompiledAttributes {
  private readonly processors: CompiledProcessor[];

  constructor(config: AttributesConfig, opts: AttributesCompileOptions) {
    this.processors = config.map((p, i) => {
      const targets = new Set<AttributeTarget>(p.apply_to ?? ['span', 'log']);
      return {
        name: p.name ?? `attributes[${i}]`,
        targets,
        spans: targets.has('span'),
        events: targets.has('event'),
        links: targets.has('link'),
        matcher: compileIncludeExclude(p.include, p.exclude),
        run: chain(p.actions.map((a) => compileAction(a, opts))),
      };
    });
  }

  /** True when the stage does nothing (lets the pipeline skip it). */
  get isEmpty(): boolean {
    return this.processors.length === 0;
  }

  /** Applies every processor, in order, to a traces batch. */
  applyToTraces(data: TracesData, ctx?: AttributeContext): void {
    for (const p of this.processors) {
      const t = p.targets;
      const m = p.matcher;
      for (const rs of data.resourceSpans) {
        const resourceAttrs = rs.resource?.attributes ?? NO_ATTRS;
        if (
          t.has('resource') &&
          rs.resource &&
          (!m || m(resourceAttrs, undefined, undefined, NO_ATTRS))
        ) {
          p.run(rs.resource.attributes, ctx);
        }
        for (const ss of rs.scopeSpans) {
          if (
            t.has('scope') &&
            ss.scope &&
            (!m || m(resourceAttrs, ss.scope, undefined, NO_ATTRS))
          ) {
            p.run(ss.scope.attributes, ctx);
          }
          if (!p.spans && !p.events && !p.links) continue;
          const spans = ss.spans;
          for (let i = 0; i < spans.length; i++) {
            const span = spans[i];
            if (m && !m(resourceAttrs, ss.scope, span, span.attributes)) continue;
            this.applySpan(p, span, ctx);
          }
        }
      }
    }
  }

  private applySpan(p: CompiledProcessor, span: Span, ctx: AttributeContext | undefined): void {
    if (p.spans) p.run(span.attributes, ctx);
    if (p.events) for (const e of span.events) p.run(e.attributes, ctx);
    if (p.links) for (const l of span.links) p.run(l.attributes, ctx);
  }

  /** Applies every processor, in order, to a logs batch. */
  applyToLogs(data: LogsData, ctx?: AttributeContext): void {
    for (const p of this.processors) {
      const t = p.targets;
      const m = p.matcher;
      for (const rl of data.resourceLogs) {
        const resourceAttrs = rl.resource?.attributes ?? NO_ATTRS;
        if (
          t.has('resource') &&
          rl.resource &&
          (!m || m(resourceAttrs, undefined, undefined, NO_ATTRS))
        ) {
          p.run(rl.resource.attributes, ctx);
        }
        for (const sl of rl.scopeLogs) {
          const scope: InstrumentationScope | undefined = sl.scope;
          if (t.has('scope') && scope && (!m || m(resourceAttrs, scope, undefined, NO_ATTRS))) {
            p.run(scope.attributes, ctx);
          }
          if (!t.has('log')) continue;
          for (const rec of sl.logRecords) {
            if (m && !m(resourceAttrs, scope, undefined, rec.attributes)) continue;
            p.run(rec.attributes, ctx);
          }
        }
      }
    }
  }

  /** Applies the processors to one attribute list as if it were a span's (tests, dry-run). */
  applyToAttributes(attrs: KeyValue[], ctx?: AttributeContext): void {
    for (const p of this.processors) p.run(attrs, ctx);
  }
}

export function compileAttributes(
  config: AttributesConfig,
  opts: AttributesCompileOptions,
): CompiledAttributes {
  return new CompiledAttributes(config, opts);
}
