/**
 * The redaction stage, compiled once per policy version and run on the worker's hot path.
 *
 * Order per attribute (the Collector redaction processor's order, extended):
 *   ignored key → kept untouched · not on the allow-list → removed (fails closed) ·
 *   the key itself → scanned like a value ("Map keys" below) ·
 *   blocked key → the rule's action on the whole value · content key (GenAI prompts) → its
 *   action (restrict by default) and detectors still run inside · otherwise detectors scan the
 *   value: strings, strings in arrays and maps at any depth, and JSON inside strings (parsed,
 *   redacted leaf by leaf — object keys too: a secret used as a key is redacted in the key —
 *   re-serialized, so it stays valid JSON).
 *
 * Never leak: a string that looks like JSON but fails to parse is scanned as plain text;
 * content deeper than `scan.maxDepth` is masked whole; a key that names a credential
 * (`password`, `clientSecret`, …) has its whole value redacted by the secret_assignment rule.
 *
 * Hot path (issue #4): a charCodeAt prefilter lists where a built-in detector could start and the
 * combined pattern runs only there (detectors.ts, prefilter.ts), so a clean string costs one
 * tight loop and no allocation; key decisions are cached per key; counting uses flat typed
 * arrays. JSON is parsed only when that could change it: a clean prompt costs one prefilter pass
 * over its raw text. Skipping the parse must give exactly what parsing gives, so it is allowed
 * only when `jsonUnchanged` proves it (see there); the reference mode always parses, and
 * compile.spec.ts checks the two against each other on random JSON (fast-check).
 *
 * Map keys are text too (issue #4): an SDK may put a header value, an email or a token into an
 * attribute key or a kvlist entry's key (`{"user_index": {"jane@example.com": 3}}` as an OTLP
 * map). Every key of every attribute list — resource, scope, span, event, link, log record, data
 * point, exemplar, metric metadata, structured log bodies, and kvlist maps at any depth — is
 * scanned with the same detectors and tenant patterns as values, after the key decisions:
 * ignored and reserved keys are not scanned (kept untouched), and a key that fails the
 * allow-list is removed before it is scanned (fail closed; counted as allow_list.drop, its name
 * never recorded); every other key is scanned, whatever rule then acts on its value (the rule was
 * chosen by the raw key). A detected key becomes its action's token: mask, and restrict, partial
 * and truncate (the key itself is the secret, and a restricted marker would name it) →
 * `[REDACTED:<rule>]`; hash → `[HASH:<rule>:…]`; drop → the entry is removed. Two keys that end
 * up with the same name stay apart (`…#2`, `…#3`, as for JSON object keys). Detections in keys
 * are counted like any other; summaries and the restricted marker list the new key, never the
 * raw one. Cost on the hot path: whether a key needs scanning is decided once per key and kept
 * in the key-decision cache, so a clean key costs one bit test (see `classifyKey`).
 *
 * Restricted values: the value stays, and its top-level key is listed in the item's own
 * `custodian.restricted_keys` attribute (see restricted.ts for why it travels with the item).
 */
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import type {
  AnyValue,
  KeyValue,
  LogRecord,
  LogsData,
  MetricsData,
  Span,
  TracesData,
} from '@custodian/otlp';
import { RE2JS } from 're2js';
import { patternCharset, type PatternChars } from '../attributes/fast-regexp';
import { RedactionAction, RedactionActionSpec, RedactionConfig, REDACTION_ACTIONS } from './config';
import {
  BUILTIN_DETECTORS,
  BuiltinDetectorId,
  BuiltinScanner,
  DETECTOR_KIND,
  Matches,
  SECRET_KEY_NAME,
} from './detectors';
import { RESTRICTED_BODY, RESTRICTED_KEYS_ATTRIBUTE } from './restricted';

export interface CompileRedactionOptions {
  /** The tenant's HMAC key for the hash action (≥ 16 bytes). Deleting it makes hashes unlinkable. */
  hmacKey: Uint8Array;
  /**
   * Reference mode: every string goes through the full global scan of the combined pattern
   * instead of the prefilter, and every string that looks like JSON is parsed and walked (issue
   * #4). Same results, far slower; the oracle of differential tests and the benchmarks' baseline.
   */
  referenceScan?: boolean;
  /**
   * false: the prefilter's pass runs as JavaScript instead of WebAssembly SIMD (prefilter.wat).
   * Same candidates; the benchmarks' comparison run.
   */
  simdPrefilter?: boolean;
}

/** Counts per rule (detector, custom pattern, key rule) and action. Never values. */
export type RedactionCounts = Record<string, Partial<Record<RedactionAction, number>>>;

export interface RedactionResult {
  /** e.g. `{ email: { mask: 3 }, allow_list: { drop: 2 }, content: { restrict: 1 } }` */
  counts: RedactionCounts;
  /** Sum of all counts. */
  total: number;
  /** Attributes, map entries and array elements removed (allow-list and drop). */
  removed: number;
  /** Values marked restricted. */
  restricted: number;
}

export interface CompiledRedaction {
  readonly config: RedactionConfig;
  /** Redacts in place (the worker owns the decoded data). */
  redactTraces(data: TracesData): RedactionResult;
  redactLogs(data: LogsData): RedactionResult;
  redactMetrics(data: MetricsData): RedactionResult;
  /** Redacts one free-standing string (drop and restrict act as mask). */
  redactText(text: string): string;
}

/** Summary attribute names: the Collector redaction processor's, plus per-detector counts. */
export const SUMMARY_ATTRIBUTES = {
  redactedKeys: 'redaction.redacted.keys',
  redactedCount: 'redaction.redacted.count',
  maskedKeys: 'redaction.masked.keys',
  maskedCount: 'redaction.masked.count',
  allowedKeys: 'redaction.allowed.keys',
  allowedCount: 'redaction.allowed.count',
  ignoredCount: 'redaction.ignored.count',
  bodyRedactedKeys: 'redaction.body.redacted.keys',
  bodyRedactedCount: 'redaction.body.redacted.count',
  bodyMaskedKeys: 'redaction.body.masked.keys',
  bodyMaskedCount: 'redaction.body.masked.count',
  bodyAllowedKeys: 'redaction.body.allowed.keys',
  bodyAllowedCount: 'redaction.body.allowed.count',
  bodyIgnoredCount: 'redaction.body.ignored.count',
  /** kvlist `"<detector>.<action>" → count` (ours; the Collector has no detectors). */
  detections: 'custodian.redaction.detections',
} as const;

const RESERVED_KEYS = new Set<string>([
  ...Object.values(SUMMARY_ATTRIBUTES),
  RESTRICTED_KEYS_ATTRIBUTE,
]);

// ---- flags returned by the walkers ------------------------------------------------------
const CHANGED = 1;
const DROP = 2;
const RESTRICT = 4;
const ALLOWED = 8;

// ---- key decisions (cached per key) -----------------------------------------------------
const K_NORMAL = 0;
const K_IGNORE = 1;
const K_REMOVE = 2;
const K_BLOCKED = 3; // + rule index << K_RULE_SHIFT
const K_CONTENT = 4;
const K_SECRET = 5;
const K_RESERVED = 6;
/** The key-scan bits below are set (cached decisions made outside attribute lists lack them). */
const K_SCANNED = 8;
/** The key itself holds a possible detection (or JSON): it goes through text() each time. */
const K_DIRTY = 16;
/** A blocked-key decision carries its rule index above the kind and key-scan bits. */
const K_RULE_SHIFT = 5;

const ACTION_INDEX: Record<RedactionAction, number> = Object.fromEntries(
  REDACTION_ACTIONS.map((a, i) => [a, i]),
) as Record<RedactionAction, number>;
const NA = REDACTION_ACTIONS.length;

interface Rule {
  name: string;
  spec: RedactionActionSpec;
  /** allowedValues may exempt it (PII and tenant patterns; never secrets or key rules). */
  exemptible: boolean;
}

