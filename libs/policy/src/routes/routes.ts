/**
 * The `routes` section: which sinks receive what. Each route names a sink and selects data:
 *
 * - `select: all` (default) or `errors`: for traces, only traces with at least one span whose
 *   status is ERROR (the whole trace goes, so the failure keeps its context); for logs, records
 *   of severity ERROR or above (severity_number >= 17).
 * - `include` / `exclude`: match properties (service, span name, attributes, ...) filtering
 *   spans or log records one by one, after `select`.
 * - `signals`: traces, logs, metrics (default all three). Metrics are routed whole.
 * - `restricted_fields`: whether the sink is cleared to receive values the redaction stage
 *   marked restricted (default false: they are replaced before delivery).
 *
 * Routes are independent: data goes to every route that selects it (a fan-out, not a
 * first-match). A sink appears in at most one route, so nothing is delivered twice.
 */
import type {
  LogsData,
  MetricsData,
  ResourceLogs,
  ResourceSpans,
  ScopeLogs,
  ScopeSpans,
} from '@custodian/otlp';
import { StatusCode } from '@custodian/otlp';
import { traceIdHex } from '../sampling/trace-id';
import {
  type PolicyProblem,
  type Validated,
  checkKeys,
  expectRecord,
  joinPath,
  readBool,
  readString,
  readStringList,
} from '../document/validate';
import {
  compileIncludeExclude,
  type Matcher,
  type MatchProperties,
  validateMatchProperties,
} from '../attributes/match';

export const ROUTE_SIGNALS = ['traces', 'logs', 'metrics'] as const;
export type RouteSignal = (typeof ROUTE_SIGNALS)[number];

/** Severity number of ERROR in the OTel log data model. */
export const SEVERITY_ERROR = 17;

/** One route. */
export interface RouteConfig {
  /** The sink's name, as configured for the tenant. */
  sink: string;
  /** `all` (default) or `errors`. */
  select?: 'all' | 'errors';
  /** Signals the sink receives; default all. */
  signals?: RouteSignal[];
  /** Only spans/log records matching these properties. */
  include?: MatchProperties;
  /** Never spans/log records matching these properties. */
  exclude?: MatchProperties;
  /** Cleared for restricted values (default false). */
  restricted_fields?: boolean;
}

export type RoutesConfig = RouteConfig[];

/** By default everything goes to Custodian's own store, which keeps restricted values encrypted. */
export const DEFAULT_ROUTES: RoutesConfig = [
  { sink: 'store', select: 'all', restricted_fields: true },
];

const SINK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function validateRoutesConfig(raw: unknown, path = 'routes'): Validated<RoutesConfig> {
  const problems: PolicyProblem[] = [];
  if (!Array.isArray(raw)) {
    problems.push({ path, message: 'expected a list of routes' });
    return { problems };
  }
  const sinks = new Set<string>();
  const config: RoutesConfig = [];
  raw.forEach((item, i) => {
    const at = joinPath(path, i);
    const obj = expectRecord(item, at, problems);
    if (!obj) return;
    const before = problems.length;
    checkKeys(
      obj,
      ['sink', 'select', 'signals', 'include', 'exclude', 'restricted_fields'],
      at,
      problems,
    );
    const sink = readString(obj, 'sink', at, problems, { required: true });
    if (sink !== undefined) {
      if (!SINK_NAME.test(sink))
        problems.push({
          path: joinPath(at, 'sink'),
          message: 'sink names are letters, digits, "_", "." or "-" (at most 64)',
        });
      if (sinks.has(sink))
        problems.push({
          path: joinPath(at, 'sink'),
          message: `sink "${sink}" already has a route`,
        });
      sinks.add(sink);
    }
    const select = readString(obj, 'select', at, problems, { oneOf: ['all', 'errors'] }) as
      'all' | 'errors' | undefined;
    const signals = readStringList(obj, 'signals', at, problems);
    signals?.forEach((s, j) => {
      if (!(ROUTE_SIGNALS as readonly string[]).includes(s)) {
        problems.push({
          path: joinPath(joinPath(at, 'signals'), j),
          message: `unknown signal "${s}" (expected traces, logs or metrics)`,
        });
      }
    });
    if (signals && signals.length === 0)
      problems.push({ path: joinPath(at, 'signals'), message: 'must list at least one signal' });
    const include =
      obj.include === undefined
        ? undefined
        : validateMatchProperties(obj.include, joinPath(at, 'include'), problems);
    const exclude =
      obj.exclude === undefined
        ? undefined
        : validateMatchProperties(obj.exclude, joinPath(at, 'exclude'), problems);
    const cleared = readBool(obj, 'restricted_fields', at, problems);
    if (problems.length !== before || sink === undefined) return;
    const r: RouteConfig = { sink };
    if (select) r.select = select;
    if (signals) r.signals = signals as RouteSignal[];
    if (include) r.include = include;
    if (exclude) r.exclude = exclude;
    if (cleared !== undefined) r.restricted_fields = cleared;
    config.push(r);
  });
  return problems.length ? { problems } : { config, problems };
}

/** What one sink receives from one decided trace or batch. */
export interface RoutedTraces {
  sink: string;
  /** The sink may receive restricted values as they are. */
  restrictedFields: boolean;
  spans: ResourceSpans[];
}

export interface RoutedLogs {
  sink: string;
  restrictedFields: boolean;
  logs: LogsData;
}

