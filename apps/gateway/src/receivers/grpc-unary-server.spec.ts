import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { deflateSync, gzipSync } from 'node:zlib';
import {
  Client,
  credentials,
  Metadata,
  status,
  type ServiceError,
  type ChannelOptions,
} from '@grpc/grpc-js';
import {
  encodeGrpcMessage,
  GrpcCallError,
  GrpcUnaryServer,
  windowsFor,
  type UnaryHandler,
} from './grpc-unary-server';

const PATH = '/test.Echo/Export';
const MAX = 1024 * 1024;
const id = (b: Buffer): Buffer => b;

interface Seen {
  request: Buffer;
  headers: IncomingHttpHeaders;
}

describe('GrpcUnaryServer (against the grpc-js client and raw HTTP/2)', () => {
  let server: GrpcUnaryServer;
  let port: number;
  const seen: Seen[] = [];
  const rejected: [string, number, string][] = [];
  let handler: UnaryHandler;
  const clients: Client[] = [];
  const sessions: ClientHttp2Session[] = [];

  beforeEach(async () => {
    seen.length = 0;
    rejected.length = 0;
    handler = async (request) => Buffer.concat([Buffer.from('echo:'), request]);
    server = new GrpcUnaryServer(
      new Map([
        [
          PATH,
          (request, headers) => {
            seen.push({ request: Buffer.from(request), headers });
            return handler(request, headers);
          },
        ],
      ]),
      { maxMessageBytes: MAX, onRejected: (p, c, m) => rejected.push([p, c, m]) },
    );
    port = await server.listen(0, '127.0.0.1');
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of sessions.splice(0)) s.destroy();
    await server.close(1000);
  });

  function client(options: ChannelOptions = {}): Client {
    const c = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), options);
    clients.push(c);
    return c;
  }

  function call(
    body: Buffer,
    md = new Metadata(),
    c = client(),
    path = PATH,
  ): Promise<{ err: ServiceError | null; response?: Buffer }> {
    return new Promise((resolve) =>
      c.makeUnaryRequest(path, id, id, body, md, (err, response) =>
        resolve({ err: err ?? null, response }),
      ),
    );
  }

  /** A raw HTTP/2 request: for what no gRPC client would send. */
  async function raw(
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<{ headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders; data: Buffer }> {
    const s = connect(`http://127.0.0.1:${port}`);
    sessions.push(s);
    const req = s.request({ ':method': 'POST', ':path': PATH, ...headers });
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    const responseHeaders = new Promise<IncomingHttpHeaders>((r) => req.once('response', r));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('error', () => undefined);
    req.end(body);
    await new Promise((r) => req.once('close', r));
    return { headers: await responseHeaders, trailers, data: Buffer.concat(chunks) };
  }

  const framed = (msg: Buffer, flag = 0): Buffer => {
    const head = Buffer.alloc(5);
    head[0] = flag;
    head.writeUInt32BE(msg.length, 1);
    return Buffer.concat([head, msg]);
  };

  it('passes the message bytes and the metadata to the handler and its answer back', async () => {
    const md = new Metadata();
    md.set('authorization', 'Bearer k1');
    md.set('x-custodian-api-key', 'k2');
    const body = Buffer.from([0, 1, 2, 250, 255]);
    const r = await call(body, md);
    expect(r.err).toBeNull();
    expect(r.response).toEqual(Buffer.concat([Buffer.from('echo:'), body]));
    expect(seen[0].request).toEqual(body);
    expect(seen[0].headers.authorization).toBe('Bearer k1');
    expect(seen[0].headers['x-custodian-api-key']).toBe('k2');
  });

  it('reassembles a message of many DATA frames, and takes an empty one', async () => {
    const big = Buffer.alloc(MAX);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 255;
    const r = await call(big);
    expect(r.err).toBeNull();
    expect(seen[0].request.equals(big)).toBe(true);
    expect((await call(Buffer.alloc(0))).response).toEqual(Buffer.from('echo:'));
  });

  it.each([
    ['gzip', 2],
    ['deflate', 1],
  ])('inflates %s messages from the grpc-js client', async (_name, algorithm) => {
    const c = client({ 'grpc.default_compression_algorithm': algorithm });
    const body = Buffer.from('x'.repeat(50_000) + 'end');
    const r = await call(body, new Metadata(), c);
    expect(r.err).toBeNull();
    expect(seen[0].request).toEqual(body);
  });

  it("answers a handler's error with its code, message and status details", async () => {
    const details = Buffer.from([8, 8, 18, 3, 0x66, 0x6f, 0x6f]);
    handler = async () => {
      throw new GrpcCallError(status.RESOURCE_EXHAUSTED, 'rate 100% over — retry later', details);
    };
    const r = await call(Buffer.from('x'));
    expect(r.err?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(r.err?.details).toBe('rate 100% over — retry later');
    expect(r.err?.metadata.get('grpc-status-details-bin')).toEqual([details]);
  });

  it('answers INTERNAL, without the cause, when a handler throws anything else', async () => {
    handler = () => {
      throw new Error('secret internals');
    };
    const r = await call(Buffer.from('x'));
    expect(r.err?.code).toBe(status.INTERNAL);
    expect(r.err?.details).toBe('internal error');
  });

  it('answers UNIMPLEMENTED for an unknown method', async () => {
    const r = await call(Buffer.from('x'), new Metadata(), client(), '/test.Echo/Other');
    expect(r.err?.code).toBe(status.UNIMPLEMENTED);
    expect(r.err?.details).toBe('unknown method /test.Echo/Other');
    expect(seen).toHaveLength(0);
    expect(rejected).toEqual([['/test.Echo/Other', 12, 'unknown method /test.Echo/Other']]);
  });

  it('refuses a message over the limit with RESOURCE_EXHAUSTED before reading it', async () => {
    const r = await call(Buffer.alloc(5 * MAX));
    expect(r.err?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(r.err?.details).toBe(`received message larger than max (${5 * MAX} vs. ${MAX})`);
    expect(seen).toHaveLength(0);
    // the connection is still good
    expect((await call(Buffer.from('y'))).err).toBeNull();
  });

  it('refuses a compressed message that inflates past the limit (a gzip bomb)', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MAX));
    expect(bomb.length).toBeLessThan(MAX);
    const r = await raw(
      { 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' },
      framed(bomb, 1),
    );
    expect(r.headers['grpc-status']).toBe('8');
    expect(r.headers['grpc-message']).toBe(`decompressed message larger than max (${MAX} bytes)`);
    expect(seen).toHaveLength(0);
  });

  it('inflates a raw deflate-encoded message and refuses a corrupt one', async () => {
    const ok = await raw(
      { 'content-type': 'application/grpc+proto', 'grpc-encoding': 'deflate' },
      framed(deflateSync(Buffer.from('hello')), 1),
    );
    expect(ok.headers[':status']).toBe(200);
    expect(ok.trailers['grpc-status']).toBe('0');
    expect(ok.data.subarray(5).toString()).toBe('echo:hello');
    const bad = await raw(
      { 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' },
      framed(Buffer.from('not gzip at all'), 1),
    );
    expect(bad.headers['grpc-status']).toBe('13');
    expect(bad.headers['grpc-message']).toMatch(/^could not decompress the message \(gzip\)/);
  });

  it.each([
    [
      'a compressed flag with no grpc-encoding',
      {},
      framed(Buffer.from('x'), 1),
      '13',
      'compressed flag set with no grpc-encoding (identity)',
    ],
    [
      'an encoding it does not have',
      { 'grpc-encoding': 'snappy' },
      framed(Buffer.from('x'), 1),
      '12',
      'grpc-encoding snappy is not supported (supported: identity,deflate,gzip)',
    ],
    ['no message', {}, Buffer.alloc(0), '13', 'no request message'],
    [
      'a message cut short',
      {},
      framed(Buffer.from('hello')).subarray(0, 7),
      '13',
      'request message cut short (7 bytes)',
    ],
    [
      'two messages',
      {},
      Buffer.concat([framed(Buffer.from('a')), framed(Buffer.from('b'))]),
      '13',
      'more than one request message in a unary call',
    ],
  ])('answers %s with a gRPC error', async (_what, headers, body, code, message) => {
    const r = await raw({ 'content-type': 'application/grpc', ...headers }, body);
    expect(r.headers[':status']).toBe(200);
    expect(r.headers['content-type']).toBe('application/grpc');
    expect(r.headers['grpc-status']).toBe(code);
    expect(decodeURIComponent(r.headers['grpc-message'] as string)).toBe(message);
    expect(seen).toHaveLength(0);
    expect(rejected).toEqual([[PATH, Number(code), message]]);
  });

  it('answers HTTP 415 to a content type that is not gRPC and 405 to GET', async () => {
    const json = await raw({ 'content-type': 'application/json' }, Buffer.from('{}'));
    expect(json.headers[':status']).toBe(415);
    const plus = await raw({ 'content-type': 'application/grpc+json' }, Buffer.from('{}'));
    expect(plus.headers[':status']).toBe(415);
    const s = connect(`http://127.0.0.1:${port}`);
    sessions.push(s);
    const req = s.request({ ':method': 'GET', ':path': PATH });
    const [headers] = await Promise.all([
      new Promise<IncomingHttpHeaders>((r) => req.once('response', r)),
      new Promise((r) => req.once('close', r)).then(() => undefined),
      req.resume(),
    ]);
    expect(headers[':status']).toBe(405);
    expect(seen).toHaveLength(0);
  });

  it('counts a call the client cancelled before the answer, and keeps serving', async () => {
    let release!: () => void;
    const answered = new Promise<void>((r) => (release = r));
    handler = async (request) => {
      await answered;
      return request;
    };
    const c = client();
    const pending = c.makeUnaryRequest(PATH, id, id, Buffer.from('slow'), new Metadata(), () => {
      // cancelled: the callback hears CANCELLED from its own client
    });
    await waitFor(() => seen.length === 1);
    pending.cancel();
    await new Promise((r) => setTimeout(r, 50));
    release();
    await waitFor(() => rejected.length === 1);
    expect(rejected).toEqual([[PATH, status.CANCELLED, 'the client cancelled the call']]);
    handler = async (request) => request;
    expect((await call(Buffer.from('next'), new Metadata(), c)).response).toEqual(
      Buffer.from('next'),
    );
  });

  it('finishes calls in progress on close, then refuses new connections', async () => {
    let release!: () => void;
    const answered = new Promise<void>((r) => (release = r));
    handler = async (request) => {
      await answered;
      return request;
    };
    const inFlight = call(Buffer.from('in flight'));
    await waitFor(() => seen.length === 1);
    const closing = server.close(5000);
    release();
    expect((await inFlight).response).toEqual(Buffer.from('in flight'));
    await closing;
    const after = await call(Buffer.from('x'), new Metadata(), client());
    expect(after.err?.code).toBe(status.UNAVAILABLE);
  });

  it('tells clients a stream window that holds a whole message', async () => {
    const s = connect(`http://127.0.0.1:${port}`);
    sessions.push(s);
    const settings = await new Promise<{ initialWindowSize?: number }>((r) =>
      s.once('remoteSettings', r),
    );
    expect(settings.initialWindowSize).toBe(windowsFor(MAX).streamBytes);
  });

  it('sizes the windows to the largest message', () => {
    expect(windowsFor(4 * 1024 * 1024)).toEqual({
      streamBytes: 4 * 1024 * 1024 + 5,
      connectionBytes: 4 * (4 * 1024 * 1024 + 5),
    });
    expect(windowsFor(1000).streamBytes).toBe(65_535);
    expect(windowsFor(2 ** 31).streamBytes).toBe(2 ** 31 - 1);
  });
});

describe('encodeGrpcMessage', () => {
  it('percent-encodes bytes outside printable ASCII and the percent sign', () => {
    expect(encodeGrpcMessage('plain message: ok')).toBe('plain message: ok');
    expect(encodeGrpcMessage('100% — ok\n')).toBe('100%25 %E2%80%94 ok%0A');
    expect(decodeURIComponent(encodeGrpcMessage('über 100%'))).toBe('über 100%');
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
