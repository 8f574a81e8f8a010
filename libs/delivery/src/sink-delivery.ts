/**
 * Durable delivery to sinks (issue #5 item 5; ../shared/ARCHITECTURE.md "Reliability rules").
 *
 * `deliver()` tries the sink once with a short deadline. When that fails retryably (OTLP's
 * rules, classified once by ExportError) the batch's protobuf goes into the sink's own BullMQ
 * queue on Redis, and `deliver()` resolves only after Redis has it: the caller may then release
 * its Kafka offsets, and a worker restart loses nothing. Permanent failures go straight to the
 * sink's dead-letter queue. Each sink has its own queue and its own BullMQ worker, so a sink
 * that is down (its retries backing off, its exports timing out) holds no slot another sink or
 * tenant needs. Retries back off exponentially with jitter, never sooner than the sink's
 * Retry-After, and give up into the dead-letter queue after `maxAttempts` exports in total.
 * Both queues are bounded per sink; what overflows is dead-lettered or dropped, and counted.
 */
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { ExportError, type ExportBatch, type SinkExporter } from '@custodian/exporters';
import { DeadLetterStore, type DeadLetterPage, type DeadLetterReason } from './dead-letters';
import { deliveryMetrics, type DeliveryMetrics } from './delivery-metrics';
import { resolveDeliveryConfig, retryDelayMs, type DeliveryConfig } from './delivery-config';
import {
  BACKOFF_TYPE,
  QUEUED_STATES,
  laneName,
  parseSinkMember,
  redriveJob,
  requireIds,
  sinkMember,
  sinksKey,
  type RetryJobData,
} from './retry-lane';

export interface DeliverySink {
  tenantId: string;
  sinkId: string;
  exporter: SinkExporter;
}

export type DeliveryOutcome = 'exported' | 'queued_retry' | 'dead_lettered';

export interface DeliveryResult {
  outcome: DeliveryOutcome;
  /** Items the sink refused in a partial success (never retried). */
  rejected: number;
}

/** The current exporter of a sink, or undefined when the sink no longer exists. */
export type ResolveSink = (tenantId: string, sinkId: string) => Promise<SinkExporter | undefined>;

export interface SinkDeliveryOptions {
  /** Redis URL; SinkDelivery opens (and closes) its own connections, as BullMQ needs. */
  redisUrl: string;
  resolveSink: ResolveSink;
  registry: Registry;
  config?: Partial<DeliveryConfig>;
  /** Receives one line per notable event; payloads are never passed to it. */
  log?: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void;
}

/** Thrown by a retry attempt so that BullMQ's backoff strategy can read the sink's delay. */
class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

interface SinkLane {
  tenantId: string;
  sinkId: string;
  queue: Queue<RetryJobData>;
  worker?: Worker<RetryJobData>;
  /** When this process last queued, finished or saw a job in the lane (ms). */
  lastActive: number;
}

/** BullMQ's lists and sorted sets that hold a queue's unfinished jobs (QUEUED_STATES). */
const QUEUED_KEYS = [
  ['wait', 'llen'],
  ['paused', 'llen'],
  ['active', 'llen'],
  ['delayed', 'zcard'],
  ['prioritized', 'zcard'],
] as const;

export class SinkDelivery {
  readonly config: DeliveryConfig;
  private readonly redis: Redis;
  private readonly deadLetters: DeadLetterStore;
  private readonly metrics: DeliveryMetrics;
  private readonly lanes = new Map<string, SinkLane>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing = false;
  private scanTimer?: NodeJS.Timeout;
  private scanning?: Promise<void>;

  constructor(private readonly options: SinkDeliveryOptions) {
    this.config = resolveDeliveryConfig(options.config);
    this.redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.redis.on('error', (err: Error) => this.log('warn', 'redis error', { err: err.message }));
    this.deadLetters = new DeadLetterStore(
      this.redis,
      this.config.keyPrefix,
      this.config.maxDeadLetters,
    );
    this.metrics = deliveryMetrics(options.registry);
  }

  /**
   * Starts retry workers for every sink that has ever queued a batch (from Redis), so that
   * batches queued before a restart are delivered without waiting for new traffic; then
   * rescans that set every `laneScanMs`, so that lanes another process registered since (a
   * redrive from the admin's DeadLetterControl) get a worker here too.
   */
  async start(): Promise<void> {
    await this.scanLanes();
    if (this.scanTimer || this.closing) return;
    this.scanTimer = setInterval(() => {
      if (this.scanning) return;
      this.scanning = this.scanLanes()
        .catch((err: unknown) =>
          this.log('warn', 'lane scan failed', {
            err: err instanceof Error ? err.message : String(err),
          }),
        )
        .finally(() => (this.scanning = undefined));
    }, this.config.laneScanMs);
    this.scanTimer.unref();
  }

