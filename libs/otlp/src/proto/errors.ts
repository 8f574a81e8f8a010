/**
 * The one error type every OTLP protobuf decoder, splitter and scanner throws for bad input.
 *
 * The gateway maps it to HTTP 400 / gRPC INVALID_ARGUMENT (a permanent error: retrying the
 * same bytes can never succeed), so its message is written for the client: what is wrong and
 * at which byte offset. Anything else thrown from this folder is a bug, not bad input.
 */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';

  constructor(
    message: string,
    /** Byte offset in the input where the problem was found. */
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
  }
}
