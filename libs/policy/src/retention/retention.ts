/**
 * The `retention` section: rules that put each span or log record in a retention class with
 * a number of days (e.g. data carrying raw prompts 7 days, everything else 30). Rules are
 * evaluated in order and the first that matches wins; nothing matched = `default_class`.
 * Matching reuses the Collector's match properties (attribute presence or value, span name,
 * service, ...; see ../attributes/match.ts).
 *
 * The class travels with the data as two attributes, so the store can set `retain_until` per
 * row and every sink receives it: `custodian.retention.class` (string) and
 * `custodian.retention.days` (int). They overwrite whatever the tenant sent under those
 * keys: a tenant does not choose its own retention by attribute.
 */
import type { KeyValue, LogsData, Span, TracesData, InstrumentationScope } from '@custodian/otlp';
import {
  type PolicyProblem,
  type Validated,
  checkKeys,
  expectRecord,
  joinPath,
  readList,
  readNumber,
  readString,
} from '../document/validate';
import {
  compileMatcher,
  type Matcher,
  type MatchProperties,
  validateMatchProperties,
} from '../attributes/match';

export const RETENTION_CLASS_ATTRIBUTE = 'custodian.retention.class';
export const RETENTION_DAYS_ATTRIBUTE = 'custodian.retention.days';

/** Longest retention a class may have (10 years). */
export const MAX_RETENTION_DAYS = 3650;

export interface RetentionClassConfig {
  /** Days the data is kept, 1–3650. */
  days: number;
  /** What the class is for, shown in the console. */
  description?: string;
}

export interface RetentionRule {
  /** A name for reports. */
  name?: string;
  /** The class given to matching data. */
  class: string;
  /** Which spans or log records the rule takes. */
  match: MatchProperties;
}

/** The `retention` section. */
export interface RetentionConfig {
  /** Classes by name. */
  classes: Record<string, RetentionClassConfig>;
  /** The class of data no rule matched. */
  default_class: string;
  /** Rules, first match wins. */
  rules: RetentionRule[];
}

export const DEFAULT_RETENTION_CONFIG: RetentionConfig = {
  classes: { standard: { days: 30, description: 'Everything not matched by a rule' } },
  default_class: 'standard',
  rules: [],
};

const CLASS_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export function validateRetentionConfig(
  raw: unknown,
  path = 'retention',
): Validated<RetentionConfig> {
  const problems: PolicyProblem[] = [];
  const obj = expectRecord(raw, path, problems);
  if (!obj) return { problems };
  checkKeys(obj, ['classes', 'default_class', 'rules'], path, problems);
  const classes: Record<string, RetentionClassConfig> = {};
  const classesAt = joinPath(path, 'classes');
  if (obj.classes === undefined) problems.push({ path: classesAt, message: 'is required' });
  else {
    const c = expectRecord(obj.classes, classesAt, problems);
    if (c) {
      if (Object.keys(c).length === 0)
        problems.push({ path: classesAt, message: 'must define at least one class' });
      for (const [name, rawClass] of Object.entries(c)) {
        const at = joinPath(classesAt, name);
        if (!CLASS_NAME.test(name)) {
          problems.push({
            path: at,
            message: 'class names are lowercase letters, digits, "_", "." or "-" (at most 64)',
          });
        }
        const cls = expectRecord(rawClass, at, problems);
        if (!cls) continue;
        checkKeys(cls, ['days', 'description'], at, problems);
        const days = readNumber(cls, 'days', at, problems, {
          required: true,
          integer: true,
          min: 1,
          max: MAX_RETENTION_DAYS,
        });
        const description = readString(cls, 'description', at, problems);
        if (days !== undefined)
          classes[name] = description === undefined ? { days } : { days, description };
      }
    }
  }
  const known = (name: string) =>
    obj.classes !== null && typeof obj.classes === 'object' && name in (obj.classes as object);
  const def = readString(obj, 'default_class', path, problems, { required: true });
  if (def !== undefined && !known(def)) {
    problems.push({ path: joinPath(path, 'default_class'), message: `names no class "${def}"` });
  }
  const rules: RetentionRule[] = [];
  readList(obj, 'rules', path, problems)?.forEach((rawRule, i) => {
    const at = joinPath(joinPath(path, 'rules'), i);
    const r = expectRecord(rawRule, at, problems);
    if (!r) return;
    checkKeys(r, ['name', 'class', 'match'], at, problems);
    const name = readString(r, 'name', at, problems, { nonEmpty: true });
    const cls = readString(r, 'class', at, problems, { required: true });
    if (cls !== undefined && !known(cls))
      problems.push({ path: joinPath(at, 'class'), message: `names no class "${cls}"` });
    let match: MatchProperties | undefined;
    if (r.match === undefined)
      problems.push({ path: joinPath(at, 'match'), message: 'is required' });
    else match = validateMatchProperties(r.match, joinPath(at, 'match'), problems);
    if (cls !== undefined && match)
      rules.push(name === undefined ? { class: cls, match } : { name, class: cls, match });
  });
  if (problems.length || def === undefined) return { problems };
  return { config: { classes, default_class: def, rules }, problems };
}