  /**
   * Opens a retry worker for every lane with unfinished jobs and closes the workers of lanes
   * empty for laneIdleMs: a process holds a Redis connection only for sinks with something to
   * retry, not for every sink that ever failed. Depths come from one pipeline per scan.
   */
  private async scanLanes(): Promise<void> {
    const lanes: { tenantId: string; sinkId: string; name: string }[] = [];
    for (const member of await this.redis.smembers(this.sinksKey())) {
      const ids = parseSinkMember(member);
      if (ids) lanes.push({ tenantId: ids[0], sinkId: ids[1], name: this.laneName(ids) });
    }
    if (lanes.length === 0 || this.closing) return;
    const pipeline = this.redis.pipeline();
    for (const l of lanes) {
      for (const [type, op] of QUEUED_KEYS)
        pipeline[op](`${this.config.keyPrefix}:${l.name}:${type}`);
    }
    const replies = (await pipeline.exec()) ?? [];
    const now = Date.now();
    for (let i = 0; i < lanes.length && !this.closing; i++) {
      const { tenantId, sinkId, name } = lanes[i];
      let depth = 0;
      for (let k = 0; k < QUEUED_KEYS.length; k++) {
        const [err, n] = replies[i * QUEUED_KEYS.length + k] ?? [];
        // Unreadable: assume there is work (opening a worker is the safe side).
        depth += err ? 1 : Number(n ?? 0);
      }
      const open = this.lanes.get(name);
      if (depth > 0) {
        this.lane(tenantId, sinkId, true).lastActive = now;
      } else if (open?.worker && now - open.lastActive >= this.config.laneIdleMs) {
        await this.retire(name, open);
      }
    }
  }

  /** Closes an idle lane's worker and queue; a later job reopens it (lane()). */
  private async retire(name: string, lane: SinkLane): Promise<void> {
    if (this.lanes.get(name) !== lane) return;
    this.lanes.delete(name);
    this.metrics.retryLanesOpen.set(this.openLanes);
    // Graceful: a job that became active meanwhile finishes; waiting ones stay in Redis for
    // the next scan or the next lane() of this sink.
    await lane.worker?.close().catch(() => undefined);
    await lane.queue.close().catch(() => undefined);
  }

  /** Lanes with a running retry worker in this process. */
  get openLanes(): number {
    let n = 0;
    for (const l of this.lanes.values()) if (l.worker) n++;
    return n;
  }

  private laneName([tenantId, sinkId]: [string, string]): string {
    return laneName(this.config.keyPrefix, tenantId, sinkId);
  }

  async deliver(sink: DeliverySink, batch: ExportBatch): Promise<DeliveryResult> {
    if (this.closing) throw new Error('SinkDelivery is closed');
    const p = this.deliverOnce(sink, batch);
    this.inFlight.add(p);
    try {
      return await p;
    } finally {
      this.inFlight.delete(p);
    }
  }

