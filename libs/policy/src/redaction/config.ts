/**
 * The redaction stage's configuration: key rules (allow-list that fails closed, ignored keys,
 * blocked keys), built-in value detectors, tenant patterns (RE2 semantics), GenAI content keys,
 * and the action taken on each hit. A tenant policy holds one `RedactionConfig`; the worker
 * compiles it once per policy version (compile.ts).
 *
 * `validateRedactionConfig` reports every problem at once with the path of each field, and
 * fills defaults: a field left out takes the platform default (DEFAULT_REDACTION_CONFIG), so a
 * tenant that writes only `customPatterns` keeps every built-in detector — when in doubt,
 * redact. The Collector redaction processor's YAML is imported by collector.ts.
 */
import { RE2JS } from 're2js';
import { BUILTIN_DETECTORS, BuiltinDetectorId } from './detectors';

export const REDACTION_ACTIONS = [
  'mask',
  'partial',
  'hash',
  'drop',
  'truncate',
  'restrict',
] as const;

/**
 * - mask: replace with a token naming the detector, e.g. `[REDACTED:email]`;
 * - partial: like mask, but the last `keepLast` characters stay visible: `[REDACTED:payment_card:…4242]`;
 * - hash: `[HASH:email:<hex>]`, HMAC-SHA256 under the tenant's key (stable, so joins still work;
 *   deleting the key makes every hash unlinkable);
 * - drop: remove the attribute (or map entry / array element) holding the value;
 * - truncate: key rules keep the first `maxLength` characters; detections cut the string just
 *   before the first detection (never keeps part of a secret);
 * - restrict: keep the value, but mark its attribute restricted (see restricted.ts): stored
 *   encrypted, shown only to roles allowed to reveal, stripped for sinks not cleared for it.
 */
export type RedactionAction = (typeof REDACTION_ACTIONS)[number];

export const SUMMARY_LEVELS = ['debug', 'info', 'silent'] as const;
/** The Collector's levels: debug = counts and key names, info = counts, silent = nothing. */
export type SummaryLevel = (typeof SUMMARY_LEVELS)[number];

export interface RedactionActionSpec {
  /** What happens to the value. */
  action: RedactionAction;
  /** `partial` only: trailing characters left visible (default 4; 0–16). */
  keepLast?: number;
  /** `truncate` only: characters kept from the start of a key rule's value (default 0). */
  maxLength?: number;
}

export interface BlockedKeyRule {
  /** Names the rule in tokens and summaries (default `blocked_key`). */
  name?: string;
  /** Exact keys (attribute keys, nested map keys, JSON object keys). */
  keys?: string[];
  /** RE2 patterns, unanchored like the Collector's `blocked_key_patterns`. */
  patterns?: string[];
  /** Applied to the whole value of a matching key. */
  action: RedactionActionSpec;
}

export interface CustomPatternRule {
  /** Names the detector in tokens and summaries: `[REDACTED:<name>]` (letters, digits, _ . -). */
  name: string;
  /** RE2 syntax (linear time): no lookaround, no backreferences. */
  pattern: string;
  /** Applied to each match. */
  action: RedactionActionSpec;
}

export interface DetectorsConfig {
  /** Built-in detectors that run: `all`, or a list of ids (empty = none). */
  enabled: 'all' | BuiltinDetectorId[];
  /** Action for every enabled detector without an override. */
  action: RedactionActionSpec;
  /** Per-detector actions. */
  overrides: Partial<Record<BuiltinDetectorId, RedactionActionSpec>>;
}

export interface ContentKeysConfig {
  /** Keys holding prompts and completions; a trailing `*` makes a prefix (`gen_ai.prompt*`). */
  keys: string[];
  /** Applied to the whole value (default restrict); detectors still run inside it. */
  action: RedactionActionSpec;
}

export interface ScanConfig {
  /** Scan span names (drop/restrict fall back to mask: a span keeps a name). */
  spanNames: boolean;
  /** Scan span event names. */
  eventNames: boolean;
  /** Scan span status messages (error text often carries emails and tokens). */
  statusMessages: boolean;
  /** Scan log bodies (strings and structured). */
  logBodies: boolean;
  /** Scan int values as strings too (the Collector's `redact_all_types`): card numbers as ints. */
  nonStringValues: boolean;
  /** Parse strings that look like JSON and redact inside them, keeping the JSON valid. */
  jsonInStrings: boolean;
  /** Nesting limit for maps, arrays and JSON; deeper content is redacted whole (mask). */
  maxDepth: number;
}

