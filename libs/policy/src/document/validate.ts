/**
 * The small toolkit every policy section validates with. A tenant fixes a policy faster when
 * it hears about every mistake at once, each with the path of the field (CONVENTIONS.md:
 * "validate() reports every problem at once, with the path of each field"), so readers here
 * never throw: they record a problem and return `undefined`, and the caller carries on.
 *
 * Paths use the document's own field names: `sampling.tail.policies[2].latency.threshold_ms`.
 */

/** One thing wrong with a policy document. */
export interface PolicyProblem {
  /** Where: dotted path with `[i]` for list items; '' for the document itself. */
  path: string;
  /** What is wrong, and where possible what is expected instead. */
  message: string;
  /** 1-based line in the source text, when the document was parsed from text. */
  line?: number;
}

/** The result of validating one section: the typed config when there were no problems. */
export interface Validated<T> {
  config?: T;
  problems: PolicyProblem[];
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a map' : `${typeof value} ${JSON.stringify(value)}`;
}

/** Reports fields the section does not know (typos must not be silently ignored). */
export function checkKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  problems: PolicyProblem[],
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      problems.push({
        path: joinPath(path, key),
        message: `unknown field "${key}" (expected one of: ${allowed.join(', ')})`,
      });
    }
  }
}

/** Requires a map at `path`; reports and returns undefined otherwise. */
export function expectRecord(
  value: unknown,
  path: string,
  problems: PolicyProblem[],
): Record<string, unknown> | undefined {
  if (isRecord(value)) return value;
  problems.push({ path, message: `expected a map, got ${typeName(value)}` });
  return undefined;
}

/** Requires a list at `path` (absent = empty unless required). */
export function readList(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  problems: PolicyProblem[],
  required = false,
): unknown[] | undefined {
  const value = obj[key];
  const at = joinPath(path, key);
  if (value === undefined || value === null) {
    if (required) problems.push({ path: at, message: 'is required' });
    return undefined;
  }
  if (!Array.isArray(value)) {
    problems.push({ path: at, message: `expected a list, got ${typeName(value)}` });
    return undefined;
  }
  return value;
}

export interface StringOptions {
  required?: boolean;
  nonEmpty?: boolean;
  oneOf?: readonly string[];
}

export function readString(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  problems: PolicyProblem[],
  opts: StringOptions = {},
): string | undefined {
  const value = obj[key];
  const at = joinPath(path, key);
  if (value === undefined || value === null) {
    if (opts.required) problems.push({ path: at, message: 'is required' });
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.push({ path: at, message: `expected a string, got ${typeName(value)}` });
    return undefined;
  }
  if ((opts.nonEmpty || opts.required) && value === '') {
    problems.push({ path: at, message: 'must not be empty' });
    return undefined;
  }
  if (opts.oneOf && !opts.oneOf.includes(value)) {
    problems.push({
      path: at,
      message: `"${value}" is not one of: ${opts.oneOf.join(', ')}`,
    });
    return undefined;
  }
  return value;
}

export interface NumberOptions {
  required?: boolean;
  integer?: boolean;
  min?: number;
  max?: number;
}

export function readNumber(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  problems: PolicyProblem[],
  opts: NumberOptions = {},
): number | undefined {
  const value = obj[key];
  const at = joinPath(path, key);
  if (value === undefined || value === null) {
    if (opts.required) problems.push({ path: at, message: 'is required' });
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.push({ path: at, message: `expected a number, got ${typeName(value)}` });
    return undefined;
  }
  if (opts.integer && !Number.isInteger(value)) {
    problems.push({ path: at, message: `expected an integer, got ${value}` });
    return undefined;
  }
  if (opts.min !== undefined && value < opts.min) {
    problems.push({ path: at, message: `must be >= ${opts.min}, got ${value}` });
    return undefined;
  }
  if (opts.max !== undefined && value > opts.max) {
    problems.push({ path: at, message: `must be <= ${opts.max}, got ${value}` });
    return undefined;
  }
  return value;
}

export function readBool(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  problems: PolicyProblem[],
): boolean | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') {
    problems.push({
      path: joinPath(path, key),
      message: `expected true or false, got ${typeName(value)}`,
    });
    return undefined;
  }
  return value;
}

export function readStringList(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  problems: PolicyProblem[],
  required = false,
): string[] | undefined {
  const list = readList(obj, key, path, problems, required);
  if (list === undefined) return undefined;
  const at = joinPath(path, key);
  const out: string[] = [];
  let ok = true;
  list.forEach((item, i) => {
    if (typeof item === 'string') out.push(item);
    else {
      ok = false;
      problems.push({ path: joinPath(at, i), message: `expected a string, got ${typeName(item)}` });
    }
  });
  if (required && list.length === 0) {
    problems.push({ path: at, message: 'must list at least one value' });
    return undefined;
  }
  return ok ? out : undefined;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/;

/**
 * Parses a Go duration ("30s", "1m30s", "250ms"), the form the Collector's YAML uses, into
 * milliseconds. Returns undefined when it is not one.
 */
export function parseDurationMs(text: string): number | undefined {
  let rest = text.trim();
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest !== '') {
    const m = DURATION.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}

export function readDurationMs(
  obj: Record<string, unknown>,
  key: string,
  path: string,
  problems: PolicyProblem[],
  opts: { required?: boolean; min?: number } = {},
): number | undefined {
  const value = obj[key];
  const at = joinPath(path, key);
  if (value === undefined || value === null) {
    if (opts.required) problems.push({ path: at, message: 'is required' });
    return undefined;
  }
  const ms = typeof value === 'string' ? parseDurationMs(value) : undefined;
  if (ms === undefined) {
    problems.push({
      path: at,
      message: `expected a duration such as "10s", "1m30s" or "500ms", got ${typeName(value)}`,
    });
    return undefined;
  }
  if (opts.min !== undefined && ms < opts.min) {
    problems.push({ path: at, message: `must be at least ${opts.min}ms, got ${value}` });
    return undefined;
  }
  return ms;
}