/** A class as the data carries it. */
export interface RetentionClass {
  readonly name: string;
  readonly days: number;
}

interface CompiledClass extends RetentionClass {
  /** Shared, frozen attribute entries: written by reference, never mutated. */
  readonly classKv: KeyValue;
  readonly daysKv: KeyValue;
}

function compileClass(name: string, days: number): CompiledClass {
  const classKv = Object.freeze({
    key: RETENTION_CLASS_ATTRIBUTE,
    value: Object.freeze({ stringValue: name }),
  });
  const daysKv = Object.freeze({
    key: RETENTION_DAYS_ATTRIBUTE,
    value: Object.freeze({ intValue: BigInt(days) }),
  });
  return Object.freeze({ name, days, classKv, daysKv });
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

const NO_ATTRS: KeyValue[] = [];

/** The retention stage, compiled. */
export class CompiledRetention {
  private readonly rules: { matcher: Matcher; cls: CompiledClass }[];
  private readonly fallback: CompiledClass;

  constructor(config: RetentionConfig) {
    const classes = new Map(
      Object.entries(config.classes).map(([n, c]) => [n, compileClass(n, c.days)]),
    );
    this.fallback = classes.get(config.default_class)!;
    this.rules = config.rules.map((r) => ({
      matcher: compileMatcher(r.match),
      cls: classes.get(r.class)!,
    }));
  }

  private pick(
    resource: KeyValue[],
    scope: InstrumentationScope | undefined,
    span: Span | undefined,
    attrs: KeyValue[],
  ): CompiledClass {
    for (const r of this.rules) if (r.matcher(resource, scope, span, attrs)) return r.cls;
    return this.fallback;
  }

  /** The class of one span (or of a log record when `span` is undefined). */
  classify(
    resource: KeyValue[],
    scope: InstrumentationScope | undefined,
    span: Span | undefined,
    attrs: KeyValue[],
  ): RetentionClass {
    const c = this.pick(resource, scope, span, attrs);
    return { name: c.name, days: c.days };
  }

  /** Writes each span's class and days into its attributes. */
  applyToTraces(data: TracesData): void {
    for (const rs of data.resourceSpans) {
      const resource = rs.resource?.attributes ?? NO_ATTRS;
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          const c = this.pick(resource, ss.scope, span, span.attributes);
          setShared(span.attributes, c.classKv);
          setShared(span.attributes, c.daysKv);
        }
      }
    }
  }

  /** Writes each log record's class and days into its attributes. */
  applyToLogs(data: LogsData): void {
    for (const rl of data.resourceLogs) {
      const resource = rl.resource?.attributes ?? NO_ATTRS;
      for (const sl of rl.scopeLogs) {
        for (const rec of sl.logRecords) {
          const c = this.pick(resource, sl.scope, undefined, rec.attributes);
          setShared(rec.attributes, c.classKv);
          setShared(rec.attributes, c.daysKv);
        }
      }
    }
  }
}

export function compileRetention(config: RetentionConfig): CompiledRetention {
  return new CompiledRetention(config);
}
