/**
 * The worker's memory, bounded by one setting (issue #5: "memory is bounded (globally and per
 * tenant)" and the benchmark's "with memory bounded by configuration"):
 * CUSTODIAN_WORKER_MEMORY_MIB is what the worker process may use (its container's memory
 * limit, give or take the kernel's page cache); every buffer that grows with load is derived
 * from it here, so an operator sizes one number and the pieces cannot disagree.
 *
 * Where a worker's memory goes, measured with bench/worker/pipeline.bench.ts (peak heap, RSS and
 * the buffered-bytes gauge sampled during a backlog drain; see docs/worker-memory.md):
 * - V8's old generation: decoded spans held by delivery until the sink has them, plus garbage
 *   not yet collected. (The tail samplers hold the Kafka records' bytes, outside the heap, not
 *   decoded spans: pipeline/partition-processor.ts.) Without a limit V8 sizes the heap from the
 *   machine's RAM (≈4 GB here) and lets it grow: 1.0 GB RSS draining a backlog without tail
 *   sampling, 1.65–1.9 GB with it. `--max-old-space-size` is the only bound, and Node reads it
 *   at start only, so it is passed by whoever starts the process (NODE_OPTIONS in the Helm
 *   chart; heapFlags() below) and checked at boot (the worker warns when it is larger).
 * - Kafka fetches: kafkajs keeps whole fetch responses (and, for gzip, the inflated batches)
 *   in Buffers outside the V8 heap while their records are processed.
 * - Fixed costs: code, the Prisma engine, the runtime, young generation, sockets (≈200 MiB RSS
 *   at idle, measured).
 *
 * The shares below leave the old generation room to collect in (a heap whose live data nears
 * its limit spends its time in major GCs), and are expressed over the whole budget so the
 * split holds at any size from the documented minimum up.
 */

import type { LogsData, MetricsData, TracesData } from '@custodian/otlp';
import { estimateSpanBytes } from '@custodian/policy';

/**
 * The smallest budget the worker accepts: an idle worker's RSS is ~200 MiB (code, the Prisma
 * engine, the runtime, connections; measured), so below this the fixed costs leave too little.
 */
export const MIN_WORKER_MEMORY_MIB = 512;

const MIB = 1024 * 1024;

/** What the worker derives from CUSTODIAN_WORKER_MEMORY_MIB. */
export interface WorkerMemoryPlan {
  /** The budget itself (MiB). */
  budgetMiB: number;
  /** V8 old generation limit for `--max-old-space-size` (MiB). */
  heapMiB: number;
  /** Tail-sampling buffers of all partitions and tenants together (bytes of records held). */
  tailBufferBytes: number;
  /** What one tenant's tail buffers may hold together (bytes of records held). */
  tenantTailBufferBytes: number;
  /** Kafka fetch: bytes per fetch response (kafkajs maxBytes). */
  fetchMaxBytes: number;
  /** Kafka fetch: bytes per partition in a response (kafkajs maxBytesPerPartition). */
  fetchMaxBytesPerPartition: number;
  /**
   * Estimated bytes of items handed to sinks and not yet exported or durably queued; past it
   * the consumer pauses (backpressure). Bytes, not items: one agent span with a long prompt
   * weighs as much as a hundred plain ones.
   */
  deliveryMaxPendingBytes: number;
  /** CUSTODIAN_DELIVERY_MAX_PENDING_ITEMS, the count bound kept beside the byte bound. */
  deliveryMaxPendingItems: number;
}

/**
 * Shares of the budget. The old generation gets 60%; the rest is fixed costs, the young
 * generation and fetch buffers. Inside the old generation, what the worker itself holds
 * (tail buffers + delivery's pending items) stays at about half, the other half is room to
 * collect in.
 */
export const MEMORY_SHARES = {
  /** Percent (an integer, so the Helm chart's integer arithmetic gives the same flag). */
  heapPercent: 60,
  /** Of the budget, in estimated bytes (estimateSpanBytes; ≈1 of real heap per estimated byte, measured). */
  tailBuffers: 0.15,
  /** Of the tail buffers, what one tenant may hold. */
  tenantOfTail: 0.5,
  /** Of the budget, for one fetch response (compressed; inflated batches come on top). */
  fetch: 1 / 256,
  /** Of the budget, for delivery's pending items (estimated bytes, as the tail buffers). */
  delivery: 0.12,
} as const;

/**
 * Derives the worker's sub-budgets from its memory budget; `deliveryMaxPendingItems` is
 * CUSTODIAN_DELIVERY_MAX_PENDING_ITEMS, passed through.
 */
export function workerMemoryPlan(
  budgetMiB: number,
  deliveryMaxPendingItems = 100_000,
): WorkerMemoryPlan {
  if (!(budgetMiB >= MIN_WORKER_MEMORY_MIB))
    throw new RangeError(`worker memory budget must be at least ${MIN_WORKER_MEMORY_MIB} MiB`);
  const bytes = budgetMiB * MIB;
  const tail = Math.floor(bytes * MEMORY_SHARES.tailBuffers);
  const fetch = Math.max(1 * MIB, Math.floor(bytes * MEMORY_SHARES.fetch));
  return {
    budgetMiB,
    heapMiB: Math.floor((budgetMiB * MEMORY_SHARES.heapPercent) / 100),
    tailBufferBytes: tail,
    tenantTailBufferBytes: Math.floor(tail * MEMORY_SHARES.tenantOfTail),
    fetchMaxBytes: fetch,
    // Three partitions are consumed concurrently: a response holds data for several.
    fetchMaxBytesPerPartition: Math.max(1 * MIB, Math.floor(fetch / 4)),
    deliveryMaxPendingBytes: Math.floor(bytes * MEMORY_SHARES.delivery),
    deliveryMaxPendingItems,
  };
}

/** The node flags that apply the plan's heap limit (for NODE_OPTIONS or a spawned worker). */
export function heapFlags(plan: WorkerMemoryPlan): string[] {
  return [`--max-old-space-size=${plan.heapMiB}`];
}

/**
 * The boot check: V8's effective heap limit (v8.getHeapStatistics().heap_size_limit, old +
 * young generation) against the budget. Returns a warning when the heap may outgrow the
 * budget, i.e. the process was started without the plan's --max-old-space-size.
 */
export function heapLimitWarning(
  plan: WorkerMemoryPlan,
  heapSizeLimitBytes: number,
): string | undefined {
  if (heapSizeLimitBytes <= plan.budgetMiB * MIB) return undefined;
  return (
    `V8 heap limit ${Math.round(heapSizeLimitBytes / MIB)} MiB exceeds CUSTODIAN_WORKER_MEMORY_MIB=${plan.budgetMiB}: ` +
    `start the worker with NODE_OPTIONS=--max-old-space-size=${plan.heapMiB} (the Helm chart does)`
  );
}

/** Estimated in-memory bytes of a log record or data point (no per-item walk for those). */
const OTHER_ITEM_BYTES = 512;

/**
 * Estimated bytes of what is handed to delivery: spans by estimateSpanBytes (the tail
 * buffers' measure, so the two budgets add up), log records and data points at a flat rate.
 */
export function estimateDeliveryBytes(
  signal: 'traces' | 'logs' | 'metrics',
  data: TracesData | LogsData | MetricsData,
  items: number,
): number {
  if (signal !== 'traces') return items * OTHER_ITEM_BYTES;
  let n = 0;
  for (const rs of (data as TracesData).resourceSpans)
    for (const ss of rs.scopeSpans) for (const sp of ss.spans) n += estimateSpanBytes(sp);
  return n;
}
