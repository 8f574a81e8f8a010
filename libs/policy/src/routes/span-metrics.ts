/**
 * `span_metrics`: the tenant asks for its span metrics (issue #5 item 7: calls, errors and a
 * duration histogram per service, span name, tool and model, counted before sampling) to be
 * "exported to a sink as OTLP metrics with exemplars pointing to kept traces".
 *
 *   span_metrics:
 *     export_to: [grafana]   # sink names, as routes name them
 *     interval: 60s          # how often the worker sends what closed since; default 60s
 *
 * Additive: a document without it is unchanged (and hashes as before). Not part of the
 * Collector import (the Collector's spanmetrics connector is a pipeline component, not a
 * processor setting). The worker sends one data point per closed minute per series; the
 * interval only batches the sending, it never changes the resolution.
 */
import {
  type PolicyProblem,
  checkKeys,
  expectRecord,
  joinPath,
  parseDurationMs,
  readDurationMs,
  readStringList,
} from '../document/validate';

export interface SpanMetricsExportConfig {
  /** Sinks (by name, as routes name them) that receive the span metrics as OTLP metrics. */
  export_to: string[];
  /** Go duration between two sends to the sinks, 10s to 1h; default "60s". */
  interval?: string;
}

/** Bounds of `interval`, in ms. */
export const SPAN_METRICS_INTERVAL_MIN_MS = 10_000;
export const SPAN_METRICS_INTERVAL_MAX_MS = 3_600_000;
export const SPAN_METRICS_DEFAULT_INTERVAL_MS = 60_000;

const KEYS = ['export_to', 'interval'] as const;

/** Validates `span_metrics`, reporting every problem with its path. */
export function validateSpanMetricsConfig(
  raw: unknown,
  path = 'span_metrics',
): { config?: SpanMetricsExportConfig; problems: PolicyProblem[] } {
  const problems: PolicyProblem[] = [];
  const obj = expectRecord(raw, path, problems);
  if (!obj) return { problems };
  checkKeys(obj, KEYS, path, problems);
  const sinks = readStringList(obj, 'export_to', path, problems, true);
  const at = joinPath(path, 'export_to');
  sinks?.forEach((s, i) => {
    if (s.trim() === '') problems.push({ path: joinPath(at, i), message: 'must not be empty' });
    else if (sinks.indexOf(s) !== i)
      problems.push({ path: joinPath(at, i), message: `sink "${s}" is listed twice` });
  });
  const ms = readDurationMs(obj, 'interval', path, problems, { min: SPAN_METRICS_INTERVAL_MIN_MS });
  if (ms !== undefined && ms > SPAN_METRICS_INTERVAL_MAX_MS)
    problems.push({
      path: joinPath(path, 'interval'),
      message: `must be at most 1h, got ${String(obj.interval)}`,
    });
  if (problems.length) return { problems };
  const config: SpanMetricsExportConfig = { export_to: sinks! };
  if (typeof obj.interval === 'string') config.interval = obj.interval;
  return { config, problems };
}

/** `interval` in ms (the default when absent or not a duration). */
export function spanMetricsIntervalMs(config: SpanMetricsExportConfig): number {
  const ms = config.interval === undefined ? undefined : parseDurationMs(config.interval);
  return ms ?? SPAN_METRICS_DEFAULT_INTERVAL_MS;
}
