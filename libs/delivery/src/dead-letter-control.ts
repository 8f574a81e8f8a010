/**
 * The control plane of dead letters (issue #6 item 3): list, redrive and purge one sink's dead
 * letters from a process that does NOT export — the admin. SinkDelivery.redrive would open the
 * sink's lane with a BullMQ Worker, i.e. start exporting from the admin process; this class
 * only ever opens a BullMQ Queue (a producer): a redriven batch becomes a job on the sink's
 * retry queue and its lane is registered in the sinks set, which every worker's SinkDelivery
 * rescans (DeliveryConfig.laneScanMs), so a worker that has no lane for that sink yet opens
 * one and delivers it. Each job is queued before its dead letter is removed: a crash in between
 * duplicates rather than loses (at-least-once, like the rest of delivery).
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DeadLetterStore, type DeadLetterPage } from './dead-letters';
import { resolveDeliveryConfig, type DeliveryConfig } from './delivery-config';
import {
  QUEUED_STATES,
  laneName,
  redriveJob,
  requireIds,
  sinkMember,
  sinksKey,
  type RetryJobData,
} from './retry-lane';

export interface DeadLetterControlOptions {
  /** Redis URL; the control opens (and closes) its own connection, as BullMQ needs. */
  redisUrl: string;
  /** Must match the workers' keyPrefix (and maxAttempts, the budget a redriven batch gets). */
  config?: Partial<DeliveryConfig>;
}

/** Counts shown beside a page of dead letters. */
export interface DeadLetterCounts {
  /** Dead letters the sink holds now. */
  deadLetters: number;
  /** Batches waiting in (or being retried from) the sink's retry queue. */
  retryQueue: number;
  /** Dead letters dropped from a full dead-letter queue over its lifetime. */
  dropped: number;
}

export class DeadLetterControl {
  readonly config: DeliveryConfig;
  private readonly redis: Redis;
  private readonly store: DeadLetterStore;

  constructor(options: DeadLetterControlOptions) {
    this.config = resolveDeliveryConfig(options.config);
    this.redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    // Errors surface on the commands; the connection retries in the background.
    this.redis.on('error', () => undefined);
    this.store = new DeadLetterStore(this.redis, this.config.keyPrefix, this.config.maxDeadLetters);
  }

  /** Oldest first, metadata only (never payloads); `cursor` is the previous page's nextCursor. */
  list(
    tenantId: string,
    sinkId: string,
    opts: { limit?: number; cursor?: string } = {},
  ): Promise<DeadLetterPage> {
    requireIds(tenantId, sinkId);
    return this.store.list(tenantId, sinkId, opts);
  }

  async counts(tenantId: string, sinkId: string): Promise<DeadLetterCounts> {
    requireIds(tenantId, sinkId);
    const [deadLetters, dropped, retryQueue] = await Promise.all([
      this.store.count(tenantId, sinkId),
      this.store.dropped(tenantId, sinkId),
      this.withQueue(tenantId, sinkId, (q) => q.getJobCountByTypes(...QUEUED_STATES)),
    ]);
    return { deadLetters, dropped, retryQueue };
  }

  /**
   * Queues dead letters (`ids`, or all) on the sink's retry queue with a fresh attempt budget
   * and registers the lane for the workers; returns how many were redriven. Unknown ids are
   * skipped.
   */
  async redrive(tenantId: string, sinkId: string, ids?: readonly string[]): Promise<number> {
    requireIds(tenantId, sinkId);
    const entries = await this.store.get(tenantId, sinkId, ids);
    if (entries.length === 0) return 0;
    await this.redis.sadd(sinksKey(this.config.keyPrefix), sinkMember(tenantId, sinkId));
    await this.withQueue(tenantId, sinkId, async (queue) => {
      for (const e of entries) {
        const { data, opts } = redriveJob(tenantId, sinkId, e, this.config);
        await queue.add('retry', data, opts);
        await this.store.remove(tenantId, sinkId, [e.id]);
      }
    });
    return entries.length;
  }

  /** Deletes dead letters (`ids`, or all); returns how many were removed. */
  purge(tenantId: string, sinkId: string, ids?: readonly string[]): Promise<number> {
    requireIds(tenantId, sinkId);
    return this.store.remove(tenantId, sinkId, ids);
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async withQueue<T>(
    tenantId: string,
    sinkId: string,
    fn: (q: Queue<RetryJobData>) => Promise<T>,
  ): Promise<T> {
    const queue = new Queue<RetryJobData>(laneName(this.config.keyPrefix, tenantId, sinkId), {
      connection: this.redis,
      prefix: this.config.keyPrefix,
    });
    queue.on('error', () => undefined);
    try {
      return await fn(queue);
    } finally {
      // A Queue given a connection does not close it.
      await queue.close().catch(() => undefined);
    }
  }
}