/** Per attribute-map bookkeeping for the summary and the restricted marker; reused. */
class MapLedger {
  removed: string[] = [];
  masked: string[] = [];
  allowed: string[] = [];
  ignored = 0;
  restricted: string[] = [];
  /**
   * The list walked with this ledger may hold one of our own attributes (summary, marker): then
   * writing them must look for one first. Otherwise they are appended without a scan.
   */
  reserved = false;
  touched: number[] = [];
  perRule: Int32Array;
  constructor(slots: number) {
    this.perRule = new Int32Array(slots);
  }
  reset(): void {
    // setting length is a runtime call even on an empty array, and most are empty
    if (this.removed.length !== 0) this.removed.length = 0;
    if (this.masked.length !== 0) this.masked.length = 0;
    if (this.allowed.length !== 0) this.allowed.length = 0;
    this.ignored = 0;
    this.reserved = false;
    if (this.restricted.length !== 0) this.restricted.length = 0;
    if (this.touched.length !== 0) {
      for (const t of this.touched) this.perRule[t] = 0;
      this.touched.length = 0;
    }
  }
  get empty(): boolean {
    return (
      this.removed.length === 0 &&
      this.masked.length === 0 &&
      this.allowed.length === 0 &&
      this.ignored === 0 &&
      this.touched.length === 0
    );
  }
}

/** A key's cached decision (K_* and key-scan bits) and the last clean value seen under it. */
class KeyInfo {
  /**
   * A value text() found clean (see Engine.lastClean) under this key, or ''. Held per key in
   * the bounded key caches; never a value with a detection.
   */
  clean = '';
  constructor(public d: number) {}
}

class Engine implements CompiledRedaction {
  private readonly builtin: BuiltinScanner;
  private readonly custom: RE2JS[];
  /** Per tenant pattern, a literal every match contains (or ''): indexOf gates re2js. */
  private readonly customGates: string[];
  /**
   * Per tenant pattern with a gate, the characters its matches can hold (patternCharset), or
   * null: re2js then runs only on the run of such characters around each occurrence of the
   * gate, not on the whole string (re2js costs ~35 µs per KB: an email pattern on a 2 KB prompt
   * holding one '@' took 74 µs, on the 20-character run around it ~3 µs).
   */
  private readonly customChars: (PatternChars | null)[];
  private readonly allowedValues: RE2JS[];
  private readonly ignoredKeys: Set<string>;
  private readonly ignoredKeyPatterns: RE2JS[];
  private readonly allowList: Set<string> | null;
  private readonly blockedExact: Map<string, number>;
  private readonly blockedPatterns: { re: RE2JS; rule: number }[];
  private readonly contentExact: Set<string>;
  private readonly contentPrefixes: string[];
  /** rules: [builtins…, custom…, blocked key rules…, content, allow_list, max_depth] */
  private readonly rules: Rule[] = [];
  private readonly customBase: number;
  private readonly blockedBase: number;
  private readonly contentRule: number;
  private readonly allowListRule: number;
  private readonly depthRule: number;
  private readonly secretRule: number; // -1 when secret_assignment is off
  /** A tenant pattern with an anchor (^ $ \A \z) may match a JSON token but not the raw text. */
  private readonly anchoredCustom: boolean;
  private readonly keyCacheTop = new Map<string, KeyInfo>();
  private readonly keyCacheNested = new Map<string, KeyInfo>();
  private readonly hmacKey: Uint8Array;
  private readonly referenceScan: boolean;
  /**
   * Short strings known to hold nothing to redact (not JSON, no detection): attribute values
   * repeat across the spans of a run and across runs (ids, models, routes, user agents), and a
   * set lookup (hash + compare, native) costs less than the prefilter on digit-rich ids. The
   * answer depends only on the string and this compiled policy. Bounded, since the worker keeps
   * one compiled policy per tenant: at most CLEAN_CACHE_SIZE strings of at most
   * CLEAN_CACHE_MAX_LENGTH characters (~100 KB), cleared when full; it never holds a detected
   * value. Not used in reference mode.
   */
  private readonly cleanCache = new Set<string>();
  /**
   * The clean cache's first level: strings found clean, one per slot by length and three
   * characters (recentSlot), compared with ===. Span and event names, JSON keys and the values of
   * content keys recur batch after batch; a hit costs a comparison instead of hashing a freshly
   * decoded string and probing a large Set. Same contents rule as the clean cache.
   */
  private readonly recentClean: string[] = new Array<string>(RECENT_CLEAN_SLOTS).fill('');
  /** inertJsonKey's table: keys no key rule acts on, by length and end characters. */
  private readonly inertJsonKeys: string[] = new Array<string>(INERT_KEY_SLOTS).fill('');

  // per-call state (the engine is not re-entrant; one per worker thread)
  private readonly matches = new Matches();
  /** Scratch for classifyKey (never the one a string scan in progress holds). */
  private readonly keyMatches = new Matches();
  /** The rule whose drop action made the last text() answer DROP (a dropped key's summary name). */
  private lastDropRule = '';
  private counts: Int32Array;
  /** `"<rule>.<action>"` per count slot: the detections summary's keys, built once. */
  private readonly slotNames: string[];
  private removedTotal = 0;
  private restrictedTotal = 0;
  private ledger: MapLedger;
  private bodyLedger: MapLedger;
  private readonly ledgers: MapLedger[] = [];

  constructor(
    readonly config: RedactionConfig,
    opts: CompileRedactionOptions,
  ) {
    if (!(opts.hmacKey instanceof Uint8Array) || opts.hmacKey.length < 16)
      throw new Error('compileRedaction: hmacKey must be at least 16 bytes');
    this.hmacKey = opts.hmacKey;
    this.referenceScan = opts.referenceScan === true;
    const enabled = new Set<BuiltinDetectorId>(
      config.detectors.enabled === 'all' ? BUILTIN_DETECTORS : config.detectors.enabled,
    );
    this.builtin = new BuiltinScanner(enabled, opts.simdPrefilter !== false);
    for (const id of this.builtin.ids)
      this.rules.push({
        name: id,
        spec: config.detectors.overrides[id] ?? config.detectors.action,
        exemptible: DETECTOR_KIND[id] === 'pii',
      });
    // secret_assignment also rules map/JSON keys; it has a slot even if its pattern is last
    this.secretRule = this.builtin.ids.indexOf('secret_assignment');

    this.customBase = this.rules.length;
    this.custom = config.customPatterns.map((p, i) => {
      this.rules.push({ name: p.name, spec: p.action, exemptible: true });
      return compileRe2(p.pattern, `customPatterns[${i}].pattern`);
    });

    this.blockedBase = this.rules.length;
    this.blockedExact = new Map();
    this.blockedPatterns = [];
    config.blockedKeys.forEach((r, i) => {
      const rule = this.rules.length;
      this.rules.push({ name: r.name ?? 'blocked_key', spec: r.action, exemptible: false });
      for (const k of r.keys ?? []) if (!this.blockedExact.has(k)) this.blockedExact.set(k, rule);
      (r.patterns ?? []).forEach((p, j) =>
        this.blockedPatterns.push({ re: compileRe2(p, `blockedKeys[${i}].patterns[${j}]`), rule }),
      );
    });
    this.customGates = config.customPatterns.map((p) => requiredLiteral(p.pattern));
    this.customChars = config.customPatterns.map((p, i) =>
      this.customGates[i] === '' ? null : patternCharset(p.pattern),
    );
    this.anchoredCustom = config.customPatterns.some((p) => /[$^]|\\[Az]/.test(p.pattern));

    this.contentRule = this.rules.length;
    this.rules.push({ name: 'content', spec: config.contentKeys.action, exemptible: false });
    this.allowListRule = this.rules.length;
    this.rules.push({ name: 'allow_list', spec: { action: 'drop' }, exemptible: false });
    this.depthRule = this.rules.length;
    this.rules.push({ name: 'max_depth', spec: { action: 'mask' }, exemptible: false });

    this.allowedValues = config.allowedValues.map((p, i) => compileRe2(p, `allowedValues[${i}]`));
    this.ignoredKeys = new Set(config.ignoredKeys);
    this.ignoredKeyPatterns = config.ignoredKeyPatterns.map((p, i) =>
      compileRe2(p, `ignoredKeyPatterns[${i}]`),
    );
    this.allowList = config.allowedKeys ? new Set(config.allowedKeys) : null;
    this.contentExact = new Set(config.contentKeys.keys.filter((k) => !k.endsWith('*')));
    this.contentPrefixes = config.contentKeys.keys
      .filter((k) => k.endsWith('*'))
      .map((k) => k.slice(0, -1));

    this.counts = new Int32Array(this.rules.length * NA);
    this.slotNames = Array.from(
      { length: this.rules.length * NA },
      (_, slot) => `${this.rules[Math.floor(slot / NA)].name}.${REDACTION_ACTIONS[slot % NA]}`,
    );
    this.ledger = this.newLedger();
    this.bodyLedger = this.newLedger();
  }