export interface RedactionConfig {
  /**
   * Allow-list of top-level attribute keys (and structured log body keys). When present, only
   * listed (and ignored) keys survive: an empty list removes every attribute (fails closed).
   * Absent = every key allowed.
   */
  allowedKeys?: string[];
  /** Keys passed through untouched and unscanned. Use only for values known to be safe. */
  ignoredKeys: string[];
  /** RE2 patterns for ignored keys. */
  ignoredKeyPatterns: string[];
  /** Keys whose whole value gets an action, whatever it holds. */
  blockedKeys: BlockedKeyRule[];
  /** Built-in value detectors. */
  detectors: DetectorsConfig;
  /** Tenant value patterns (RE2 semantics). */
  customPatterns: CustomPatternRule[];
  /**
   * RE2 patterns of values that may pass: a PII or tenant-pattern detection is kept when a match
   * of one of these covers it (e.g. `.+@mycompany\.com`). Secrets are never exempted.
   */
  allowedValues: string[];
  /** GenAI content attributes (prompts, completions, tool arguments and results). */
  contentKeys: ContentKeysConfig;
  /** Where detectors look. */
  scan: ScanConfig;
  /** Summary attributes recorded on each redacted item (never the values). */
  summary: SummaryLevel;
}

/** GenAI semantic conventions (current and older forms) and OpenInference's content keys. */
export const GENAI_CONTENT_KEYS: readonly string[] = [
  'gen_ai.input.messages',
  'gen_ai.output.messages',
  'gen_ai.system_instructions',
  'gen_ai.tool.call.arguments',
  'gen_ai.tool.call.result',
  'gen_ai.prompt*',
  'gen_ai.completion*',
  'llm.input_messages*',
  'llm.output_messages*',
  'llm.prompts*',
  'input.value',
  'output.value',
];

/** Key names that hold credentials, whatever their value looks like. */
export const SENSITIVE_KEY_PATTERNS: readonly string[] = [
  '(?i)(^|[._-])(password|passwd|passphrase|pwd|secret|client_?secret|private_?key|api_?key|access_?key|secret_?key|credentials?)$',
  '(?i)(^|[._-])(access|refresh|id|auth|session|bearer|api|csrf|xsrf)_?token$',
  '(?i)^(http\\.request\\.header\\.)?(authorization|proxy-authorization|cookie|set-cookie|x-api-key)$',
];

/** The default platform policy's redaction: every detector masks, GenAI content is restricted. */
export const DEFAULT_REDACTION_CONFIG: RedactionConfig = {
  ignoredKeys: [],
  ignoredKeyPatterns: [],
  blockedKeys: [
    { name: 'sensitive_key', patterns: [...SENSITIVE_KEY_PATTERNS], action: { action: 'mask' } },
  ],
  detectors: { enabled: 'all', action: { action: 'mask' }, overrides: {} },
  customPatterns: [],
  allowedValues: [],
  contentKeys: { keys: [...GENAI_CONTENT_KEYS], action: { action: 'restrict' } },
  scan: {
    spanNames: true,
    eventNames: true,
    statusMessages: true,
    logBodies: true,
    nonStringValues: false,
    jsonInStrings: true,
    maxDepth: 32,
  },
  summary: 'info',
};

export interface RedactionProblem {
  path: string;
  message: string;
}

/**
 * Compiles `pattern` with RE2 semantics; answers null or the reason it is refused. RE2 refuses
 * lookaround and backreferences by construction: they need backtracking (not linear time).
 */
export function re2Problem(pattern: string): string | null {
  try {
    RE2JS.compile(pattern);
    return null;
  } catch (e: unknown) {
    const msg = e instanceof Error ? e.message : String(e);
    const backtracking = /\(\?[=!]|\(\?<[=!]|\\[1-9]|\\k</.test(pattern);
    return backtracking
      ? `needs backtracking (lookaround or backreference), which linear-time RE2 refuses: ${msg}`
      : `not a valid RE2 pattern: ${msg}`;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  readonly problems: RedactionProblem[] = [];
  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }
  unknownFields(obj: Record<string, unknown>, known: readonly string[], path: string): void {
    for (const k of Object.keys(obj))
      if (!known.includes(k)) this.add(`${path}.${k}`, 'unknown field');
  }
  stringList(v: unknown, path: string, re2 = false): string[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.add(path, 'must be a list of strings');
      return [];
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item !== 'string') return this.add(`${path}[${i}]`, 'must be a string');
      if (re2) {
        const p = re2Problem(item);
        if (p) return this.add(`${path}[${i}]`, p);
      }
      out.push(item);
    });
    return out;
  }
  bool(v: unknown, path: string, dflt: boolean): boolean {
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') this.add(path, 'must be true or false');
    return typeof v === 'boolean' ? v : dflt;
  }
  action(v: unknown, path: string, dflt?: RedactionActionSpec): RedactionActionSpec | undefined {
    if (v === undefined) {
      if (!dflt) this.add(path, 'required');
      return dflt;
    }
    const spec: unknown = typeof v === 'string' ? { action: v } : v;
    if (!isRecord(spec)) {
      this.add(path, `must be an action name (${REDACTION_ACTIONS.join(', ')}) or { action, … }`);
      return dflt;
    }
    this.unknownFields(spec, ['action', 'keepLast', 'maxLength'], path);
    const action = spec.action;
    if (typeof action !== 'string' || !(REDACTION_ACTIONS as readonly string[]).includes(action)) {
      this.add(`${path}.action`, `must be one of ${REDACTION_ACTIONS.join(', ')}`);
      return dflt;
    }
    const out: RedactionActionSpec = { action: action as RedactionAction };
    if (spec.keepLast !== undefined) {
      if (action !== 'partial') this.add(`${path}.keepLast`, 'only for action partial');
      else if (
        !Number.isInteger(spec.keepLast) ||
        (spec.keepLast as number) < 0 ||
        (spec.keepLast as number) > 16
      )
        this.add(`${path}.keepLast`, 'must be an integer from 0 to 16');
      else out.keepLast = spec.keepLast as number;
    }
    if (spec.maxLength !== undefined) {
      if (action !== 'truncate') this.add(`${path}.maxLength`, 'only for action truncate');
      else if (!Number.isInteger(spec.maxLength) || (spec.maxLength as number) < 0)
        this.add(`${path}.maxLength`, 'must be a non-negative integer');
      else out.maxLength = spec.maxLength as number;
    }
    return out;
  }
}

