/**
 * The one error type of the OTLP/JSON codec. Bad input is a permanent, client-side error
 * (HTTP 400 / INVALID_ARGUMENT): the message names the JSON path of the offending field so a
 * tenant can find it, e.g. `resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex
 * characters`.
 */
export class OtlpJsonError extends Error {
  override readonly name = 'OtlpJsonError';

  constructor(
    /** JSON path of the offending value ('' for the document itself). */
    readonly path: string,
    /** What was wrong, without the path. */
    readonly reason: string,
  ) {
    super(path === '' ? reason : `${path}: ${reason}`);
  }
}
