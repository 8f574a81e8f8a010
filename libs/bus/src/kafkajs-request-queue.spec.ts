import { createRequire } from 'node:module';
import { REQUEST_TIMEOUT_CHECK_MS, patchKafkajsRequestQueue } from './kafkajs-request-queue';

interface Entry {
  correlationId: number;
  apiKey: number;
  apiName: string;
  apiVersion: number;
  resolve(r: unknown): void;
  reject(e: unknown): void;
}
interface RequestQueue {
  pending: unknown[];
  inflight: Map<number, unknown>;
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  push(r: { entry: Entry; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(r: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
  checkPendingRequests(): void;
  destroy(): void;
  scheduleRequestTimeoutCheck(): void;
  requestTimeoutIntervalId?: NodeJS.Timeout;
}
const RequestQueueClass = createRequire(__filename)('kafkajs/src/network/requestQueue') as new (
  opts: object,
) => RequestQueue;

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined };

function queue(
  maxInFlightRequests: number | null = null,
  timeouts: {
    requestTimeout?: number;
    enforceRequestTimeout?: boolean;
    isConnected?: () => boolean;
  } = {},
): RequestQueue {
  return new RequestQueueClass({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    ...timeouts,
    clientId: 'spec',
    broker: 'localhost:9092',
    logger: silent,
  });
}

function request(correlationId: number, sent: number[], requestTimeout?: number) {
  const entry: Entry = {
    correlationId,
    apiKey: 1,
    apiName: 'Fetch',
    apiVersion: 11,
    resolve: () => undefined,
    reject: () => undefined,
  };
  return {
    requestTimeout,
    entry,
    expectResponse: true,
    sendRequest: () => sent.push(correlationId),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kafkajs RequestQueue timer only while a request waits', () => {
  it('applies to the kafkajs version installed (fails on an upgrade that moved the queue)', () => {
    expect(patchKafkajsRequestQueue()).toBe(true);
  });

  it('arms no timer after a response when nothing is pending (kafkajs armed a 1 ms one)', () => {
    patchKafkajsRequestQueue();
    const q = queue();
    const sent: number[] = [];
    q.push(request(1, sent));
    expect(sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.destroy();
  });

  it('sends a request held by a client-side throttle when the throttle lifts', async () => {
    patchKafkajsRequestQueue();
    const q = queue();
    const sent: number[] = [];
    q.maybeThrottle(40);
    q.push(request(1, sent));
    expect(sent).toEqual([]);
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    await sleep(20);
    expect(sent).toEqual([]);
    await sleep(60);
    expect(sent).toEqual([1]);
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.destroy();
  });

  it('sends a request whose throttle ends within the same millisecond (kafkajs PR #1532)', async () => {
    patchKafkajsRequestQueue();
    const q = queue();
    const sent: number[] = [];
    q.throttledUntil = Date.now() + 1;
    q.push(request(1, sent));
    // Past the throttle, the re-check still comes: the request is pending.
    await sleep(30);
    expect(sent).toEqual([1]);
    q.destroy();
  });

  it('sends requests held by the in-flight limit as responses free slots', () => {
    patchKafkajsRequestQueue();
    const q = queue(1);
    const sent: number[] = [];
    q.push(request(1, sent));
    q.push(request(2, sent));
    q.push(request(3, sent));
    expect(sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(sent).toEqual([1, 2]);
    q.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    expect(sent).toEqual([1, 2, 3]);
    q.fulfillRequest({ correlationId: 3, payload: Buffer.alloc(0), size: 0 });
    expect(q.pending).toHaveLength(0);
    q.destroy();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });
});

describe('kafkajs RequestQueue time-out check', () => {
  /** The period of the queue's time-out interval (Node keeps it on the Timeout object). */
  const period = (q: RequestQueue) =>
    (q.requestTimeoutIntervalId as unknown as { _idleTimeout: number } | undefined)?._idleTimeout;

  it('checks once a second, not every 100 ms as kafkajs did', () => {
    patchKafkajsRequestQueue();
    const q = queue(null, { requestTimeout: 10_000, enforceRequestTimeout: true });
    q.scheduleRequestTimeoutCheck();
    expect(period(q)).toBe(REQUEST_TIMEOUT_CHECK_MS);
    q.destroy();
  });

  it('arms no check when time-outs are not enforced', () => {
    patchKafkajsRequestQueue();
    const q = queue(null, { requestTimeout: 10_000, enforceRequestTimeout: false });
    q.scheduleRequestTimeoutCheck();
    expect(q.requestTimeoutIntervalId).toBeUndefined();
  });

  it('still times out a request that got no answer, and stops checking once disconnected', async () => {
    patchKafkajsRequestQueue();
    let connected = true;
    const q = queue(null, {
      requestTimeout: 40,
      enforceRequestTimeout: true,
      isConnected: () => connected,
    });
    q.scheduleRequestTimeoutCheck();
    expect(period(q)).toBe(40);
    const rejected: unknown[] = [];
    const sent: number[] = [];
    const r = request(7, sent, 40);
    r.entry.reject = (e: unknown) => rejected.push(e);
    q.push(r);
    expect(sent).toEqual([7]);
    await sleep(150);
    expect(rejected).toHaveLength(1);
    expect(String((rejected[0] as Error).message)).toMatch(/timed out/i);
    connected = false;
    await sleep(100);
    // destroy() cleared the interval: a cleared Timeout no longer has its callback
    expect(
      (q.requestTimeoutIntervalId as unknown as { _onTimeout: unknown })._onTimeout,
    ).toBeNull();
  });
});
