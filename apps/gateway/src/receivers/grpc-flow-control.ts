/**
 * HTTP/2 flow-control windows for the OTLP/gRPC server. A receiver grants its peer a window per
 * stream and per connection and tops it up (WINDOW_UPDATE) as it reads; Node's default for both
 * is 64 KiB, and grpc-js's Server has no option to change it (its client has
 * `grpc-node.flow_control_window`, its server does not). OTLP exports are large — 100 spans are
 * ~58 KB — so with a few concurrent exports on a connection the client stalls, waiting for
 * window updates that the gateway sends only when its event loop gets to read: bench/gateway
 * measured half the throughput at twice the CPU per span (63.5k -> 127.7k spans per CPU-second
 * with the windows below). The windows are sized to the largest message: a whole export fits in
 * its stream's window, a few in the connection's. What the gateway holds is still bounded by
 * its in-flight bytes, not by these windows.
 *
 * grpc-js keeps its http2 servers in a private `http2Servers` map; this reaches into it after
 * bindAsync. If a future grpc-js changes that, nothing is patched, widenFlowControl says so
 * (the receiver logs it) and grpc-flow-control.spec.ts fails, so the upgrade is noticed.
 */
import { EventEmitter } from 'node:events';
import type { Http2Session } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

export interface FlowControlWindows {
  /** Window per stream (an Export call): SETTINGS_INITIAL_WINDOW_SIZE, at most 2^31-1. */
  streamBytes: number;
  /** Window of the whole connection. */
  connectionBytes: number;
}

const MAX_WINDOW = 2 ** 31 - 1;

/** Windows for a server whose messages are at most `maxMessageBytes`. */
export function windowsFor(maxMessageBytes: number): FlowControlWindows {
  const stream = Math.min(MAX_WINDOW, Math.max(65_535, maxMessageBytes));
  return { streamBytes: stream, connectionBytes: Math.min(MAX_WINDOW, stream * 4) };
}

/**
 * Grants every connection the server accepts from now on `windows`. Call after bindAsync.
 * Returns false, changing nothing, when grpc-js's internals are not what this expects.
 */
export function widenFlowControl(server: Server, windows: FlowControlWindows): boolean {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) return false;
  const http2Servers = [...servers.keys()];
  if (!http2Servers.every((s) => s instanceof EventEmitter)) return false;
  for (const s of http2Servers as EventEmitter[]) {
    s.on('session', (session: Http2Session) => {
      try {
        session.settings({ initialWindowSize: windows.streamBytes });
        session.setLocalWindowSize(windows.connectionBytes);
      } catch {
        // A session closing as it opens: nothing to widen.
      }
    });
  }
  return true;
}
