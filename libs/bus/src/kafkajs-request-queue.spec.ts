import { createRequire } from 'node:module';
import { patchKafkajsRequestQueue } from './kafkajs-request-queue';

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
}
const RequestQueueClass = createRequire(__filename)('kafkajs/src/network/requestQueue') as new (
  opts: object,
) => RequestQueue;

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined };

function queue(maxInFlightRequests: number | null = null): RequestQueue {
  return new RequestQueueClass({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'spec',
    broker: 'localhost:9092',
    logger: silent,
  });
}

function request(correlationId: number, sent: number[]) {
  return {
    entry: {
      correlationId,
      apiKey: 1,
      apiName: 'Fetch',
      apiVersion: 11,
      resolve: () => undefined,
      reject: () => undefined,
    },
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
