/**
 * A gRPC server for unary calls of raw bytes, on Node's own HTTP/2 server (the gRPC over HTTP/2
 * protocol: github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md). The OTLP/gRPC receiver needs
 * only that: three unary Export methods whose messages pass through as bytes.
 *
 * Why not grpc-js's Server (issue #3): on bench/gateway's 58 KB exports, grpc-js's server costs
 * ~218 µs of CPU per call before any handler runs; Node's HTTP/2 server with this framing costs
 * ~68 µs (same grpc-js client, same core; bench/gateway's baseline-grpc and
 * baseline-grpc-node-http2 targets measure both in every run). At 100 spans per export that is
 * 1.5 µs per span, a fifth of the gateway's whole budget. grpc-js is still the
 * client everywhere (exporters, tests), and the tests prove this server against it, the OTel SDK
 * exporters, the Collector and telemetrygen (grpc-go).
 *
 * What it does, per the protocol document:
 * - Length-prefixed message: 1 byte compressed flag, 4 bytes big-endian length. A unary request
 *   has exactly one; none, two, or a short one is INTERNAL. A declared length over
 *   `maxMessageBytes` is RESOURCE_EXHAUSTED before the body is read (the stream is then reset
 *   with NO_ERROR, so the client stops sending).
 * - Compression (`grpc-encoding`): identity, gzip and deflate; inflated with a hard cap of
 *   `maxMessageBytes`, so a compressed bomb is RESOURCE_EXHAUSTED, never a big allocation. A
 *   compressed message in an encoding we lack is UNIMPLEMENTED with `grpc-accept-encoding`.
 * - Content-Type not `application/grpc[+proto]`: HTTP 415; a method other than POST: HTTP 405
 *   (the protocol document's "SHOULD").
 * - Errors are Trailers-Only responses: `grpc-status`, percent-encoded `grpc-message`, and the
 *   handler's `grpc-status-details-bin` (base64).
 * - Flow control: the windows are sized to the largest message (FlowControlWindows below);
 *   Node's default of 64 KiB halved throughput, as it did under grpc-js.
 * - A client that cancels (RST_STREAM) before the answer is counted as CANCELLED; the handler's
 *   work still completes (what the gateway acknowledges is in Kafka either way).
 * Deadlines (`grpc-timeout`) are the client's to enforce: it cancels the stream when it passes.
 */
import {
  constants,
  createServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { promisify } from 'node:util';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';

/** gRPC status codes used here (grpc/doc/statuscodes.md). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
} as const;

/** A handler's failure, answered as a Trailers-Only response. */
export class GrpcCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** google.rpc.Status, sent as `grpc-status-details-bin`. */
    readonly details?: Uint8Array,
  ) {
    super(message);
    this.name = 'GrpcCallError';
  }
}

/** Answers the request message with the response message, or throws a GrpcCallError. */
export type UnaryHandler = (request: Buffer, headers: IncomingHttpHeaders) => Promise<Uint8Array>;

export interface GrpcUnaryServerOptions {
  /** Largest request message, after decompression (CUSTODIAN_GRPC_MAX_MESSAGE_BYTES). */
  maxMessageBytes: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS per connection. */
  maxConcurrentStreams?: number;
  /**
   * Told of every call that ends before or without the handler's answer reaching the client:
   * protocol errors (code and message) and cancellations (CANCELLED). `path` is the request's.
   */
  onRejected?: (path: string, code: number, message: string) => void;
  /** Told of a connection-level error (logged by the caller; the connection is dropped). */
  onSessionError?: (err: Error) => void;
}

export interface FlowControlWindows {
  /** Window per stream (one call): SETTINGS_INITIAL_WINDOW_SIZE, at most 2^31-1. */
  streamBytes: number;
  /** Window of the whole connection. */
  connectionBytes: number;
}

const MAX_WINDOW = 2 ** 31 - 1;

/**
 * Windows for a server whose messages are at most `maxMessageBytes`: a whole message fits in its
 * stream's window, a few in the connection's, so a client never waits for a WINDOW_UPDATE that
 * only comes when the event loop gets to read. What the gateway holds is bounded by its
 * in-flight bytes, not by these windows.
 */
export function windowsFor(maxMessageBytes: number): FlowControlWindows {
  const stream = Math.min(MAX_WINDOW, Math.max(65_535, maxMessageBytes + 5));
  return { streamBytes: stream, connectionBytes: Math.min(MAX_WINDOW, stream * 4) };
}

