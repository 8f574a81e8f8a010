/**
 * The tenant policy document: one versioned document holding every stage's configuration,
 *
 *   { version: 1, attributes: [...], redaction: {...},
 *     sampling: { head: {...}, tail: { decision_wait, num_traces, policies: [...] } },
 *     retention: {...}, routes: [...], span_metrics: { export_to: [...], interval } }
 *
 * written by tenants in JSON or YAML. `parsePolicy` parses and validates it in one go and
 * reports every problem at once, each with its path and, from the source text, its line (YAML
 * syntax errors and validation problems alike; JSON is located through the YAML parser, JSON
 * being YAML). A validated document is normalized: absent sections take the platform defaults
 * (so leaving `redaction` out keeps every detector on), which makes serialize → parse stable.
 *
 * Version policy: `version` is required and must be 1. A later version will get its own
 * validator and an upgrade function; an unknown version is refused, never guessed at.
 */
import { isMap, isSeq, LineCounter, parseDocument, stringify, type Document } from 'yaml';
import { type AttributesConfig, validateAttributesConfig } from '../attributes/config';
import {
  DEFAULT_REDACTION_CONFIG,
  type RedactionConfig,
  validateRedactionConfig,
} from '../redaction';
import {
  DEFAULT_RETENTION_CONFIG,
  type RetentionConfig,
  validateRetentionConfig,
} from '../retention/retention';
import { DEFAULT_ROUTES, type RoutesConfig, validateRoutesConfig } from '../routes/routes';
import { type SpanMetricsExportConfig, validateSpanMetricsConfig } from '../routes/span-metrics';
import { type SamplingConfig, validateSamplingConfig } from '../sampling/config';
import { type PolicyProblem, checkKeys, expectRecord, typeName } from './validate';

export const POLICY_SCHEMA_VERSION = 1;

/** A validated, normalized tenant policy. */
export interface PolicyDocument {
  /** Schema version of the document: 1. */
  version: 1;
  /** What this policy is for (free text, shown in the console). */
  description?: string;
  /** Attribute processors, applied in order (Collector attributes processor). */
  attributes: AttributesConfig;
  /** Redaction: key rules, detectors, tenant patterns, actions. */
  redaction: RedactionConfig;
  /** Head and tail sampling. */
  sampling: SamplingConfig;
  /** Retention classes and the rules that assign them. */
  retention: RetentionConfig;
  /** Which sinks receive what. */
  routes: RoutesConfig;
  /** Optional: span metrics exported to sinks as OTLP metrics (absent: not exported). */
  span_metrics?: SpanMetricsExportConfig;
}

export type PolicyFormat = 'json' | 'yaml';

export interface PolicyParseResult {
  /** The validated document, only when there are no problems. */
  policy?: PolicyDocument;
  problems: PolicyProblem[];
}

const TOP_KEYS = [
  'version',
  'description',
  'attributes',
  'redaction',
  'sampling',
  'retention',
  'routes',
  'span_metrics',
] as const;

/** Validates a parsed document (plain JS values); reports every problem at once. */
export function validatePolicy(raw: unknown): PolicyParseResult {
  const problems: PolicyProblem[] = [];
  const obj = expectRecord(raw, '', problems);
  if (!obj)
    return {
      problems: [{ path: '', message: `a policy document is a map, got ${typeName(raw)}` }],
    };
  checkKeys(obj, TOP_KEYS, '', problems);

  if (obj.version === undefined)
    problems.push({ path: 'version', message: `is required (${POLICY_SCHEMA_VERSION})` });
  else if (obj.version !== POLICY_SCHEMA_VERSION) {
    problems.push({
      path: 'version',
      message: `unsupported version ${JSON.stringify(obj.version)}: this Custodian reads version ${POLICY_SCHEMA_VERSION}`,
    });
  }
  if (obj.description !== undefined && typeof obj.description !== 'string') {
    problems.push({
      path: 'description',
      message: `expected a string, got ${typeName(obj.description)}`,
    });
  }

  const present = (v: unknown) => v !== undefined && v !== null;
  const attributes = present(obj.attributes)
    ? validateAttributesConfig(obj.attributes, 'attributes')
    : { config: [], problems: [] };
  // Absent = the platform default, validated like a written one so the result is normalized
  // the same way (serialize → parse gives the same document).
  let redaction = validateRedactionConfig(
    present(obj.redaction) ? obj.redaction : structuredClone(DEFAULT_REDACTION_CONFIG),
    'redaction',
  );
  // Once more on its own output: the redaction validator fills defaults in a form it then
  // normalizes further (e.g. `keys: []`); the fixpoint keeps serialize → parse stable.
  if (redaction.config) redaction = validateRedactionConfig(redaction.config, 'redaction');
  const sampling = present(obj.sampling)
    ? validateSamplingConfig(obj.sampling, 'sampling')
    : { config: {}, problems: [] };
  const retention = present(obj.retention)
    ? validateRetentionConfig(obj.retention, 'retention')
    : { config: structuredClone(DEFAULT_RETENTION_CONFIG), problems: [] };
  const routes = present(obj.routes)
    ? validateRoutesConfig(obj.routes, 'routes')
    : { config: structuredClone(DEFAULT_ROUTES), problems: [] };
  const spanMetrics = present(obj.span_metrics)
    ? validateSpanMetricsConfig(obj.span_metrics, 'span_metrics')
    : { problems: [] };
  problems.push(
    ...attributes.problems,
    ...redaction.problems,
    ...sampling.problems,
    ...retention.problems,
    ...routes.problems,
    ...spanMetrics.problems,
  );

  if (problems.length) return { problems };
  const policy: PolicyDocument = {
    version: POLICY_SCHEMA_VERSION,
    attributes: attributes.config!,
    redaction: redaction.config ?? structuredClone(DEFAULT_REDACTION_CONFIG),
    sampling: sampling.config!,
    retention: retention.config!,
    routes: routes.config!,
  };
  if (typeof obj.description === 'string') policy.description = obj.description;
  // Only when present, so documents without it normalize (and hash) exactly as before.
  if (spanMetrics.config) policy.span_metrics = spanMetrics.config;
  return { policy, problems };
}

