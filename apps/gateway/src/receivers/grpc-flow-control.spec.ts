import { connect, type ClientHttp2Session } from 'node:http2';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { widenFlowControl, windowsFor } from './grpc-flow-control';

describe('gRPC server flow-control windows', () => {
  let server: Server;
  let client: ClientHttp2Session | undefined;
  afterEach(async () => {
    client?.close();
    await new Promise<void>((r) => server.tryShutdown(() => r()));
  });

  async function start(widen: boolean): Promise<ClientHttp2Session> {
    server = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    if (widen) expect(widenFlowControl(server, windowsFor(4 * 1024 * 1024))).toBe(true);
    client = connect(`http://127.0.0.1:${port}`);
    // The server's SETTINGS (and its window update) arrive as the connection opens.
    await new Promise<void>((resolve) => client!.once('remoteSettings', () => resolve()));
    await new Promise((r) => setTimeout(r, 50));
    return client;
  }

  it("grants grpc-js's connections the widened windows (grpc-js internals as expected)", async () => {
    const c = await start(true);
    expect(c.remoteSettings.initialWindowSize).toBe(4 * 1024 * 1024);
    // What the client may still send on the connection: the server's connection window.
    expect(c.state.remoteWindowSize).toBe(16 * 1024 * 1024);
  });

  it("leaves Node's 64 KiB defaults without it (what the gateway used to grant)", async () => {
    const c = await start(false);
    expect(c.remoteSettings.initialWindowSize).toBe(65_535);
    expect(c.state.remoteWindowSize).toBe(65_535);
  });

  it('sizes windows to the largest message, within HTTP/2 bounds', () => {
    expect(windowsFor(4 * 1024 * 1024)).toEqual({
      streamBytes: 4 * 1024 * 1024,
      connectionBytes: 16 * 1024 * 1024,
    });
    expect(windowsFor(1000)).toEqual({ streamBytes: 65_535, connectionBytes: 262_140 });
    expect(windowsFor(2 ** 31).streamBytes).toBe(2 ** 31 - 1);
  });
});