  // ---- public API -----------------------------------------------------------------------

  redactTraces(data: TracesData): RedactionResult {
    this.begin();
    for (const rs of data.resourceSpans) {
      if (rs.resource) this.attributeMap(rs.resource.attributes);
      for (const ss of rs.scopeSpans) {
        if (ss.scope) this.attributeMap(ss.scope.attributes);
        for (const span of ss.spans) this.span(span);
      }
    }
    return this.end();
  }

  redactLogs(data: LogsData): RedactionResult {
    this.begin();
    for (const rl of data.resourceLogs) {
      if (rl.resource) this.attributeMap(rl.resource.attributes);
      for (const sl of rl.scopeLogs) {
        if (sl.scope) this.attributeMap(sl.scope.attributes);
        for (const log of sl.logRecords) this.logRecord(log);
      }
    }
    return this.end();
  }

  redactMetrics(data: MetricsData): RedactionResult {
    this.begin();
    for (const rm of data.resourceMetrics) {
      if (rm.resource) this.attributeMap(rm.resource.attributes);
      for (const sm of rm.scopeMetrics) {
        if (sm.scope) this.attributeMap(sm.scope.attributes);
        for (const m of sm.metrics) {
          this.attributeMap(m.metadata);
          const points =
            m.gauge?.dataPoints ??
            m.sum?.dataPoints ??
            m.histogram?.dataPoints ??
            m.exponentialHistogram?.dataPoints ??
            m.summary?.dataPoints ??
            [];
          for (const p of points) {
            this.attributeMap(p.attributes);
            if ('exemplars' in p)
              for (const e of p.exemplars) this.attributeMap(e.filteredAttributes);
          }
        }
      }
    }
    return this.end();
  }

  redactText(text: string): string {
    this.begin();
    const out = this.text(text, 0, RESTRICT_AS_MASK);
    this.end();
    return typeof out === 'string' ? out : this.maskToken('max_depth');
  }

  // ---- items ----------------------------------------------------------------------------

  private span(span: Span): void {
    const led = this.ledger;
    led.reset();
    this.attributes(span.attributes, led, true, false);
    const sc = this.config.scan;
    if (sc.spanNames) span.name = this.freeText(span.name);
    if (sc.statusMessages && span.status && span.status.message)
      span.status.message = this.freeText(span.status.message);
    this.finishMap(span.attributes, led, false);
    for (const ev of span.events) {
      led.reset();
      if (sc.eventNames) ev.name = this.freeText(ev.name);
      this.attributes(ev.attributes, led, true, false);
      this.finishMap(ev.attributes, led, false);
    }
    for (const link of span.links) this.attributeMap(link.attributes);
  }

  private logRecord(log: LogRecord): void {
    const led = this.ledger;
    led.reset();
    this.attributes(log.attributes, led, true, false);
    const body = log.body;
    if (body && this.config.scan.logBodies) {
      const bl = this.bodyLedger;
      bl.reset();
      let flags: number;
      if (body.kvlistValue) {
        // the Collector applies the key rules (and the allow-list) to structured bodies
        flags = this.attributes(body.kvlistValue.values, bl, true, true);
      } else {
        flags = this.value(body, 0, 'body', bl);
        if (flags & CHANGED) bl.masked.push('body');
      }
      if (flags & DROP) {
        log.body = undefined;
        bl.removed.push('body');
      }
      if (flags & RESTRICT) led.restricted.push(RESTRICTED_BODY);
      if (!bl.empty) {
        this.writeSummary(log.attributes, bl, true, !led.reserved);
        led.reserved = true; // finishMap below finds the detections map just written
      }
    }
    this.finishMap(log.attributes, led, false);
  }

  private attributeMap(attrs: KeyValue[]): void {
    const led = this.ledger;
    led.reset();
    this.attributes(attrs, led, true, false);
    this.finishMap(attrs, led, false);
  }

  // ---- attribute lists ------------------------------------------------------------------

  /**
   * Processes a KeyValue list in place (entries may be removed). `top`: allow-list applies and
   * restricted keys are recorded by name; `nestedAllowList`: the allow-list applies at every
   * depth (structured log bodies, as the Collector does). Answers RESTRICT if any entry is.
   */
  private attributes(
    list: KeyValue[],
    led: MapLedger,
    top: boolean,
    nestedAllowList: boolean,
    depth = 0,
  ): number {
    let w = 0;
    let out = 0;
    const allowListApplies = top || nestedAllowList;
    /** Names a renamed key must not take (built on the first rename only). */
    let taken: KeyNames | null = null;
    for (let i = 0; i < list.length; i++) {
      const kv = list[i];
      let key = kv.key;
      const info = this.keyInfo(key, allowListApplies);
      let decision = info.d;
      if (!(decision & K_SCANNED)) decision = this.classifyKey(key, info);
      let flags = 0;
      if (decision & K_DIRTY) {
        // the key itself is scanned (key rules below still act on the raw key's value)
        const r = this.text(key, depth, KEY_MODE, led);
        flags = this.lastFlags & ALLOWED;
        if (r === DROP) {
          if (top) led.removed.push(this.maskToken(this.lastDropRule));
          this.removedTotal++;
          out |= flags;
          continue;
        }
        if (r !== key) {
          taken ??= namesInUse(list, w, i);
          key = uniqueName(r, taken);
          kv.key = key;
          flags |= CHANGED;
        }
      }
      switch (decision & 7) {
        case K_IGNORE:
          led.ignored++;
          list[w++] = kv;
          continue;
        case K_RESERVED:
          led.reserved = true;
          // our own summary and marker: no key rules (their keys name detectors), but a string
          // a client put there is still scanned
          if (this.reservedValue(kv.value, depth, led) & CHANGED && top) led.masked.push(key);
          list[w++] = kv;
          continue;
        case K_REMOVE:
          this.count(this.allowListRule, 'drop', led);
          if (top) led.removed.push(key);
          this.removedTotal++;
          continue;
        case K_BLOCKED:
          flags |= this.wholeValue(kv.value, decision >> K_RULE_SHIFT, led, depth, key);
          break;
        case K_SECRET:
          flags |= this.wholeValue(kv.value, this.secretRule, led, depth, key);
          break;
        case K_CONTENT: {
          const spec = this.rules[this.contentRule].spec;
          if (spec.action === 'restrict') {
            // a second pass finds it marked already: not a new restriction
            if (!top || !isMarkedRestricted(list, key))
              this.count(this.contentRule, 'restrict', led);
            flags |= RESTRICT | this.value(kv.value, depth, key, led);
          } else flags |= this.wholeValue(kv.value, this.contentRule, led, depth, key);
          break;
        }
        default: {
          const v = kv.value;
          const sv = v.stringValue;
          if (v.kvlistValue && nestedAllowList) {
            flags |= this.attributes(v.kvlistValue.values, led, false, true, depth + 1);
          } else if (sv === undefined || sv !== info.clean) {
            flags |= this.value(v, depth, key, led);
            // the key's last clean value: attribute values repeat per key (a run's ids, the
            // model, the route), and comparing costs less than hashing for the clean cache
            if (sv !== undefined && this.lastClean) info.clean = sv;
          }
        }
      }
      if (flags & DROP) {
        if (top) led.removed.push(key);
        this.removedTotal++;
        continue;
      }
      if (flags & CHANGED && top) led.masked.push(key);
      if (flags & ALLOWED && top) led.allowed.push(key);
      if (flags & RESTRICT && top) led.restricted.push(key);
      out |= flags & (CHANGED | RESTRICT | ALLOWED);
      list[w++] = kv;
    }
    if (w !== list.length) {
      list.length = w;
      out |= CHANGED;
    }
    return out;
  }

  private keyDecision(key: string, allowListApplies: boolean): number {
    return this.keyInfo(key, allowListApplies).d;
  }