export interface RoutedMetrics {
  sink: string;
  restrictedFields: boolean;
  metrics: MetricsData;
}

interface CompiledRoute {
  sink: string;
  errorsOnly: boolean;
  signals: ReadonlySet<RouteSignal>;
  filter: Matcher | undefined;
  restrictedFields: boolean;
}

/**
 * The spans of the traces that have a span in error — whole traces, so the failure keeps its
 * context — out of spans that may belong to several traces (a batch without a tail stage, or
 * the kept traces the worker rebuilds together). The input itself when every trace failed.
 */
function failedTraces(spans: ResourceSpans[]): ResourceSpans[] {
  let failed: Set<string> | undefined;
  let others = false;
  for (const rs of spans)
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans)
        if (s.status?.code === StatusCode.Error) (failed ??= new Set()).add(traceIdHex(s.traceId));
  if (!failed) return [];
  for (const rs of spans)
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) if (!failed.has(traceIdHex(s.traceId))) others = true;
  return others ? spansOfTraces(spans, failed) : spans;
}

/**
 * The spans of the traces `ids` (lowercase hex), in their resources and scopes; resources and
 * scopes left without spans are left out. Shares objects with the input where nothing changed.
 */
export function spansOfTraces(spans: ResourceSpans[], ids: ReadonlySet<string>): ResourceSpans[] {
  return filterSpans(spans, (_r, _sc, s) => s !== undefined && ids.has(traceIdHex(s.traceId)));
}

/** The routes stage, compiled. Output shares span and record objects with the input. */
export class CompiledRoutes {
  private readonly routes: CompiledRoute[];

  constructor(config: RoutesConfig) {
    this.routes = config.map((r) => ({
      sink: r.sink,
      errorsOnly: r.select === 'errors',
      signals: new Set(r.signals ?? ROUTE_SIGNALS),
      filter: compileIncludeExclude(r.include, r.exclude),
      restrictedFields: r.restricted_fields === true,
    }));
  }

  get sinks(): string[] {
    return this.routes.map((r) => r.sink);
  }

  /** Routes the spans of one trace (a tail sampler output) or of any number of traces. */
  routeTraces(spans: ResourceSpans[]): RoutedTraces[] {
    const out: RoutedTraces[] = [];
    let failed: ResourceSpans[] | undefined;
    for (const r of this.routes) {
      if (!r.signals.has('traces')) continue;
      const input = r.errorsOnly ? (failed ??= failedTraces(spans)) : spans;
      if (input.length === 0) continue;
      const selected = r.filter ? filterSpans(input, r.filter) : input;
      if (selected.length)
        out.push({ sink: r.sink, restrictedFields: r.restrictedFields, spans: selected });
    }
    return out;
  }

  routeLogs(data: LogsData): RoutedLogs[] {
    const out: RoutedLogs[] = [];
    for (const r of this.routes) {
      if (!r.signals.has('logs')) continue;
      const resourceLogs = filterLogs(data.resourceLogs, r.errorsOnly, r.filter);
      if (resourceLogs.length)
        out.push({ sink: r.sink, restrictedFields: r.restrictedFields, logs: { resourceLogs } });
    }
    return out;
  }

  routeMetrics(data: MetricsData): RoutedMetrics[] {
    return this.routes
      .filter((r) => r.signals.has('metrics') && !r.errorsOnly)
      .map((r) => ({ sink: r.sink, restrictedFields: r.restrictedFields, metrics: data }));
  }
}

const NO_ATTRS: never[] = [];

function filterSpans(input: ResourceSpans[], m: Matcher): ResourceSpans[] {
  const out: ResourceSpans[] = [];
  for (const rs of input) {
    const resource = rs.resource?.attributes ?? NO_ATTRS;
    let scopes: ScopeSpans[] | undefined;
    for (const ss of rs.scopeSpans) {
      const spans = ss.spans.filter((s) => m(resource, ss.scope, s, s.attributes));
      if (spans.length === 0) continue;
      (scopes ??= []).push(spans.length === ss.spans.length ? ss : { ...ss, spans });
    }
    if (scopes)
      out.push(
        scopes.length === rs.scopeSpans.length && scopes.every((s, i) => s === rs.scopeSpans[i])
          ? rs
          : { ...rs, scopeSpans: scopes },
      );
  }
  return out;
}

function filterLogs(
  input: ResourceLogs[],
  errorsOnly: boolean,
  m: Matcher | undefined,
): ResourceLogs[] {
  if (!errorsOnly && !m) return input;
  const out: ResourceLogs[] = [];
  for (const rl of input) {
    const resource = rl.resource?.attributes ?? NO_ATTRS;
    let scopes: ScopeLogs[] | undefined;
    for (const sl of rl.scopeLogs) {
      const recs = sl.logRecords.filter(
        (rec) =>
          (!errorsOnly || rec.severityNumber >= SEVERITY_ERROR) &&
          (!m || m(resource, sl.scope, undefined, rec.attributes)),
      );
      if (recs.length === 0) continue;
      (scopes ??= []).push(recs.length === sl.logRecords.length ? sl : { ...sl, logRecords: recs });
    }
    if (scopes) out.push({ ...rl, scopeLogs: scopes });
  }
  return out;
}

export function compileRoutes(config: RoutesConfig): CompiledRoutes {
  return new CompiledRoutes(config);
}
