/**
 * kafkajs 2.2.4's RequestQueue (one per broker connection) re-arms a timer at the end of every
 * `checkPendingRequests()`, and with no client-side throttle in force it arms it with a negative
 * delay (`throttledUntil` is -1), which Node runs after 1 ms. Once a connection has had one
 * response, it wakes the event loop about a thousand times a second for as long as it lives,
 * with nothing pending (kafkajs issues #1556 and #1704, PR #1667, never released). Measured here:
 * an idle worker made ~1,700 epoll_wait calls a second and used 6.5% of a core with no data, a
 * gateway+worker process 5.8% — most of the fixed cost bench/compare charged to Custodian.
 *
 * The replacement arms the timer only when it has something to do: a request is pending (sent
 * when the throttle lifts, or re-checked after CHECK_PENDING_REQUESTS_INTERVAL when only the
 * in-flight limit holds it back, as before). With nothing pending there is nothing to check:
 * push() arms it again when it queues a request, and a response or time-out calls
 * checkPendingRequests() directly. The marginal-throttle case of kafkajs PR #1532 (a throttle
 * that ends within the millisecond) still gets a timer, since its request is pending.
 *
 * The same queue also checks its in-flight requests for time-outs, with a setInterval of
 * min(requestTimeout, 100 ms) per connection for as long as the connection lives: with five broker
 * connections, 50 wake-ups a second with nothing to time out. The replacement checks once a
 * second (REQUEST_TIMEOUT_CHECK_MS; less if requestTimeout is shorter), so a request times out at
 * most a second late — against Custodian's 10 s requestTimeout, and the gateway's own produce
 * deadline is a separate timer. Together with the event-loop-delay monitor's resolution
 * (libs/ops/src/metrics.ts), this took an idle gateway+worker process from ~250 to ~60–75 epoll
 * waits a second.
 *
 * Like kafkajs-encoder.ts this reaches into kafkajs's internals (pinned at 2.2.4); if a future
 * version moves or changes the RequestQueue, the patch is skipped rather than half-applied, and
 * kafkajs-request-queue.spec.ts fails so the upgrade is noticed.
 */
import { kafkajsInternal } from './kafkajs-internals';

/** kafkajs's own re-check interval while requests wait for an in-flight slot. */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

/** How often in-flight requests are checked for time-outs (kafkajs: every 100 ms). */
export const REQUEST_TIMEOUT_CHECK_MS = 1000;

interface InflightRequest {
  sentAt: number;
  requestTimeout: number;
  timeoutRequest(): void;
}

interface RequestQueueInternals {
  pending: unknown[];
  inflight: Map<number, InflightRequest>;
  requestTimeout: number;
  enforceRequestTimeout: boolean;
  requestTimeoutIntervalId?: NodeJS.Timeout;
  isConnected(): boolean;
  destroy(): void;
  scheduleRequestTimeoutCheck(): void;
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

interface RequestQueueClass {
  prototype: RequestQueueInternals;
}

let patched = false;

/** Whether kafkajs's RequestQueue arms its timer only for pending requests (false: left as is). */
export function patchKafkajsRequestQueue(): boolean {
  if (patched) return true;
  const proto = kafkajsInternal<RequestQueueClass>('network/requestQueue')?.prototype;
  if (
    typeof proto?.scheduleCheckPendingRequests !== 'function' ||
    typeof proto.checkPendingRequests !== 'function' ||
    typeof proto.scheduleRequestTimeoutCheck !== 'function' ||
    !proto.scheduleCheckPendingRequests.toString().includes('throttleCheckTimeoutId') ||
    !proto.scheduleRequestTimeoutCheck.toString().includes('requestTimeoutIntervalId')
  ) {
    return false;
  }
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(
    this: RequestQueueInternals,
  ): void {
    if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
    const untilUnthrottled = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL,
    );
  };
  proto.scheduleRequestTimeoutCheck = function scheduleRequestTimeoutCheck(
    this: RequestQueueInternals,
  ): void {
    if (!this.enforceRequestTimeout) return;
    this.destroy();
    this.requestTimeoutIntervalId = setInterval(
      () => {
        const now = Date.now();
        this.inflight.forEach((request) => {
          if (now - request.sentAt > request.requestTimeout) request.timeoutRequest();
        });
        if (!this.isConnected()) this.destroy();
      },
      Math.min(this.requestTimeout, REQUEST_TIMEOUT_CHECK_MS),
    );
  };
  patched = true;
  return true;
}

patchKafkajsRequestQueue();