  private keyInfo(key: string, allowListApplies: boolean): KeyInfo {
    const cache = allowListApplies ? this.keyCacheTop : this.keyCacheNested;
    const info = cache.get(key);
    return info !== undefined ? info : this.decideKey(key, allowListApplies, cache);
  }

  /**
   * keyDecision's cache miss. Apart from it because its callbacks capture `key`: V8 would
   * allocate a context for `key` on every call of the function that holds them (~40 bytes per
   * attribute), hits included.
   */
  private decideKey(key: string, allowListApplies: boolean, cache: Map<string, KeyInfo>): KeyInfo {
    let d: number;
    if (allowListApplies && RESERVED_KEYS.has(key)) d = K_RESERVED;
    else if (this.ignoredKeys.has(key) || this.ignoredKeyPatterns.some((r) => r.test(key)))
      d = K_IGNORE;
    else if (
      allowListApplies &&
      this.allowList &&
      !this.allowList.has(key) &&
      !RESERVED_KEYS.has(key)
    )
      d = K_REMOVE;
    else {
      let rule = this.blockedExact.get(key) ?? -1;
      if (rule < 0)
        for (const b of this.blockedPatterns)
          if (b.re.test(key)) {
            rule = b.rule;
            break;
          }
      if (rule >= 0) d = K_BLOCKED | (rule << K_RULE_SHIFT);
      else if (this.contentExact.has(key) || this.contentPrefixes.some((p) => key.startsWith(p)))
        d = K_CONTENT;
      else if (this.secretRule >= 0 && SECRET_KEY_NAME.test(key)) d = K_SECRET;
      else d = K_NORMAL;
    }
    if (cache.size >= 4096) cache.clear();
    const info = new KeyInfo(d);
    cache.set(key, info);
    return info;
  }

  /**
   * Adds the key-scan bits to a cached key decision: K_DIRTY when the key could hold a detection
   * (the prefilter and tenant patterns find one, or it looks like JSON; always in reference mode).
   * Done once per key and policy, so a clean key costs a bit test per attribute afterwards.
   * Ignored and reserved keys are never scanned, nor keys the allow-list removes (fail closed:
   * removed unscanned). Only called between attribute entries (it uses the scanner's state).
   */
  private classifyKey(key: string, info: KeyInfo): number {
    const kind = info.d & 7;
    let d = info.d | K_SCANNED;
    if (kind !== K_IGNORE && kind !== K_RESERVED && kind !== K_REMOVE && key.length >= 3) {
      if (this.referenceScan || (this.config.scan.jsonInStrings && looksLikeJson(key)))
        d |= K_DIRTY;
      else {
        this.scanText(key, this.keyMatches);
        if (this.keyMatches.count > 0) d |= K_DIRTY;
      }
    }
    info.d = d;
    return d;
  }

  // ---- values ---------------------------------------------------------------------------

  /** Scans a value: strings (and JSON in them), arrays and maps. */
  private value(v: AnyValue, depth: number, key: string, led: MapLedger): number {
    if (v.stringValue !== undefined) {
      const r = this.text(v.stringValue, depth, 0, led);
      if (r === DROP) return DROP;
      if (typeof r === 'string') {
        if (r !== v.stringValue) {
          v.stringValue = r;
          return CHANGED | this.lastFlags;
        }
        return this.lastFlags;
      }
      return 0;
    }
    if (depth >= this.config.scan.maxDepth && (v.arrayValue || v.kvlistValue)) {
      this.replaceWithString(v, this.maskToken('max_depth'));
      this.count(this.depthRule, 'mask', led);
      return CHANGED;
    }
    if (v.arrayValue) {
      const values = v.arrayValue.values;
      let w = 0;
      let out = 0;
      for (let i = 0; i < values.length; i++) {
        const f = this.value(values[i], depth + 1, key, led);
        if (f & DROP) {
          this.removedTotal++;
          out |= CHANGED;
          continue;
        }
        out |= f;
        values[w++] = values[i];
      }
      values.length = w;
      return out;
    }
    if (v.kvlistValue) return this.attributes(v.kvlistValue.values, led, false, false, depth + 1);
    if (v.intValue !== undefined && this.config.scan.nonStringValues) {
      const s = v.intValue.toString();
      const r = this.text(s, depth, 0, led);
      if (r === DROP) return DROP;
      if (typeof r === 'string' && r !== s) {
        this.replaceWithString(v, r);
        return CHANGED | this.lastFlags;
      }
      return this.lastFlags;
    }
    return 0;
  }

  private reservedValue(v: AnyValue, depth: number, led: MapLedger): number {
    if (v.stringValue !== undefined) return this.value(v, depth, '', led);
    let out = 0;
    if (depth < this.config.scan.maxDepth) {
      for (const c of v.arrayValue?.values ?? []) out |= this.reservedValue(c, depth + 1, led);
      const entries = v.kvlistValue?.values ?? [];
      let taken: KeyNames | null = null;
      for (let i = 0; i < entries.length; i++) {
        const kv = entries[i];
        // our detections map's keys name rules; a client's map there may hold anything: scanned,
        // and masked (never removed: nothing here is a client attribute to drop)
        const info = this.keyInfo(kv.key, false);
        let d = info.d;
        if (!(d & K_SCANNED)) d = this.classifyKey(kv.key, info);
        if (d & K_DIRTY) {
          const r = this.text(kv.key, depth + 1, KEY_MODE | RESTRICT_AS_MASK, led);
          if (typeof r === 'string' && r !== kv.key) {
            taken ??= namesInUse(entries, i, i);
            kv.key = uniqueName(r, taken);
            out |= CHANGED;
          }
        }
        out |= this.reservedValue(kv.value, depth + 1, led);
      }
    }
    return out & CHANGED;
  }

  /**
   * A key rule's action applied to the whole value, whatever its type. Truncate keeps a prefix
   * of the value, so the value is redacted like any other first (detectors, map keys): what
   * is kept never carries a detection — cutting first could also split a secret below its
   * detector's minimum length.
   */
  private wholeValue(
    v: AnyValue,
    rule: number,
    led: MapLedger,
    depth: number,
    key: string,
  ): number {
    // already a redaction token (a second pass): nothing left to redact, nothing to count
    if (v.stringValue !== undefined && isToken(v.stringValue)) return 0;
    const spec = this.rules[rule].spec;
    const name = this.rules[rule].name;
    this.count(rule, spec.action, led);
    switch (spec.action) {
      case 'drop':
        return DROP;
      case 'restrict':
        return RESTRICT;
      default: {
        let flags = 0;
        if (spec.action === 'truncate') {
          flags = this.value(v, depth, key, led);
          if (flags & DROP) return DROP;
        }
        const s = anyValueText(v);
        const out = this.applyToWhole(s, name, spec);
        this.replaceWithString(v, out);
        // a restricted detection inside the kept prefix restricts the whole attribute
        return CHANGED | (flags & RESTRICT);
      }
    }
  }

  private applyToWhole(s: string, name: string, spec: RedactionActionSpec): string {
    switch (spec.action) {
      case 'partial':
        return this.partialToken(name, s, spec.keepLast ?? 4);
      case 'hash':
        return this.hashToken(name, s);
      case 'truncate':
        return s.length <= (spec.maxLength ?? 0)
          ? s
          : s.slice(0, spec.maxLength ?? 0) + `[TRUNCATED:${name}]`;
      default:
        return this.maskToken(name);
    }
  }

  private replaceWithString(v: AnyValue, s: string): void {
    delete v.boolValue;
    delete v.intValue;
    delete v.doubleValue;
    delete v.arrayValue;
    delete v.kvlistValue;
    delete v.bytesValue;
    v.stringValue = s;
  }

  /** Span names, event names, status messages: a name stays, so drop/restrict mask. */
  private freeText(s: string): string {
    const r = this.text(s, 0, RESTRICT_AS_MASK, this.ledger);
    return typeof r === 'string' ? r : this.maskToken('max_depth');
  }

  // ---- strings --------------------------------------------------------------------------

  /** RESTRICT and similar found while scanning the last string. */
  private lastFlags = 0;
  /**
   * The last text() call found its string clean, as the clean cache holds it: at most
   * CLEAN_CACHE_MAX_LENGTH characters, not JSON, no detection (so it may be remembered as such).
   */
  private lastClean = false;

