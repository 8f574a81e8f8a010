/**
 * Input checks of the trace API (issue #6 item 3, "traces"; item 5, "input validation with
 * clear messages"): ids in their OTLP hex form, a bounded time range with a default, page
 * sizes, the reveal reason. Pure, so every message is unit tested; each check returns every
 * problem at once with its path, as the rest of the admin API does.
 */

/** A search may cover at most this much time (the store keeps 30 days by default). */
export const MAX_TRACE_RANGE_DAYS = 31;
/** The window searched when `from` is not given: the last 24 hours before `to`. */
export const DEFAULT_TRACE_RANGE_HOURS = 24;
export const TRACE_PAGE_DEFAULT = 50;
export const TRACE_PAGE_MAX = 200;
/** A reveal's reason is kept in the audit log: long enough to mean something. */
export const REVEAL_REASON_MIN = 10;
export const REVEAL_REASON_MAX = 500;
/** Longest filter value or attribute key accepted (the store's search columns keep 512). */
export const MAX_TEXT = 512;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export const TRACE_ID = /^[0-9a-f]{32}$/;
export const SPAN_ID = /^[0-9a-f]{16}$/;

export function checkTraceId(value: string, path: string, out: string[]): string {
  const v = value.trim().toLowerCase();
  if (!TRACE_ID.test(v))
    out.push(`${path}: expected a trace id of 32 hexadecimal characters, got "${clip(value)}"`);
  else if (/^0+$/.test(v)) out.push(`${path}: the all-zero trace id is invalid`);
  return v;
}

export function checkSpanId(value: string, path: string, out: string[]): string {
  const v = value.trim().toLowerCase();
  if (!SPAN_ID.test(v))
    out.push(`${path}: expected a span id of 16 hexadecimal characters, got "${clip(value)}"`);
  else if (/^0+$/.test(v)) out.push(`${path}: the all-zero span id is invalid`);
  return v;
}

export interface TimeRange {
  from: Date;
  to: Date;
}

/**
 * `to` defaults to now, `from` to `defaultHours` before `to`; `from` must be before `to` and
 * the range at most `maxDays` long.
 */
export function checkRange(
  from: Date | null | undefined,
  to: Date | null | undefined,
  path: string,
  out: string[],
  now: number = Date.now(),
  opts: { maxDays?: number; defaultHours?: number } = {},
): TimeRange {
  const maxDays = opts.maxDays ?? MAX_TRACE_RANGE_DAYS;
  const defaultHours = opts.defaultHours ?? DEFAULT_TRACE_RANGE_HOURS;
  const prefix = path ? `${path}.` : '';
  const end = to ?? new Date(now);
  const start = from ?? new Date(end.getTime() - defaultHours * HOUR_MS);
  let ok = true;
  if (Number.isNaN(start.getTime())) {
    out.push(`${prefix}from: not a valid time`);
    ok = false;
  }
  if (Number.isNaN(end.getTime())) {
    out.push(`${prefix}to: not a valid time`);
    ok = false;
  }
  if (ok && start.getTime() >= end.getTime())
    out.push(`${prefix}from: must be before to (${end.toISOString()})`);
  else if (ok && end.getTime() - start.getTime() > maxDays * DAY_MS)
    out.push(
      `${prefix}from: the range may cover at most ${maxDays} days, got ${((end.getTime() - start.getTime()) / DAY_MS).toFixed(1)}`,
    );
  return { from: start, to: end };
}

export function checkPageSize(
  first: number | null | undefined,
  path: string,
  out: string[],
  max = TRACE_PAGE_MAX,
  fallback = TRACE_PAGE_DEFAULT,
): number {
  if (first === null || first === undefined) return fallback;
  if (!Number.isInteger(first) || first < 1 || first > max) {
    out.push(`${path}: expected 1..${max}, got ${first}`);
    return fallback;
  }
  return first;
}

/** An optional text filter: trimmed; empty means "no filter". */
export function checkText(
  value: string | null | undefined,
  path: string,
  out: string[],
): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value.length > MAX_TEXT) {
    out.push(`${path}: at most ${MAX_TEXT} characters, got ${value.length}`);
    return undefined;
  }
  return value === '' ? undefined : value;
}

export function checkDuration(
  value: number | null | undefined,
  path: string,
  out: string[],
): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0 || value > 31 * DAY_MS) {
    out.push(`${path}: expected milliseconds between 0 and ${31 * DAY_MS}, got ${value}`);
    return undefined;
  }
  return value;
}

export function checkReason(reason: string, path: string, out: string[]): string {
  const r = reason.trim();
  if (r.length < REVEAL_REASON_MIN)
    out.push(
      `${path}: say why you need the value, at least ${REVEAL_REASON_MIN} characters (it is kept in the audit log), got ${r.length}`,
    );
  else if (r.length > REVEAL_REASON_MAX)
    out.push(`${path}: at most ${REVEAL_REASON_MAX} characters, got ${r.length}`);
  return r;
}

/** A restricted key: `key`, `resource:key`, `scope:key`, `events[i]:key`, `links[i]:key`. */
export function checkRestrictedKey(key: string, path: string, out: string[]): string {
  if (key.length === 0)
    out.push(`${path}: is required (an attribute key listed in restrictedKeys)`);
  else if (key.length > MAX_TEXT) out.push(`${path}: at most ${MAX_TEXT} characters`);
  return key;
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