/** Splits `sampling.tail.policies[2].name` into ['sampling','tail','policies',2,'name']. */
export function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    if (part === '') continue;
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1] !== '') out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** The 1-based line of the node at `path` (or of its nearest present ancestor). */
function lineOf(doc: Document, counter: LineCounter, path: string): number | undefined {
  const segs = pathSegments(path);
  for (let n = segs.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(segs.slice(0, n), true);
    if (node && typeof node === 'object' && 'range' in node) {
      const range = (node as { range?: [number, number, number] }).range;
      // For a map entry, point at the key rather than at its (possibly multi-line) value.
      if (n > 0) {
        const parent = n === 1 ? doc.contents : doc.getIn(segs.slice(0, n - 1), true);
        if (isMap(parent)) {
          const pair = parent.items.find((p) => {
            const k = p.key as { value?: unknown } | null;
            return k !== null && typeof k === 'object' && k.value === segs[n - 1];
          });
          const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
          if (keyRange) return counter.linePos(keyRange[0]).line;
        } else if (isSeq(parent) && range) return counter.linePos(range[0]).line;
      }
      if (range) return counter.linePos(range[0]).line;
    }
  }
  return undefined;
}

function parseYamlDocument(text: string): { doc: Document; counter: LineCounter } {
  const counter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: counter,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
  });
  return { doc, counter };
}

function jsonSyntaxProblem(text: string, err: unknown): PolicyProblem {
  const message = err instanceof Error ? err.message : String(err);
  const pos = /position (\d+)/.exec(message);
  const lineCol = /line (\d+) column (\d+)/.exec(message);
  let line: number | undefined;
  if (lineCol) line = Number(lineCol[1]);
  else if (pos) line = text.slice(0, Number(pos[1])).split('\n').length;
  return line === undefined
    ? { path: '', message: `invalid JSON: ${message}` }
    : { path: '', message: `invalid JSON: ${message}`, line };
}

/** Parses and validates a policy document from text. Never throws on bad input. */
export function parsePolicy(text: string, format: PolicyFormat): PolicyParseResult {
  let raw: unknown;
  if (format === 'json') {
    try {
      raw = JSON.parse(text);
    } catch (err: unknown) {
      return { problems: [jsonSyntaxProblem(text, err)] };
    }
  } else {
    const { doc, counter } = parseYamlDocument(text);
    if (doc.errors.length) {
      return {
        problems: doc.errors.map((e) => {
          const line = e.linePos?.[0]?.line ?? (e.pos ? counter.linePos(e.pos[0]).line : undefined);
          const msg = `invalid YAML: ${e.message.split('\n')[0]}`;
          return line === undefined ? { path: '', message: msg } : { path: '', message: msg, line };
        }),
      };
    }
    raw = doc.toJS({ maxAliasCount: 100 });
  }
  const result = validatePolicy(raw);
  if (result.problems.length) {
    // Locate each problem in the source (JSON is valid YAML, so one locator serves both).
    const { doc, counter } = parseYamlDocument(text);
    if (!doc.errors.length) {
      for (const p of result.problems) {
        const line = lineOf(doc, counter, p.path);
        if (line !== undefined) p.line = line;
      }
    }
  }
  return result;
}

/** Serializes a policy document (the inverse of parsePolicy for a normalized document). */
export function serializePolicy(policy: PolicyDocument, format: PolicyFormat): string {
  if (format === 'json') return JSON.stringify(policy, null, 2) + '\n';
  return stringify(policy);
}