  /** A JSON answer of text(): the walk's inner text() calls may have left lastClean set. */
  private notClean<T>(answer: T): T {
    this.lastClean = false;
    return answer;
  }

  /**
   * Redacts a string. Answers the new string (same reference when unchanged) or DROP.
   * `mode & RESTRICT_AS_MASK`: restrict and drop become mask (free text has no key to mark).
   */
  private text(s: string, depth: number, mode: number, led?: MapLedger): string | typeof DROP {
    this.lastFlags = 0;
    this.lastClean = false;
    if (s.length < 3) return s;
    const cacheable = s.length <= CLEAN_CACHE_MAX_LENGTH && !this.referenceScan;
    let slot = -1;
    if (cacheable) {
      slot = recentSlot(s);
      if (this.recentClean[slot] === s || this.cleanCache.has(s)) {
        this.recentClean[slot] = s;
        this.lastClean = true;
        return s;
      }
    }
    const json = this.config.scan.jsonInStrings && looksLikeJson(s);
    // JSON that will be parsed whatever the raw text holds (escapes, reference mode): parse first,
    // and scan the raw text only if it is not JSON after all
    const parseFirst = json && (this.referenceScan || s.indexOf('\\') !== -1);
    if (parseFirst) {
      const parsed = this.json(s, depth, mode, led);
      if (parsed !== undefined) return this.notClean(parsed);
    }
    const m = this.matches;
    this.scanText(s, m);
    if (json && !parseFirst && (m.count > 0 || !this.jsonUnchanged(s, depth))) {
      if (this.custom.length) normalize(m);
      // detections that redacting the raw text handles as parsing would: plain text below
      if (m.count === 0 || !this.spliceable(s, depth, m, mode)) {
        // not JSON after all (JSON.parse threw before any walk touched `m`): plain text below
        const parsed = this.json(s, depth, mode, led);
        if (parsed !== undefined) return this.notClean(parsed);
      }
    }
    if (m.count === 0) {
      if (cacheable && !json) {
        if (this.cleanCache.size >= CLEAN_CACHE_SIZE) this.cleanCache.clear();
        this.cleanCache.add(s);
        this.recentClean[slot] = s;
        this.lastClean = true;
      }
      return s;
    }
    if (this.custom.length) normalize(m);
    return this.apply(s, m, mode, led);
  }

  /** Built-in detectors and tenant patterns over `s`, into `m` (reset first). */
  private scanText(s: string, m: Matches): void {
    m.reset();
    if (this.referenceScan) this.builtin.scanFull(s, m);
    else this.builtin.scan(s, m);
    for (let c = 0; c < this.custom.length; c++) {
      const re = this.custom[c];
      const gate = this.customGates[c];
      if (gate !== '' && !this.referenceScan && s.indexOf(gate) === -1) continue;
      const chars = this.customChars[c];
      if (chars !== null && !this.referenceScan) {
        this.windowed(s, re, gate, chars, this.customBase + c, m);
        continue;
      }
      if (!re.test(s)) continue;
      const mt = re.matcher(s);
      while (mt.find())
        if (mt.end() > mt.start()) m.push(this.customBase + c, mt.start(), mt.end());
    }
  }

  /**
   * A tenant pattern's matches in `s`, found by running it only on the maximal run of the
   * characters its matches can hold around each occurrence of its gate (every match holds the
   * gate and only such characters, so it lies in one such run; the pattern has no assertions,
   * so it finds there what it finds there in the whole string). Same matches as a whole-string
   * scan; a property test holds the two together.
   */
  private windowed(
    s: string,
    re: RE2JS,
    gate: string,
    chars: PatternChars,
    kind: number,
    m: Matches,
  ): void {
    const { ascii, nonAscii } = chars;
    const len = s.length;
    let g = s.indexOf(gate);
    while (g !== -1) {
      let a = g;
      while (a > 0) {
        const ch = s.charCodeAt(a - 1);
        if (ch < 128 ? ascii[ch] === 0 : !nonAscii) break;
        a--;
      }
      let b = g + gate.length;
      while (b < len) {
        const ch = s.charCodeAt(b);
        if (ch < 128 ? ascii[ch] === 0 : !nonAscii) break;
        b++;
      }
      const w = a === 0 && b === len ? s : s.slice(a, b);
      const mt = re.matcher(w);
      while (mt.find()) if (mt.end() > mt.start()) m.push(kind, a + mt.start(), a + mt.end());
      g = s.indexOf(gate, b);
    }
  }

  /**
   * Would parsing and walking the JSON text `s` leave it unchanged? Answers true only when that
   * is certain, from facts the prefilter gathered on its pass over the raw text (prefilter.ts);
   * called after that pass found no detection (so the plain-text reading of `s`, if it is not
   * JSON after all, is unchanged too). The argument, condition by condition:
   * - no backslash: then each string token (key or value) is its raw text between two quotes,
   *   and a '"' around it looks to every prefilter check like the end of the string (no check
   *   counts '"' as a word, digit, key or URL character). So a candidate in a token on its own
   *   is a candidate at the same place in the raw text. An escape (`\n` before a token, `\t`
   *   after `Bearer`, `\u0040`) breaks that, so any backslash means: parse. (Decoding the
   *   escapes and running the prefilter again instead was measured: no faster than parsing.)
   * - no candidate in the raw text other than those of the JSON syntax itself (`"key":`): so no
   *   token has one, and no detector can match in any;
   * - tenant patterns found nothing in the raw text and have no anchors: a match in a token is
   *   the same characters in the raw text (`\b` sees '"' as a non-word character either way);
   * - no key that a key rule (blocked, credential name) acts on: every key is followed by ':',
   *   which the prefilter visits, so it lists every key;
   * - fewer levels (prefilter.ts: '{' and '[', one more when it opens a string's content, which
   *   is parsed one level deeper) than the depth at which content is masked whole;
   * - no number that JSON.parse turns into other digits (16+ digits, exponents): numbers are
   *   scanned as String(n).
   */
  private jsonUnchanged(s: string, depth: number): boolean {
    return (
      this.builtin.candidates === this.builtin.finder.structural && this.jsonReadable(s, depth)
    );
  }

  /**
   * The conditions jsonUnchanged and spliceable share, on the prefilter's facts about the raw
   * JSON text `s`: built-in detectors and no anchored tenant pattern, no number JSON.parse would
   * rewrite, fewer levels than the masking depth, and no key a key rule acts on. No backslash
   * too: text() calls both only then (otherwise it parses first), so it is not looked for again.
   */
  private jsonReadable(s: string, depth: number): boolean {
    const b = this.builtin;
    if (b.empty || this.anchoredCustom) return false;
    const f = b.finder;
    // the nesting depth is at most the number of levels; the root sits at depth + 1
    if (f.numberHazard || f.levels >= this.config.scan.maxDepth - depth) return false;
    for (let k = 0; k < f.keyCount; k++) {
      const close = f.keyQuotes[k];
      // the opening quote: where the pass saw it, else by hand (String#lastIndexOf is a runtime
      // call, and keys are short)
      let open = f.keyOpens[k];
      if (open < 0) for (open = close - 1; open >= 0 && s.charCodeAt(open) !== 34;) open--;
      if (!this.inertJsonKey(s, open + 1, close)) return false;
    }
    return true;
  }