  private async deliverOnce(sink: DeliverySink, batch: ExportBatch): Promise<DeliveryResult> {
    const { tenantId, sinkId, exporter } = sink;
    const labels = { tenant: tenantId, sink: sinkId };
    if (!exporter.supports(batch.signal)) {
      await this.deadLetter(tenantId, sinkId, batch, {
        reason: 'unsupported_signal',
        error: `sink kind ${exporter.kind} does not accept ${batch.signal}`,
        firstFailedAt: Date.now(),
        attempts: 0,
      });
      return { outcome: 'dead_lettered', rejected: 0 };
    }
    let error: ExportError;
    try {
      const outcome = await this.timedExport(
        exporter,
        batch,
        this.config.firstAttemptTimeoutMs,
        'first',
      );
      this.metrics.batches.inc({ ...labels, outcome: 'exported' });
      this.metrics.items.inc({ ...labels, outcome: 'exported' }, batch.items - outcome.rejected);
      if (outcome.rejected > 0)
        this.metrics.items.inc({ ...labels, outcome: 'rejected' }, outcome.rejected);
      return { outcome: 'exported', rejected: outcome.rejected };
    } catch (err) {
      error = asExportError(err);
    }
    const failedAt = Date.now();
    if (!error.retryable) {
      await this.deadLetter(tenantId, sinkId, batch, {
        reason: 'permanent_error',
        error: error.message,
        firstFailedAt: failedAt,
        attempts: 1,
      });
      return { outcome: 'dead_lettered', rejected: 0 };
    }
    if (this.config.maxAttempts <= 1) {
      await this.deadLetter(tenantId, sinkId, batch, {
        reason: 'max_attempts',
        error: error.message,
        firstFailedAt: failedAt,
        attempts: 1,
      });
      return { outcome: 'dead_lettered', rejected: 0 };
    }
    const queued = await this.enqueue(
      {
        tenantId,
        sinkId,
        signal: batch.signal,
        items: batch.items,
        payload: Buffer.from(
          batch.protobuf.buffer,
          batch.protobuf.byteOffset,
          batch.protobuf.byteLength,
        ).toString('base64'),
        firstFailedAt: failedAt,
        priorAttempts: 1,
        lastError: error.message,
      },
      retryDelayMs(this.config, 1, error.retryAfterMs),
    );
    if (queued) return { outcome: 'queued_retry', rejected: 0 };
    return { outcome: 'dead_lettered', rejected: 0 };
  }

  /**
   * Puts a batch in its sink's retry queue, or — when the queue is at its bound — into the
   * dead-letter queue with reason retry_queue_full. Resolves once Redis holds it either way;
   * returns whether it was queued for retry. The bound is checked, then the job added: under
   * concurrent failures for one sink it can be exceeded by the number of concurrent callers.
   */
  private async enqueue(data: RetryJobData, delayMs: number): Promise<boolean> {
    const lane = this.lane(data.tenantId, data.sinkId, true);
    const labels = { tenant: data.tenantId, sink: data.sinkId };
    const depth = await lane.queue.getJobCountByTypes(...QUEUED_STATES);
    if (depth >= this.config.maxRetryQueueBatches) {
      await this.deadLetterData(data, 'retry_queue_full', data.lastError, data.priorAttempts);
      return false;
    }
    await this.redis.sadd(this.sinksKey(), sinkMember(data.tenantId, data.sinkId));
    await lane.queue.add('retry', data, {
      delay: delayMs,
      attempts: Math.max(1, this.config.maxAttempts - data.priorAttempts),
      backoff: { type: BACKOFF_TYPE },
      removeOnComplete: true,
      removeOnFail: true,
    });
    this.metrics.batches.inc({ ...labels, outcome: 'queued_retry' });
    this.metrics.items.inc({ ...labels, outcome: 'queued_retry' }, data.items);
    this.metrics.retryQueueDepth.set(labels, depth + 1);
    return true;
  }

  private async deadLetter(
    tenantId: string,
    sinkId: string,
    batch: ExportBatch,
    meta: { reason: DeadLetterReason; error: string; firstFailedAt: number; attempts: number },
  ): Promise<void> {
    const payload = Buffer.from(
      batch.protobuf.buffer,
      batch.protobuf.byteOffset,
      batch.protobuf.byteLength,
    );
    await this.addDeadLetter(tenantId, sinkId, {
      signal: batch.signal,
      items: batch.items,
      payload,
      ...meta,
    });
  }

  private deadLetterData(
    data: RetryJobData,
    reason: DeadLetterReason,
    error: string,
    attempts: number,
  ): Promise<void> {
    return this.addDeadLetter(data.tenantId, data.sinkId, {
      signal: data.signal,
      items: data.items,
      payload: Buffer.from(data.payload, 'base64'),
      reason,
      error,
      firstFailedAt: data.firstFailedAt,
      attempts,
    });
  }

  private async addDeadLetter(
    tenantId: string,
    sinkId: string,
    entry: Parameters<DeadLetterStore['add']>[2],
  ): Promise<void> {
    const labels = { tenant: tenantId, sink: sinkId };
    const { dropped } = await this.deadLetters.add(tenantId, sinkId, entry);
    this.metrics.batches.inc({ ...labels, outcome: 'dead_lettered' });
    this.metrics.items.inc({ ...labels, outcome: 'dead_lettered' }, entry.items);
    this.metrics.deadLetterReasons.inc({ ...labels, reason: entry.reason });
    if (dropped > 0) {
      this.metrics.deadLettersDropped.inc(labels, dropped);
      this.log('warn', 'dead-letter queue full: oldest entries dropped', {
        tenantId,
        sinkId,
        dropped,
      });
    }
    this.metrics.deadLetters.set(labels, await this.deadLetters.count(tenantId, sinkId));
    this.log('warn', 'batch dead-lettered', {
      tenantId,
      sinkId,
      reason: entry.reason,
      items: entry.items,
      error: entry.error,
    });
  }