const TOP_FIELDS = [
  'allowedKeys',
  'ignoredKeys',
  'ignoredKeyPatterns',
  'blockedKeys',
  'detectors',
  'customPatterns',
  'allowedValues',
  'contentKeys',
  'scan',
  'summary',
] as const;

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Validates a parsed document section; every problem is reported, each with its path. */
export function validateRedactionConfig(
  raw: unknown,
  path = 'redaction',
): { config?: RedactionConfig; problems: RedactionProblem[] } {
  const c = new Checker();
  const d = DEFAULT_REDACTION_CONFIG;
  if (raw === undefined || raw === null) return { config: structuredClone(d), problems: [] };
  if (!isRecord(raw)) return { problems: [{ path, message: 'must be a map' }] };
  c.unknownFields(raw, TOP_FIELDS, path);

  let allowedKeys: string[] | undefined;
  if (raw.allowedKeys !== undefined && raw.allowedKeys !== null)
    allowedKeys = c.stringList(raw.allowedKeys, `${path}.allowedKeys`);

  const blockedKeys: BlockedKeyRule[] = [];
  if (raw.blockedKeys === undefined) blockedKeys.push(...structuredClone(d.blockedKeys));
  else if (!Array.isArray(raw.blockedKeys)) c.add(`${path}.blockedKeys`, 'must be a list');
  else
    raw.blockedKeys.forEach((r: unknown, i) => {
      const p = `${path}.blockedKeys[${i}]`;
      if (!isRecord(r)) return c.add(p, 'must be a map');
      c.unknownFields(r, ['name', 'keys', 'patterns', 'action'], p);
      if (r.name !== undefined && (typeof r.name !== 'string' || !NAME_RE.test(r.name)))
        c.add(`${p}.name`, 'must be 1–64 letters, digits, _ . -');
      const keys = c.stringList(r.keys, `${p}.keys`);
      const patterns = c.stringList(r.patterns, `${p}.patterns`, true);
      if (r.keys === undefined && r.patterns === undefined) c.add(p, 'needs keys or patterns');
      const action = c.action(r.action, `${p}.action`);
      if (action)
        blockedKeys.push({
          ...(typeof r.name === 'string' ? { name: r.name } : {}),
          keys,
          patterns,
          action,
        });
    });

  let detectors: DetectorsConfig = structuredClone(d.detectors);
  if (raw.detectors !== undefined) {
    const p = `${path}.detectors`;
    const r = raw.detectors;
    if (!isRecord(r)) c.add(p, 'must be a map');
    else {
      c.unknownFields(r, ['enabled', 'action', 'overrides'], p);
      let enabled: 'all' | BuiltinDetectorId[] = 'all';
      if (r.enabled !== undefined && r.enabled !== 'all') {
        enabled = [];
        const ids = c.stringList(r.enabled, `${p}.enabled`);
        ids.forEach((id, i) => {
          if ((BUILTIN_DETECTORS as readonly string[]).includes(id)) (enabled as string[]).push(id);
          else
            c.add(
              `${p}.enabled[${i}]`,
              `unknown detector "${id}" (known: ${BUILTIN_DETECTORS.join(', ')})`,
            );
        });
      }
      const action = c.action(r.action, `${p}.action`, d.detectors.action) ?? d.detectors.action;
      const overrides: DetectorsConfig['overrides'] = {};
      if (r.overrides !== undefined) {
        if (!isRecord(r.overrides)) c.add(`${p}.overrides`, 'must be a map of detector → action');
        else
          for (const [id, a] of Object.entries(r.overrides)) {
            if (!(BUILTIN_DETECTORS as readonly string[]).includes(id)) {
              c.add(`${p}.overrides.${id}`, 'unknown detector');
              continue;
            }
            const spec = c.action(a, `${p}.overrides.${id}`);
            if (spec) overrides[id as BuiltinDetectorId] = spec;
          }
      }
      detectors = { enabled, action, overrides };
    }
  }

  const customPatterns: CustomPatternRule[] = [];
  if (raw.customPatterns !== undefined) {
    if (!Array.isArray(raw.customPatterns)) c.add(`${path}.customPatterns`, 'must be a list');
    else {
      const seen = new Set<string>();
      raw.customPatterns.forEach((r: unknown, i) => {
        const p = `${path}.customPatterns[${i}]`;
        if (!isRecord(r)) return c.add(p, 'must be a map');
        c.unknownFields(r, ['name', 'pattern', 'action'], p);
        let ok = true;
        if (typeof r.name !== 'string' || !NAME_RE.test(r.name)) {
          c.add(`${p}.name`, 'required: 1–64 letters, digits, _ . -');
          ok = false;
        } else if (seen.has(r.name) || (BUILTIN_DETECTORS as readonly string[]).includes(r.name)) {
          c.add(`${p}.name`, `"${r.name}" is already used`);
          ok = false;
        } else seen.add(r.name);
        if (typeof r.pattern !== 'string' || r.pattern === '') {
          c.add(`${p}.pattern`, 'required: an RE2 pattern');
          ok = false;
        } else {
          const problem = re2Problem(r.pattern);
          if (problem) {
            c.add(`${p}.pattern`, problem);
            ok = false;
          }
        }
        const action = c.action(r.action, `${p}.action`, { action: 'mask' });
        if (ok && action)
          customPatterns.push({ name: r.name as string, pattern: r.pattern as string, action });
      });
    }
  }

  let contentKeys: ContentKeysConfig = structuredClone(d.contentKeys);
  if (raw.contentKeys !== undefined) {
    const p = `${path}.contentKeys`;
    const r = raw.contentKeys;
    if (!isRecord(r)) c.add(p, 'must be a map');
    else {
      c.unknownFields(r, ['keys', 'action'], p);
      contentKeys = {
        keys: r.keys === undefined ? [...d.contentKeys.keys] : c.stringList(r.keys, `${p}.keys`),
        action: c.action(r.action, `${p}.action`, d.contentKeys.action) ?? d.contentKeys.action,
      };
    }
  }

  const scan: ScanConfig = { ...d.scan };
  if (raw.scan !== undefined) {
    const p = `${path}.scan`;
    const r = raw.scan;
    if (!isRecord(r)) c.add(p, 'must be a map');
    else {
      const flags = [
        'spanNames',
        'eventNames',
        'statusMessages',
        'logBodies',
        'nonStringValues',
        'jsonInStrings',
      ] as const;
      c.unknownFields(r, [...flags, 'maxDepth'], p);
      for (const f of flags) scan[f] = c.bool(r[f], `${p}.${f}`, d.scan[f]);
      if (r.maxDepth !== undefined) {
        if (
          !Number.isInteger(r.maxDepth) ||
          (r.maxDepth as number) < 1 ||
          (r.maxDepth as number) > 256
        )
          c.add(`${p}.maxDepth`, 'must be an integer from 1 to 256');
        else scan.maxDepth = r.maxDepth as number;
      }
    }
  }

  let summary: SummaryLevel = d.summary;
  if (raw.summary !== undefined) {
    if (
      typeof raw.summary !== 'string' ||
      !(SUMMARY_LEVELS as readonly string[]).includes(raw.summary)
    )
      c.add(`${path}.summary`, `must be one of ${SUMMARY_LEVELS.join(', ')}`);
    else summary = raw.summary as SummaryLevel;
  }

  const config: RedactionConfig = {
    ...(allowedKeys !== undefined ? { allowedKeys } : {}),
    ignoredKeys: c.stringList(raw.ignoredKeys, `${path}.ignoredKeys`),
    ignoredKeyPatterns: c.stringList(raw.ignoredKeyPatterns, `${path}.ignoredKeyPatterns`, true),
    blockedKeys,
    detectors,
    customPatterns,
    allowedValues: c.stringList(raw.allowedValues, `${path}.allowedValues`, true),
    contentKeys,
    scan,
    summary,
  };
  return c.problems.length ? { problems: c.problems } : { config, problems: [] };
}
