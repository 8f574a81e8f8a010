/**
 * The trace store's retention as a BullMQ repeatable job (issue #5 item 8). Every worker
 * process upserts the same job scheduler (id `store-retention`) on the queue
 * `custodian-retention`, so however many workers run there is one schedule and each firing
 * runs once, on whichever worker takes it. The job deletes spans past `retain_until`
 * (libs/store retention.ts: whole day partitions where it can, bounded batches otherwise),
 * creates the coming days' partitions, logs what it did and counts the deleted spans in
 * custodian_store_retention_deleted_spans_total.
 *
 * The interval is CUSTODIAN_RETENTION_INTERVAL_MS (default 1 h). `run()` is the job's body,
 * callable directly (tests, an operator command).
 */
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import type { Pool } from 'pg';
import { Counter, type Registry } from 'prom-client';
import { purgeExpiredSpans, type RetentionOptions, type RetentionSummary } from '@custodian/store';

export const RETENTION_QUEUE = 'custodian-retention';
export const RETENTION_SCHEDULER_ID = 'store-retention';

export interface RetentionJobOptions {
  redisUrl: string;
  pool: Pool;
  intervalMs: number;
  registry: Registry;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  /** BullMQ key prefix; default "bull". */
  prefix?: string;
  retention?: RetentionOptions;
}

export class RetentionJob {
  private readonly redis: Redis;
  private readonly queue: Queue;
  private worker?: Worker;
  private readonly deleted: Counter<'how'>;

  constructor(private readonly opts: RetentionJobOptions) {
    this.redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    this.queue = new Queue(RETENTION_QUEUE, { connection: this.redis, prefix: opts.prefix });
    this.queue.on('error', (err: Error) =>
      opts.log('warn', 'retention queue error', { err: err.message }),
    );
    this.deleted =
      (opts.registry.getSingleMetric('custodian_store_retention_deleted_spans_total') as
        Counter<'how'> | undefined) ??
      new Counter({
        name: 'custodian_store_retention_deleted_spans_total',
        help: 'Stored spans deleted by retention, by how (partition_dropped, batch_deleted).',
        labelNames: ['how'],
        registers: [opts.registry],
      });
  }

  /** Registers the repeatable schedule and starts taking its jobs. */
  async start(): Promise<void> {
    await this.queue.upsertJobScheduler(
      RETENTION_SCHEDULER_ID,
      { every: this.opts.intervalMs },
      { name: 'purge', opts: { removeOnComplete: 10, removeOnFail: 10 } },
    );
    this.worker = new Worker(RETENTION_QUEUE, () => this.run(), {
      connection: this.redis,
      prefix: this.opts.prefix,
      concurrency: 1,
    });
    this.worker.on('error', (err: Error) =>
      this.opts.log('warn', 'retention worker error', { err: err.message }),
    );
  }

  /** The schedule as Redis holds it (undefined when none is registered). */
  async schedule(): Promise<{ id: string; every?: number; next?: number } | undefined> {
    const s = (await this.queue.getJobSchedulers()).find((x) => x.key === RETENTION_SCHEDULER_ID);
    return s ? { id: s.key, every: s.every ?? undefined, next: s.next } : undefined;
  }

  /** One retention pass: deletes what is due and reports it. */
  async run(now: Date = new Date()): Promise<RetentionSummary> {
    const summary = await purgeExpiredSpans(this.opts.pool, now, this.opts.retention);
    const dropped = summary.deletedSpans - summary.deletedInBatches;
    if (dropped > 0) this.deleted.inc({ how: 'partition_dropped' }, dropped);
    if (summary.deletedInBatches > 0)
      this.deleted.inc({ how: 'batch_deleted' }, summary.deletedInBatches);
    this.opts.log('info', 'trace store retention ran', {
      deletedSpans: summary.deletedSpans,
      droppedPartitions: summary.droppedPartitions.map((p) => p.name),
      deletedInBatches: summary.deletedInBatches,
      more: summary.more,
      createdPartitions: summary.createdPartitions,
    });
    return summary;
  }

  async close(): Promise<void> {
    await this.worker?.close().catch(() => undefined);
    await this.queue.close().catch(() => undefined);
    this.redis.disconnect();
  }
}
