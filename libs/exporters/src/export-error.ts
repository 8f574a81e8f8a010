/**
 * Export failures, classified once (../shared/CONVENTIONS.md: errors are permanent or
 * retryable). OTLP's rules: HTTP 429, 502, 503, 504 and gRPC UNAVAILABLE, DEADLINE_EXCEEDED,
 * ABORTED, OUT_OF_RANGE, DATA_LOSS, CANCELLED, and RESOURCE_EXHAUSTED with retry info are
 * retryable, honouring the server's Retry-After / RetryInfo; network errors and timeouts are
 * retryable; every other response is permanent: retrying the same data cannot succeed, so it
 * goes straight to dead letters.
 */
export class ExportError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** The server's requested delay, when it gave one. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExportError';
  }
}

const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);

export function httpStatusError(
  status: number,
  body: string,
  retryAfter?: string | null,
): ExportError {
  const text = body.length > 300 ? `${body.slice(0, 300)}…` : body;
  return new ExportError(
    `HTTP ${status}${text ? `: ${text}` : ''}`,
    RETRYABLE_HTTP.has(status),
    parseRetryAfter(retryAfter),
  );
}

/** Retry-After as delay-seconds or an HTTP date. */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