  /**
   * May the detections `m` in the JSON text `s` be redacted in the raw text, as plain text is,
   * instead of parsing, redacting each string and serializing again? Called after the scan of
   * the raw text (as jsonUnchanged) found detections; answers true only when the result is the
   * same up to the JSON's own formatting (kept as sent instead of re-serialized: equal for
   * JSON.stringify's output, as GenAI instrumentations send). The argument:
   * - jsonUnchanged's conditions other than "no candidates": no backslash (each string token is
   *   its raw text, and '"' bounds every detector as the ends of the string do), no key a key
   *   rule acts on, no number JSON.parse would rewrite, fewer levels than the masking depth;
   *   no anchored tenant pattern, and no allowedValues (their matches would see other text);
   * - each detection lies inside one string token (an odd number of quotes before it, none in
   *   it) that is a value, not a key (no ':' after its closing quote), and that does not itself
   *   look like JSON (a string holding '[…]' is parsed again one level down);
   * - each detection's action is local to its characters: mask, partial, hash or restrict
   *   (drop and truncate act on the whole string, which differs from the string token).
   * If `s` is not JSON at all, the raw text is what parsing would have fallen back to anyway.
   */
  private spliceable(s: string, depth: number, m: Matches, mode: number): boolean {
    if (this.allowedValues.length || !this.jsonReadable(s, depth)) return false;
    let quotes = 0;
    let at = 0;
    let open = -1;
    for (let i = 0; i < m.count; i++) {
      const action = this.rules[m.kinds[i]].spec.action;
      if (action === 'truncate' || (action === 'drop' && !(mode & RESTRICT_AS_MASK))) return false;
      const start = m.starts[i];
      for (; at < start; at++)
        if (s.charCodeAt(at) === 34) {
          quotes++;
          open = at;
        }
      if ((quotes & 1) === 0) return false; // outside every string token
      const close = s.indexOf('"', start);
      if (close < m.ends[i]) return false; // spans a quote, or no closing quote
      let j = close + 1;
      let c = s.charCodeAt(j);
      while (c === 32 || c === 9 || c === 10 || c === 13) c = s.charCodeAt(++j);
      if (c === 58) return false; // a key
      if (looksLikeJson(s.slice(open + 1, close))) return false;
    }
    return true;
  }

  /**
   * Is the JSON key `s[from, to)` one no key rule acts on (not blocked, not a credential name)?
   * The keys of JSON texts repeat (`role`, `content`, …): a small table of keys found inert
   * answers most by comparing in place, without slicing the key out and hashing it for the
   * key-decision cache. The answer depends only on the key and this compiled policy.
   */
  private inertJsonKey(s: string, from: number, to: number): boolean {
    const len = to - from;
    const slot =
      len > 0
        ? (len * 31 + s.charCodeAt(from) * 7 + s.charCodeAt(to - 1)) & (INERT_KEY_SLOTS - 1)
        : -1;
    if (slot >= 0) {
      const known = this.inertJsonKeys[slot];
      if (known.length === len && s.startsWith(known, from)) return true;
    }
    const key = s.slice(from, to);
    const kind = this.keyDecision(key, false) & 7;
    if (kind === K_BLOCKED || kind === K_SECRET) return false;
    if (slot >= 0) this.inertJsonKeys[slot] = key;
    return true;
  }

  private apply(s: string, m: Matches, mode: number, led?: MapLedger): string | typeof DROP {
    let out = '';
    let pos = 0;
    let flags = 0;
    for (let i = 0; i < m.count; i++) {
      const start = m.starts[i];
      const end = m.ends[i];
      const rule = this.rules[m.kinds[i]];
      if (rule.exemptible && this.allowedValues.length && this.exempt(s, start, end)) {
        flags |= ALLOWED;
        continue;
      }
      let action = rule.spec.action;
      if (mode & RESTRICT_AS_MASK && (action === 'drop' || action === 'restrict')) action = 'mask';
      // a key: the detection is the secret, so only mask, hash or drop (the entry) apply
      if (mode & KEY_MODE && action !== 'drop' && action !== 'hash') action = 'mask';
      this.count(m.kinds[i], action, led);
      if (action === 'drop') {
        this.lastFlags = 0;
        this.lastDropRule = rule.name;
        return DROP;
      }
      if (action === 'restrict') {
        flags |= RESTRICT;
        continue;
      }
      out += s.slice(pos, start);
      const text = s.slice(start, end);
      if (action === 'truncate') {
        this.lastFlags = flags;
        return out + `[TRUNCATED:${rule.name}]`;
      }
      out +=
        action === 'partial'
          ? this.partialToken(rule.name, text, rule.spec.keepLast ?? 4)
          : action === 'hash'
            ? this.hashToken(rule.name, text)
            : this.maskToken(rule.name);
      pos = end;
    }
    this.lastFlags = flags;
    if (pos === 0) return s;
    return out + s.slice(pos);
  }

  /** An allowedValues match covering the detection exempts it. */
  private exempt(s: string, start: number, end: number): boolean {
    for (const re of this.allowedValues) {
      const mt = re.matcher(s);
      while (mt.find()) {
        if (mt.start() > start) break;
        if (mt.end() >= end) return true;
      }
    }
    return false;
  }

  // ---- JSON inside strings --------------------------------------------------------------

  /** Answers the redacted JSON text, DROP, or undefined when `s` is not JSON. */
  private json(
    s: string,
    depth: number,
    mode: number,
    led?: MapLedger,
  ): string | typeof DROP | undefined {
    let doc: unknown;
    try {
      doc = JSON.parse(s);
    } catch {
      return undefined;
    }
    const box = { v: doc };
    let flags = 0;
    const f = this.jsonNode(box, 'v', depth + 1, mode, led);
    if (f & DROP) return DROP;
    flags |= f & ~CHANGED;
    this.lastFlags = flags;
    return f & CHANGED ? JSON.stringify(box.v) : s;
  }

