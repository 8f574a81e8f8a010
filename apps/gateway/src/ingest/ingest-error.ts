/**
 * Every way an ingest request can fail, once, with its OTLP mapping (OTLP spec, "OTLP/HTTP
 * Response" and "OTLP/gRPC Response": retryable = 429/502/503/504 and RESOURCE_EXHAUSTED /
 * UNAVAILABLE with retry info; everything else is permanent and the client must not retry).
 */
export type IngestErrorKind =
  | 'unauthenticated'
  | 'permission_denied'
  | 'invalid_argument'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'not_found'
  | 'method_not_allowed'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

/** google.rpc.Code values. */
export const GRPC_CODE: Record<IngestErrorKind, number> = {
  unauthenticated: 16,
  permission_denied: 7,
  invalid_argument: 3,
  payload_too_large: 8, // RESOURCE_EXHAUSTED, without retry info: do not retry as is
  unsupported_media_type: 3,
  not_found: 12, // UNIMPLEMENTED
  method_not_allowed: 12,
  rate_limited: 8, // RESOURCE_EXHAUSTED with RetryInfo
  unavailable: 14,
  internal: 13,
};

export const HTTP_STATUS: Record<IngestErrorKind, number> = {
  unauthenticated: 401,
  permission_denied: 403,
  invalid_argument: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_found: 404,
  method_not_allowed: 405,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** The reason label of discarded-item counters for each failure. */
export const DISCARD_REASON: Partial<Record<IngestErrorKind, string>> = {
  unauthenticated: 'unauthenticated',
  permission_denied: 'signal_not_allowed',
  invalid_argument: 'invalid',
  payload_too_large: 'too_large',
  unsupported_media_type: 'unsupported_media_type',
  rate_limited: 'rate_limited',
  unavailable: 'kafka_unavailable',
};

export class IngestError extends Error {
  constructor(
    readonly kind: IngestErrorKind,
    message: string,
    /** For retryable errors: when the client may try again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'IngestError';
  }

  get retryable(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'unavailable';
  }
}