  /** One retry attempt, run by the sink's BullMQ worker. */
  private async processRetry(job: Job<RetryJobData>): Promise<void> {
    const data = job.data;
    const labels = { tenant: data.tenantId, sink: data.sinkId };
    const attempts = data.priorAttempts + job.attemptsMade + 1;
    const exporter = await this.options.resolveSink(data.tenantId, data.sinkId);
    if (!exporter) {
      await this.deadLetterData(data, 'sink_deleted', 'the sink no longer exists', attempts - 1);
      return;
    }
    const batch: ExportBatch = {
      signal: data.signal,
      protobuf: Buffer.from(data.payload, 'base64'),
      items: data.items,
    };
    try {
      const outcome = await this.timedExport(
        exporter,
        batch,
        this.config.retryAttemptTimeoutMs,
        'retry',
      );
      this.metrics.batches.inc({ ...labels, outcome: 'retried_exported' });
      this.metrics.items.inc(
        { ...labels, outcome: 'retried_exported' },
        data.items - outcome.rejected,
      );
      if (outcome.rejected > 0)
        this.metrics.items.inc({ ...labels, outcome: 'rejected' }, outcome.rejected);
      return;
    } catch (err) {
      const error = asExportError(err);
      if (!error.retryable) {
        await this.deadLetterData(data, 'permanent_error', error.message, attempts);
        return;
      }
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await this.deadLetterData(data, 'max_attempts', error.message, attempts);
        return;
      }
      throw new RetryLater(error.message, error.retryAfterMs);
    }
  }

  private async timedExport(
    exporter: SinkExporter,
    batch: ExportBatch,
    timeoutMs: number,
    attempt: 'first' | 'retry',
  ): ReturnType<SinkExporter['export']> {
    const start = process.hrtime.bigint();
    let timer: NodeJS.Timeout | undefined;
    let result = 'ok';
    try {
      const exported = exporter.export(batch);
      return await Promise.race([
        exported,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            // The late answer is ignored; at-least-once allows the duplicate.
            exported.catch(() => undefined);
            reject(new ExportError(`no answer within ${timeoutMs} ms`, true));
          }, timeoutMs);
        }),
      ]);
    } catch (err) {
      result = asExportError(err).retryable ? 'retryable' : 'permanent';
      throw err;
    } finally {
      clearTimeout(timer);
      this.metrics.exportSeconds.observe(
        { kind: exporter.kind, attempt, result },
        Number(process.hrtime.bigint() - start) / 1e9,
      );
    }
  }

  /** Dead letters of one sink of one tenant, oldest first, without payloads. */
  listDeadLetters(
    tenantId: string,
    sinkId: string,
    opts: { limit?: number; cursor?: string } = {},
  ): Promise<DeadLetterPage> {
    requireIds(tenantId, sinkId);
    return this.deadLetters.list(tenantId, sinkId, opts);
  }

  /**
   * Moves dead letters (`ids`, or all) back into the sink's retry queue with a fresh attempt
   * budget and no delay. Each is queued before it is removed, so a crash in between duplicates
   * rather than loses. Returns how many were redriven.
   */
  async redrive(tenantId: string, sinkId: string, ids?: readonly string[]): Promise<number> {
    requireIds(tenantId, sinkId);
    const entries = await this.deadLetters.get(tenantId, sinkId, ids);
    const lane = this.lane(tenantId, sinkId, true);
    await this.redis.sadd(this.sinksKey(), sinkMember(tenantId, sinkId));
    for (const e of entries) {
      const { data, opts } = redriveJob(tenantId, sinkId, e, this.config);
      await lane.queue.add('retry', data, opts);
      await this.deadLetters.remove(tenantId, sinkId, [e.id]);
    }
    await this.refreshGauges(tenantId, sinkId);
    return entries.length;
  }

  /** Deletes dead letters (`ids`, or all) of one sink; returns how many were removed. */
  async purge(tenantId: string, sinkId: string, ids?: readonly string[]): Promise<number> {
    requireIds(tenantId, sinkId);
    const n = await this.deadLetters.remove(tenantId, sinkId, ids);
    await this.refreshGauges(tenantId, sinkId);
    return n;
  }

  /** Batches in a sink's retry queue (waiting, delayed or being retried). */
  retryQueueDepth(tenantId: string, sinkId: string): Promise<number> {
    requireIds(tenantId, sinkId);
    return this.lane(tenantId, sinkId, false).queue.getJobCountByTypes(...QUEUED_STATES);
  }

  /** Dead letters dropped from a full dead-letter queue over its lifetime. */
  deadLettersDropped(tenantId: string, sinkId: string): Promise<number> {
    requireIds(tenantId, sinkId);
    return this.deadLetters.dropped(tenantId, sinkId);
  }

  private async refreshGauges(tenantId: string, sinkId: string): Promise<void> {
    const labels = { tenant: tenantId, sink: sinkId };
    const lane = this.lane(tenantId, sinkId, false);
    this.metrics.retryQueueDepth.set(labels, await lane.queue.getJobCountByTypes(...QUEUED_STATES));
    this.metrics.deadLetters.set(labels, await this.deadLetters.count(tenantId, sinkId));
  }

  /**
   * Stops taking work, lets in-flight first attempts and retries finish (up to closeTimeoutMs;
   * an unfinished retry stays in Redis and is picked up again after the restart), then closes
   * queues and connections. Nothing already accepted is lost.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.scanTimer);
    await this.scanning;
    const bounded = (p: Promise<unknown>) =>
      Promise.race([
        p.catch(() => undefined),
        new Promise((r) => setTimeout(r, this.config.closeTimeoutMs).unref()),
      ]);
    await bounded(Promise.allSettled([...this.inFlight]));
    const lanes = [...this.lanes.values()];
    await Promise.all(
      lanes.map(async (l) => {
        if (!l.worker) return;
        const graceful = l.worker.close();
        await bounded(graceful);
        await l.worker.close(true).catch(() => undefined);
      }),
    );
    await Promise.all(lanes.map((l) => l.queue.close().catch(() => undefined)));
    this.lanes.clear();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private sinksKey(): string {
    return sinksKey(this.config.keyPrefix);
  }

  private lane(tenantId: string, sinkId: string, withWorker: boolean): SinkLane {
    const name = laneName(this.config.keyPrefix, tenantId, sinkId);
    let lane = this.lanes.get(name);
    if (!lane) {
      lane = {
        tenantId,
        sinkId,
        lastActive: Date.now(),
        queue: new Queue<RetryJobData>(name, {
          connection: this.redis,
          prefix: this.config.keyPrefix,
        }),
      };
      lane.queue.on('error', (err: Error) =>
        this.log('warn', 'retry queue error', { tenantId, sinkId, err: err.message }),
      );
      this.lanes.set(name, lane);
    }
    if (withWorker && !lane.worker && !this.closing) {
      const worker = new Worker<RetryJobData>(name, (job) => this.processRetry(job), {
        connection: this.redis,
        prefix: this.config.keyPrefix,
        concurrency: this.config.retryConcurrency,
        settings: {
          backoffStrategy: (attemptsMade, _type, err, job) =>
            retryDelayMs(
              this.config,
              ((job?.data as RetryJobData | undefined)?.priorAttempts ?? 0) + attemptsMade,
              err instanceof RetryLater ? err.retryAfterMs : undefined,
            ),
        },
      });
      worker.on('error', (err: Error) =>
        this.log('warn', 'retry worker error', { tenantId, sinkId, err: err.message }),
      );
      const current = lane;
      const touch = () => (current.lastActive = Date.now());
      worker.on('completed', () => {
        touch();
        void this.refreshGauges(tenantId, sinkId).catch(() => undefined);
      });
      worker.on('failed', touch);
      lane.worker = worker;
      this.metrics.retryLanesOpen.set(this.openLanes);
    }
    if (withWorker) lane.lastActive = Date.now();
    return lane;
  }

  private log(level: 'info' | 'warn', msg: string, fields: Record<string, unknown>): void {
    this.options.log?.(level, msg, fields);
  }
}

function asExportError(err: unknown): ExportError {
  if (err instanceof ExportError) return err;
  // An exporter bug or an unexpected failure: retry it rather than lose the batch.
  return new ExportError(err instanceof Error ? err.message : String(err), true, undefined, {
    cause: err,
  });
}