  /** Walks `holder[k]`, replacing redacted leaves; answers CHANGED/DROP/RESTRICT flags. */
  private jsonNode(
    holder: Record<string, unknown> | unknown[],
    k: string | number,
    depth: number,
    mode: number,
    led?: MapLedger,
  ): number {
    const node = (holder as Record<string | number, unknown>)[k];
    if (typeof node === 'string') {
      const r = this.text(node, depth, mode, led);
      const flags = this.lastFlags;
      if (r === DROP) return DROP;
      if (r !== node) {
        (holder as Record<string | number, unknown>)[k] = r;
        return CHANGED | flags;
      }
      return flags;
    }
    if (typeof node === 'number') {
      if (!Number.isInteger(node) || Math.abs(node) < 1e6) return 0;
      const s = String(node);
      const r = this.text(s, depth, mode, led);
      if (r === DROP) return DROP;
      if (r !== s) {
        (holder as Record<string | number, unknown>)[k] = r;
        return CHANGED | this.lastFlags;
      }
      return this.lastFlags;
    }
    if (node === null || typeof node !== 'object') return 0;
    if (depth >= this.config.scan.maxDepth) {
      (holder as Record<string | number, unknown>)[k] = this.maskToken('max_depth');
      this.count(this.depthRule, 'mask', led);
      return CHANGED;
    }
    let out = 0;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const f = this.jsonNode(node, i, depth + 1, mode, led);
        if (f & DROP) {
          node.splice(i--, 1);
          out |= CHANGED;
        } else out |= f;
      }
      return out;
    }
    const obj = node as Record<string, unknown>;
    let renamed: Map<string, string> | null = null;
    for (const key of Object.keys(obj)) {
      const d = this.keyDecision(key, false);
      const kind = d & 7;
      if (kind === K_IGNORE) continue;
      // the key is text too (a secret used as a key); a key stays, so only mask or hash apply
      const newKey = this.text(key, depth, mode | RESTRICT_AS_MASK | KEY_MODE, led);
      if (newKey !== key) {
        out |= CHANGED | (this.lastFlags & ALLOWED);
        (renamed ??= new Map()).set(key, typeof newKey === 'string' ? newKey : MAX_DEPTH_KEY);
      }
      if (kind === K_BLOCKED || kind === K_SECRET) {
        const rule = kind === K_BLOCKED ? d >> K_RULE_SHIFT : this.secretRule;
        let action = this.rules[rule].spec.action;
        if (mode & RESTRICT_AS_MASK && (action === 'drop' || action === 'restrict'))
          action = 'mask';
        const current = obj[key];
        if (typeof current === 'string' && isToken(current)) continue;
        this.count(rule, action, led);
        if (action === 'drop') {
          delete obj[key];
          out |= CHANGED;
        } else if (action === 'restrict') out |= RESTRICT;
        else {
          const v = obj[key];
          const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
          obj[key] = this.applyToWhole(s, this.rules[rule].name, {
            ...this.rules[rule].spec,
            action,
          });
          out |= CHANGED;
        }
        continue;
      }
      const f = this.jsonNode(obj, key, depth + 1, mode, led);
      if (f & DROP) {
        delete obj[key];
        out |= CHANGED;
      } else out |= f;
    }
    if (renamed) (holder as Record<string | number, unknown>)[k] = renameKeys(obj, renamed);
    return out;
  }

  // ---- tokens ---------------------------------------------------------------------------

  private maskToken(name: string): string {
    return `[REDACTED:${name}]`;
  }

  private partialToken(name: string, text: string, keep: number): string {
    // never reveal more than a quarter of the value
    if (keep === 0 || text.length < keep * 4) return `[REDACTED:${name}]`;
    return `[REDACTED:${name}:…${text.slice(text.length - keep)}]`;
  }

  private hashToken(name: string, text: string): string {
    const h = createHmac('sha256', this.hmacKey).update(text, 'utf8').digest('hex').slice(0, 32);
    return `[HASH:${name}:${h}]`;
  }

  // ---- counting and summaries -----------------------------------------------------------

  private newLedger(): MapLedger {
    const l = new MapLedger(this.rules.length * NA);
    this.ledgers.push(l);
    return l;
  }

  private count(rule: number, action: RedactionAction, led?: MapLedger): void {
    const slot = rule * NA + ACTION_INDEX[action];
    this.counts[slot]++;
    if (action === 'restrict') this.restrictedTotal++;
    if (led) {
      if (led.perRule[slot]++ === 0) led.touched.push(slot);
    }
  }

  private begin(): void {
    this.counts.fill(0);
    this.removedTotal = 0;
    this.restrictedTotal = 0;
  }

  private end(): RedactionResult {
    const counts: RedactionCounts = {};
    let total = 0;
    for (let slot = 0; slot < this.counts.length; slot++) {
      const n = this.counts[slot];
      if (n === 0) continue;
      const rule = this.rules[Math.floor(slot / NA)].name;
      const action = REDACTION_ACTIONS[slot % NA];
      const c = (counts[rule] ??= {});
      c[action] = (c[action] ?? 0) + n;
      total += n;
    }
    return { counts, total, removed: this.removedTotal, restricted: this.restrictedTotal };
  }

  private finishMap(attrs: KeyValue[], led: MapLedger, _body: boolean): void {
    if (led.restricted.length) markRestricted(attrs, led.restricted, !led.reserved);
    if (this.config.summary !== 'silent' && !led.empty)
      this.writeSummary(attrs, led, false, !led.reserved);
  }

  /** `fresh`: `attrs` holds none of our own attributes yet (they are appended, not looked up). */
  private writeSummary(attrs: KeyValue[], led: MapLedger, body: boolean, fresh: boolean): void {
    const A = SUMMARY_ATTRIBUTES;
    if (this.config.summary === 'silent') return;
    const debug = this.config.summary === 'debug';
    putSummary(
      attrs,
      debug,
      body ? A.bodyRedactedKeys : A.redactedKeys,
      body ? A.bodyRedactedCount : A.redactedCount,
      led.removed,
      led.removed.length,
      fresh,
    );
    putSummary(
      attrs,
      debug,
      body ? A.bodyMaskedKeys : A.maskedKeys,
      body ? A.bodyMaskedCount : A.maskedCount,
      led.masked,
      led.masked.length,
      fresh,
    );
    putSummary(
      attrs,
      debug,
      body ? A.bodyAllowedKeys : A.allowedKeys,
      body ? A.bodyAllowedCount : A.allowedCount,
      led.allowed,
      led.allowed.length,
      fresh,
    );
    putSummary(
      attrs,
      debug,
      null,
      body ? A.bodyIgnoredCount : A.ignoredCount,
      null,
      led.ignored,
      fresh,
    );
    if (led.touched.length) {
      const det = fresh ? undefined : attrs[indexOfKey(attrs, A.detections)]?.value;
      if (!det || !det.kvlistValue) {
        // a new map: one entry per touched slot, each slot once
        const values: KeyValue[] = [];
        for (const slot of led.touched)
          values.push({
            key: this.slotNames[slot],
            value: { intValue: bigint(led.perRule[slot]) },
          });
        attrs.push({ key: A.detections, value: { kvlistValue: { values } } });
      } else
        for (const slot of led.touched)
          addInt(det.kvlistValue.values, this.slotNames[slot], led.perRule[slot], false);
    }
  }
}

const RESTRICT_AS_MASK = 16;
/** text() on a map key: restrict, partial and truncate become mask (drop and hash stay). */
const KEY_MODE = 32;
/** Longest string the clean-string cache keeps, and how many it keeps before starting over. */
const CLEAN_CACHE_MAX_LENGTH = 64;
/** Slots of the recent clean strings table (a power of two). */
const RECENT_CLEAN_SLOTS = 256;

/** recentClean's slot for `s` (3 ≤ length ≤ CLEAN_CACHE_MAX_LENGTH). */
function recentSlot(s: string): number {
  const n = s.length;
  return (
    (n * 31 + s.charCodeAt(0) * 7 + s.charCodeAt(n >> 1) * 3 + s.charCodeAt(n - 1)) &
    (RECENT_CLEAN_SLOTS - 1)
  );
}

/** Slots of the inert JSON key table (a power of two). */
const INERT_KEY_SLOTS = 256;
const CLEAN_CACHE_SIZE = 1024;