const gunzipAsync = promisify<InputType, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<InputType, ZlibOptions, Buffer>(inflate);
const DECOMPRESS: Record<string, (b: Buffer, o: ZlibOptions) => Promise<Buffer>> = {
  gzip: gunzipAsync,
  deflate: inflateAsync,
};
const ACCEPT_ENCODING = 'identity,deflate,gzip';
const HEADER_BYTES = 5;

/**
 * The `grpc-message` form of a status message: UTF-8, with bytes outside 0x20–0x7E and '%'
 * percent-encoded (PROTOCOL-HTTP2.md, "Responses").
 */
export function encodeGrpcMessage(message: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(message)) return message;
  let out = '';
  for (const b of Buffer.from(message, 'utf8')) {
    out +=
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function isGrpcContentType(ct: string): boolean {
  if (!ct.startsWith('application/grpc')) return false;
  const rest = ct.slice('application/grpc'.length);
  return rest === '' || rest.startsWith(';') || rest === '+proto' || rest.startsWith('+proto;');
}

export class GrpcUnaryServer {
  private readonly server: Http2Server;
  private readonly sessions = new Set<Http2Session>();
  private readonly windows: FlowControlWindows;

  constructor(
    private readonly handlers: ReadonlyMap<string, UnaryHandler>,
    private readonly opts: GrpcUnaryServerOptions,
  ) {
    this.windows = windowsFor(opts.maxMessageBytes);
    this.server = createServer({
      settings: {
        initialWindowSize: this.windows.streamBytes,
        maxConcurrentStreams: opts.maxConcurrentStreams ?? 1000,
      },
      // outbound and header buffers per connection (MB); Node refuses new streams past it
      maxSessionMemory: 64,
    });
    this.server.on('session', (session) => this.onSession(session));
    this.server.on('stream', (stream, headers) => this.onStream(stream, headers));
    // a client that speaks HTTP/1 or garbage: dropped by Node, nothing to answer
    this.server.on('sessionError', (err: Error) => opts.onSessionError?.(err));
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  /**
   * Stops accepting connections, tells every client GOAWAY and lets calls in progress finish;
   * connections still open after `timeoutMs` are destroyed.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions) s.close();
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const s of this.sessions) s.destroy();
        resolve();
      }, timeoutMs);
    });
    await Promise.race([closed, forced]);
    clearTimeout(timer);
    await closed;
  }

  private onSession(session: Http2Session): void {
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    session.on('error', (err: Error) => this.opts.onSessionError?.(err));
    session.setLocalWindowSize(this.windows.connectionBytes);
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // after a reset or a broken connection Node emits 'error' on the stream; the call is over
    stream.on('error', () => undefined);
    const path = headers[':path'] ?? '';
    if (headers[':method'] !== 'POST') {
      this.reject(path, GrpcCode.UNIMPLEMENTED, `method ${headers[':method']} not allowed`);
      return this.httpError(stream, 405);
    }
    const ct = headers['content-type'];
    if (typeof ct !== 'string' || !isGrpcContentType(ct)) {
      this.reject(path, GrpcCode.INTERNAL, `content-type ${ct ?? '(none)'} is not gRPC`);
      return this.httpError(stream, 415);
    }
    const handler = this.handlers.get(path);
    if (!handler) return this.fail(stream, path, GrpcCode.UNIMPLEMENTED, `unknown method ${path}`);

    const chunks: Buffer[] = [];
    let received = 0;
    /** The message's length once its 5-byte prefix is in, else -1. */
    let length = -1;
    const max = this.opts.maxMessageBytes;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      received += chunk.length;
      if (length < 0 && received >= HEADER_BYTES) {
        const head = chunks[0].length >= HEADER_BYTES ? chunks[0] : Buffer.concat(chunks);
        length = head.readUInt32BE(1);
        if (length > max) {
          stream.off('data', onData);
          stream.off('end', onEnd);
          this.fail(
            stream,
            path,
            GrpcCode.RESOURCE_EXHAUSTED,
            `received message larger than max (${length} vs. ${max})`,
          );
        }
      }
      if (length >= 0 && received > HEADER_BYTES + length) {
        stream.off('data', onData);
        stream.off('end', onEnd);
        this.fail(stream, path, GrpcCode.INTERNAL, 'more than one request message in a unary call');
      }
    };
    const onEnd = (): void => {
      if (length < 0 || received < HEADER_BYTES + length) {
        const what =
          received === 0 ? 'no request message' : `request message cut short (${received} bytes)`;
        return this.fail(stream, path, GrpcCode.INTERNAL, what);
      }
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
      const compressed = body[0] !== 0;
      const message = body.subarray(HEADER_BYTES);
      if (!compressed) return this.call(stream, path, handler, message, headers);
      const encoding = headers['grpc-encoding'];
      if (encoding === undefined || encoding === 'identity') {
        return this.fail(
          stream,
          path,
          GrpcCode.INTERNAL,
          'compressed flag set with no grpc-encoding (identity)',
        );
      }
      const decompress = DECOMPRESS[encoding as string];
      if (!decompress) {
        return this.fail(
          stream,
          path,
          GrpcCode.UNIMPLEMENTED,
          `grpc-encoding ${encoding} is not supported (supported: ${ACCEPT_ENCODING})`,
        );
      }
      decompress(message, { maxOutputLength: max }).then(
        (inflated) => this.call(stream, path, handler, inflated, headers),
        (err: NodeJS.ErrnoException) =>
          err.code === 'ERR_BUFFER_TOO_LARGE'
            ? this.fail(
                stream,
                path,
                GrpcCode.RESOURCE_EXHAUSTED,
                `decompressed message larger than max (${max} bytes)`,
              )
            : this.fail(
                stream,
                path,
                GrpcCode.INTERNAL,
                `could not decompress the message (${encoding}): ${err.message}`,
              ),
      );
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
  }

  private call(
    stream: ServerHttp2Stream,
    path: string,
    handler: UnaryHandler,
    message: Buffer,
    headers: IncomingHttpHeaders,
  ): void {
    let answered: Promise<Uint8Array>;
    try {
      answered = handler(message, headers);
    } catch (err) {
      answered = Promise.reject(err);
    }
    answered.then(
      (response) => {
        if (this.gone(stream, path)) return;
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-accept-encoding': ACCEPT_ENCODING,
          },
          { waitForTrailers: true },
        );
        stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        const frame = Buffer.allocUnsafe(HEADER_BYTES + response.length);
        frame[0] = 0;
        frame.writeUInt32BE(response.length, 1);
        frame.set(response, HEADER_BYTES);
        stream.end(frame);
      },
      (err: unknown) => {
        if (this.gone(stream, path)) return;
        const e =
          err instanceof GrpcCallError
            ? err
            : new GrpcCallError(GrpcCode.INTERNAL, 'internal error');
        this.trailersOnly(stream, e.code, e.message, e.details);
      },
    );
  }

  /** Has the client gone (cancelled, connection lost)? Then the answer has nowhere to go. */
  private gone(stream: ServerHttp2Stream, path: string): boolean {
    if (!stream.destroyed && !stream.closed) return false;
    this.reject(path, GrpcCode.CANCELLED, 'the client cancelled the call');
    return true;
  }

  /** A protocol-level failure: counted, answered, and the rest of the request not read. */
  private fail(stream: ServerHttp2Stream, path: string, code: number, message: string): void {
    this.reject(path, code, message);
    if (stream.destroyed || stream.closed) return;
    this.trailersOnly(stream, code, message);
    this.stopReading(stream);
  }

  private trailersOnly(
    stream: ServerHttp2Stream,
    code: number,
    message: string,
    details?: Uint8Array,
  ): void {
    const headers: Record<string, string | number> = {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': encodeGrpcMessage(message),
    };
    if (details) headers['grpc-status-details-bin'] = Buffer.from(details).toString('base64');
    stream.respond(headers, { endStream: true });
  }

  private httpError(stream: ServerHttp2Stream, status: number): void {
    stream.respond({ ':status': status }, { endStream: true });
    this.stopReading(stream);
  }

  /**
   * The answer is out; if the client is still sending, RST_STREAM(NO_ERROR) tells it to stop
   * (RFC 9113 §8.1) instead of reading a body nobody needs.
   */
  private stopReading(stream: ServerHttp2Stream): void {
    if (stream.readableEnded) return;
    stream.resume();
    setImmediate(() => {
      if (!stream.destroyed && !stream.readableEnded) stream.close(constants.NGHTTP2_NO_ERROR);
    });
  }

  private reject(path: string, code: number, message: string): void {
    this.opts.onRejected?.(path, code, message);
  }
}