function compileRe2(pattern: string, path: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (e: unknown) {
    throw new Error(`redaction.${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function isToken(s: string): boolean {
  return (
    (s.startsWith('[REDACTED:') || s.startsWith('[HASH:')) && s.endsWith(']') && !s.includes(' ')
  );
}

function looksLikeJson(s: string): boolean {
  let i = 0;
  while (
    i < s.length &&
    (s.charCodeAt(i) === 32 ||
      s.charCodeAt(i) === 10 ||
      s.charCodeAt(i) === 9 ||
      s.charCodeAt(i) === 13)
  )
    i++;
  const c = s.charCodeAt(i);
  return c === 123 /* { */ || c === 91; /* [ */
}

/**
 * A literal that every match of the RE2 `pattern` contains, or '' when none is evident; re2js is
 * slow (issue #4), and a tenant pattern then costs one native indexOf on strings without it.
 * `TCK-[0-9]{6}` needs `TCK-`; the Collector's usual email pattern
 * `[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}` needs `@` (and `.`), which most attribute
 * values lack. The pattern is read as a sequence of atoms at its top level: plain characters
 * and escaped punctuation are literals; classes, groups, `.`, anchors and `\d`-style escapes
 * are not, and end a run of literals. A literal repeated at least once (`b+`, `b{2,}`) ends the
 * run after itself; one that may be absent (`b?`, `b*`, `b{0,3}`) ends it before. The longest
 * run wins. Nothing is claimed ('') for a top-level `|` (an alternative need not contain it), a
 * case-insensitive flag, or any syntax this reading does not know — a wrong gate would hide a
 * match, a missing one only costs time.
 */
export function requiredLiteral(pattern: string): string {
  if (/\(\?[a-zA-Z]*i/.test(pattern)) return '';
  const runs: string[] = [];
  let run = '';
  const endRun = (): void => {
    if (run) runs.push(run);
    run = '';
  };
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const c = pattern[i];
    /** The atom's literal character, or null for anything else. */
    let literal: string | null = null;
    if (c === '|') return '';
    if (c === ')' || c === '*' || c === '+' || c === '?' || c === '{') return '';
    if (c === '\\') {
      const e = pattern[i + 1];
      if (e === undefined) return '';
      if (/[A-Za-z0-9]/.test(e)) {
        if (!'dDwWsSbBAz'.includes(e)) return ''; // \x41, \pL, \Q…\E, \n…: not read here
      } else literal = e;
      i += 2;
    } else if (c === '[') {
      i = classEnd(pattern, i);
      if (i < 0) return '';
    } else if (c === '(') {
      i = groupEnd(pattern, i);
      if (i < 0) return '';
    } else {
      // non-ASCII stays out of gates: a quantifier after a surrogate pair applies to both halves
      if (c !== '.' && c !== '^' && c !== '$' && c.charCodeAt(0) < 128) literal = c;
      i++;
    }
    // a quantifier after the atom: the fewest times it must appear
    let min = 1;
    let quantified = false;
    const q = pattern[i];
    if (q === '*' || q === '?') {
      min = 0;
      quantified = true;
      i++;
    } else if (q === '+') {
      quantified = true;
      i++;
    } else if (q === '{') {
      const m = /^\{(\d+)(,\d*)?\}/.exec(pattern.slice(i));
      if (!m) return '';
      min = Number(m[1]);
      quantified = true;
      i += m[0].length;
    }
    if (quantified && pattern[i] === '?') i++; // non-greedy
    if (literal === null || min === 0) {
      endRun();
      continue;
    }
    run += literal;
    if (quantified) endRun();
  }
  endRun();
  let best = '';
  for (const r of runs) if (r.length > best.length) best = r;
  return best;
}

/** The index after the character class opening at `open`, or -1 if it does not close. */
function classEnd(p: string, open: number): number {
  let i = open + 1;
  if (p[i] === '^') i++;
  if (p[i] === ']') i++; // a leading ']' is a member
  while (i < p.length) {
    const c = p[i];
    if (c === '\\') i += 2;
    else if (c === '[' && p[i + 1] === ':') {
      const close = p.indexOf(':]', i + 2);
      if (close < 0) return -1;
      i = close + 2;
    } else if (c === ']') return i + 1;
    else i++;
  }
  return -1;
}

/** The index after the group opening at `open` (classes and escapes inside skipped), or -1. */
function groupEnd(p: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < p.length) {
    const c = p[i];
    if (c === '\\') i += 2;
    else if (c === '[') {
      i = classEnd(p, i);
      if (i < 0) return -1;
    } else {
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return i + 1;
      i++;
    }
  }
  return -1;
}

/** A key text() answered DROP for (it cannot in mask mode; if it ever did, the key is masked). */
const MAX_DEPTH_KEY = '[REDACTED:max_depth]';

/**
 * A copy of `obj` with keys renamed, in the same order. Two keys redacted to the same token stay
 * two entries (`…]#2`); own properties are defined, so a `__proto__` key stays a plain key.
 */
function renameKeys(obj: Record<string, unknown>, renamed: Map<string, string>): object {
  const out: Record<string, unknown> = {};
  const has = (name: string): boolean => Object.prototype.hasOwnProperty.call(out, name);
  const nextSuffix = new Map<string, number>(); // linear however many keys collide
  for (const key of Object.keys(obj)) {
    const base = renamed.get(key) ?? key;
    let name = base;
    if (has(name)) {
      let n = nextSuffix.get(base) ?? 2;
      while (has(`${base}#${n}`)) n++;
      name = `${base}#${n}`;
      nextSuffix.set(base, n + 1);
    }
    Object.defineProperty(out, name, {
      value: obj[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * The names a renamed map key must avoid: the keys already written (`list[0..w)`, final) and all
 * keys still to come (`list[i..]`, raw — a later one may be renamed too, then its raw name is
 * reserved for nothing; harmless, and the same in every mode).
 */
function namesInUse(list: readonly KeyValue[], w: number, i: number): KeyNames {
  const taken = new Set<string>();
  for (let j = 0; j < w; j++) taken.add(list[j].key);
  for (let j = i; j < list.length; j++) taken.add(list[j].key);
  return { taken, next: new Map() };
}

interface KeyNames {
  taken: Set<string>;
  /** Per token, the next suffix to try: linear however many keys collide. */
  next: Map<string, number>;
}

/** `base`, or `base#2`, `base#3`… the first not taken; records it as taken. */
function uniqueName(base: string, names: KeyNames): string {
  let name = base;
  if (names.taken.has(name)) {
    let n = names.next.get(base) ?? 2;
    while (names.taken.has(`${base}#${n}`)) n++;
    name = `${base}#${n}`;
    names.next.set(base, n + 1);
  }
  names.taken.add(name);
  return name;
}

/** Sorts detections by start and drops overlaps (the earlier, then longer, wins). */
function normalize(m: Matches): void {
  if (m.count < 2) return;
  const idx = Array.from({ length: m.count }, (_, i) => i).sort(
    (a, b) => m.starts[a] - m.starts[b] || m.ends[b] - m.ends[a],
  );
  const s = idx.map((i) => m.starts[i]);
  const e = idx.map((i) => m.ends[i]);
  const k = idx.map((i) => m.kinds[i]);
  m.reset();
  let lastEnd = -1;
  for (let i = 0; i < s.length; i++) {
    if (s[i] < lastEnd) continue;
    m.push(k[i], s[i], e[i]);
    lastEnd = e[i];
  }
}

/** The text a whole-value action works on, for any AnyValue type. */
function anyValueText(v: AnyValue): string {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return v.intValue.toString();
  if (v.doubleValue !== undefined) return String(v.doubleValue);
  if (v.boolValue !== undefined) return String(v.boolValue);
  if (v.bytesValue !== undefined) return Buffer.from(v.bytesValue).toString('base64');
  if (v.arrayValue) return JSON.stringify(v.arrayValue.values.map(anyValueText));
  if (v.kvlistValue)
    return JSON.stringify(
      Object.fromEntries(v.kvlistValue.values.map((kv) => [kv.key, anyValueText(kv.value)])),
    );
  return '';
}

/** One summary count (and, at debug level, its key names); nothing when n is 0. */
function putSummary(
  attrs: KeyValue[],
  debug: boolean,
  keysAttr: string | null,
  countAttr: string,
  keys: string[] | null,
  n: number,
  fresh: boolean,
): void {
  if (n === 0) return;
  if (debug && keysAttr && keys) mergeKeys(attrs, keysAttr, keys);
  addInt(attrs, countAttr, n, fresh && !debug);
}

/** Index of the attribute named `key`, or -1 (a loop: no closure on the hot path). */
function indexOfKey(attrs: readonly KeyValue[], key: string): number {
  for (let i = 0; i < attrs.length; i++) if (attrs[i].key === key) return i;
  return -1;
}

/** Is `key` already listed in the item's restricted-keys marker (a second pass)? */
function isMarkedRestricted(attrs: readonly KeyValue[], key: string): boolean {
  const i = indexOfKey(attrs, RESTRICTED_KEYS_ATTRIBUTE);
  const values = i < 0 ? undefined : attrs[i].value.arrayValue?.values;
  if (!values) return false;
  for (const v of values) if (v.stringValue === key) return true;
  return false;
}

/** Adds n to the int attribute `key` (created if missing; `fresh`: known to be missing). */
function addInt(attrs: KeyValue[], key: string, n: number, fresh: boolean): void {
  const kv = fresh ? undefined : attrs[indexOfKey(attrs, key)];
  if (kv && kv.value.intValue !== undefined) kv.value.intValue += BigInt(n);
  else if (kv) kv.value = { intValue: bigint(n) };
  else attrs.push({ key, value: { intValue: bigint(n) } });
}

/** Counts as bigints; the small ones shared (a bigint is a heap object; they are immutable). */
const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 256 }, (_, i) => BigInt(i));
function bigint(n: number): bigint {
  return n < 256 ? SMALL_BIGINTS[n] : BigInt(n);
}

function mergeKeys(attrs: KeyValue[], key: string, keys: string[]): void {
  const kv = attrs.find((a) => a.key === key);
  const all = new Set(keys);
  if (kv?.value.stringValue) for (const k of kv.value.stringValue.split(',')) all.add(k);
  const joined = [...all].sort().join(',');
  if (kv) kv.value = { stringValue: joined };
  else attrs.push({ key, value: { stringValue: joined } });
}

/** Adds names to the item's restricted-keys marker (an array of strings), without duplicates. */
function markRestricted(attrs: KeyValue[], names: string[], fresh: boolean): void {
  const i = fresh ? -1 : indexOfKey(attrs, RESTRICTED_KEYS_ATTRIBUTE);
  let kv = i >= 0 ? attrs[i] : undefined;
  if (!kv || !kv.value.arrayValue) {
    kv = { key: RESTRICTED_KEYS_ATTRIBUTE, value: { arrayValue: { values: [] } } };
    if (i >= 0) attrs[i] = kv;
    else attrs.push(kv);
  }
  const values = kv.value.arrayValue!.values;
  for (const n of names) {
    let listed = false;
    for (const v of values) if (v.stringValue === n) listed = true;
    if (!listed) values.push({ stringValue: n });
  }
}

/** Compiles a validated config once per policy version. Throws on an invalid tenant pattern. */
export function compileRedaction(
  config: RedactionConfig,
  opts: CompileRedactionOptions,
): CompiledRedaction {
  return new Engine(config, opts);
}
