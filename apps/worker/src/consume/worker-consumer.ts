/**
 * The worker's Kafka side: one consumer group over otlp.traces, otlp.logs and otlp.metrics,
 * co-partitioned, offsets committed by the worker only — never by kafkajs — and only as far
 * as each partition's OffsetTracker allows.
 *
 * Consumer lag (issue #5 item 9) is measured, not estimated: every `lagIntervalMs` one
 * ListOffsets (high watermarks) and one OffsetFetch (the group's committed offsets) per
 * refresh, reported for the partitions this worker owns only, so summing over workers counts
 * each partition once. Committed lag is what matters here: with tail sampling the commit
 * trails consumption by up to decision_wait, and that is what a crash would re-read.
 */
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { HEADERS, TOPICS, type Signal } from '@custodian/bus';
import type { PartitionProcessor } from '../pipeline/partition-processor';
import { CoPartitionAssigner } from './co-partition-assigner';

const SIGNAL_OF: Record<string, Signal> = {
  [TOPICS.traces]: 'traces',
  [TOPICS.logs]: 'logs',
  [TOPICS.metrics]: 'metrics',
};

export interface WorkerConsumerOptions {
  groupId: string;
  /** How often due tail decisions are taken and offsets committed. */
  tickMs: number;
  /** On shutdown, how long to wait for deliveries in progress before leaving uncommitted. */
  drainTimeoutMs: number;
  /**
   * Group session timeout: how long after a worker's last heartbeat (kill -9, a hung process)
   * the group hands its partitions to the others. kafkajs defaults to 30 s.
   */
  sessionTimeoutMs?: number;
  /** How often the consumer heartbeats; well under sessionTimeoutMs (a third at most). */
  heartbeatIntervalMs?: number;
  /** How often consumer lag is measured (0 = never). */
  lagIntervalMs?: number;
  /**
   * Backpressure: while this answers true (sinks hold more undelivered items than the worker
   * may keep in memory), the consumer reads no further record, heartbeating meanwhile, and
   * `onPaused` is told how long it waited.
   */
  overloaded?: () => boolean;
  onPaused?: (seconds: number) => void;
  /**
   * Kafka fetch bounds (consume/memory-budget.ts): bytes of one fetch response and of one
   * partition in it. kafkajs holds a response (inflated, when gzip'd) while its records are
   * processed. Kafka still returns one whole record batch when it alone is larger, so a big
   * record never stalls a partition. Defaults: 32 MiB per partition, kafkajs's 10 MiB total.
   */
  fetchMaxBytes?: number;
  fetchMaxBytesPerPartition?: number;
  /**
   * A fetch waits for this many bytes (or `fetchMaxWaitMs`) before the broker answers
   * (Kafka's fetch.min.bytes / fetch.max.wait.ms). With kafkajs's default of one byte, a worker
   * under steady load fetches as fast as it processes — thousands of small fetches a second,
   * each a request, a response and a pass of kafkajs's fetch loop. Defaults 64 KiB and 100 ms.
   */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
}

/** Committed lag of one partition this worker owns. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** High watermark minus the group's committed offset (the low watermark if none yet). */
  lag: number;
}

export class WorkerConsumer {
  private readonly consumer: Consumer;
  private readonly processors = new Map<number, PartitionProcessor>();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private running = false;
  /** Offsets can be committed only once the consumer has joined its group. */
  private joined = false;
  /** topic → partitions assigned to this worker at the last join. */
  private assignment: Record<string, number[]> = {};
  private readonly admin: Admin;
  private adminConnected?: Promise<void>;
  private lagTimer?: NodeJS.Timeout;
  private lag: PartitionLag[] = [];

  constructor(
    kafka: Kafka,
    private readonly opts: WorkerConsumerOptions,
    private readonly newProcessor: () => PartitionProcessor,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      partitionAssigners: [CoPartitionAssigner],
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: opts.heartbeatIntervalMs ?? 3_000,
      maxBytesPerPartition: opts.fetchMaxBytesPerPartition ?? 32 * 1024 * 1024,
      ...(opts.fetchMaxBytes !== undefined ? { maxBytes: opts.fetchMaxBytes } : {}),
      minBytes: opts.fetchMinBytes ?? 64 * 1024,
      maxWaitTimeInMs: opts.fetchMaxWaitMs ?? 500,
      allowAutoTopicCreation: false,
    });
    this.admin = kafka.admin();
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.joined = true;
      this.assignment = e.payload.memberAssignment;
      const assigned = new Set<number>();
      for (const parts of Object.values(e.payload.memberAssignment))
        for (const p of parts) assigned.add(p);
      // Buffers of partitions now owned by another worker are dropped uncommitted: the new
      // owner reads those records again (duplicates possible, loss not).
      for (const [p, proc] of [...this.processors]) {
        if (assigned.has(p)) continue;
        proc.close();
        this.processors.delete(p);
      }
      this.logger.info(
        { partitions: [...assigned].sort((a, b) => a - b) },
        'worker partitions assigned',
      );
    });
  }

  /** Traces held in tail-sampling buffers, over all partitions. */
  get bufferedTraces(): number {
    let n = 0;
    for (const p of this.processors.values()) n += p.bufferedTraces;
    return n;
  }

  /** Spans and estimated bytes in tail-sampling buffers, over all partitions. */
  get bufferedSpans(): { spans: number; bytes: number } {
    let spans = 0;
    let bytes = 0;
    for (const p of this.processors.values()) {
      const b = p.bufferedSpans;
      spans += b.spans;
      bytes += b.bytes;
    }
    return { spans, bytes };
  }

  /** Committed lag of the partitions this worker owns, as of the last measurement. */
  get consumerLag(): readonly PartitionLag[] {
    return this.lag;
  }

  /** Measures consumer lag now (also done every lagIntervalMs). */
  async measureLag(): Promise<readonly PartitionLag[]> {
    if (!this.adminConnected) {
      this.adminConnected = this.admin.connect().catch((err: unknown) => {
        this.adminConnected = undefined;
        throw err;
      });
    }
    await this.adminConnected;
    const topics = Object.keys(this.assignment).filter((t) => this.assignment[t].length > 0);
    const out: PartitionLag[] = [];
    if (topics.length > 0) {
      const committed = await this.admin.fetchOffsets({ groupId: this.opts.groupId, topics });
      for (const { topic, partitions } of committed) {
        const ends = await this.admin.fetchTopicOffsets(topic);
        const mine = new Set(this.assignment[topic]);
        for (const end of ends) {
          if (!mine.has(end.partition)) continue;
          const c = partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
          const from = BigInt(c) >= 0n ? BigInt(c) : BigInt(end.low);
          const lag = BigInt(end.high) - from;
          out.push({ topic, partition: end.partition, lag: Number(lag > 0n ? lag : 0n) });
        }
      }
    }
    this.lag = out;
    return out;
  }

  /** Partitions this worker holds state for. */
  get partitions(): number[] {
    return [...this.processors.keys()];
  }

  private processor(partition: number): PartitionProcessor {
    let p = this.processors.get(partition);
    if (!p) {
      p = this.newProcessor();
      this.processors.set(partition, p);
    }
    return p;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: Object.values(TOPICS), fromBeginning: true });
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const signal = SIGNAL_OF[batch.topic];
        const proc = this.processor(batch.partition);
        const tracker = proc.trackers[signal];
        let n = 0;
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) break;
          // After a rebalance that kept this partition here, kafkajs fetches it again from the
          // committed offset, behind what this processor holds: those records are skipped, not
          // handled twice (which threw, crash-looped the consumer and stalled the partition).
          if (tracker.seen(m.offset)) {
            resolveOffset(m.offset);
            continue;
          }
          if (this.opts.overloaded?.()) await this.waitForCapacity(heartbeat, isRunning);
          if (!isRunning() || isStale()) break;
          await proc.handle({
            offset: m.offset,
            tenantId: m.headers?.[HEADERS.tenantId]?.toString(),
            signal,
            value: m.value,
            partition: batch.partition,
            key: m.key,
            headers: m.headers ?? {},
          });
          resolveOffset(m.offset);
          if (++n % 200 === 0) await heartbeat();
        }
        await this.commit();
      },
    });
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs);
    const lagMs = this.opts.lagIntervalMs ?? 5_000;
    if (lagMs > 0) {
      this.lagTimer = setInterval(() => {
        this.measureLag().catch((err: unknown) =>
          this.logger.debug({ err }, 'consumer lag not measured'),
        );
      }, lagMs);
    }
  }

  /**
   * Holds the partition's batch until the sinks have room again, heartbeating so the group
   * does not take the partition away meanwhile. Offsets of records not yet handled are simply
   * not read yet: nothing to lose.
   */
  private async waitForCapacity(
    heartbeat: () => Promise<void>,
    isRunning: () => boolean,
  ): Promise<void> {
    const start = Date.now();
    let lastBeat = start;
    while (this.opts.overloaded?.() && isRunning() && this.running) {
      await new Promise((r) => setTimeout(r, 20));
      if (Date.now() - lastBeat >= 1000) {
        await heartbeat();
        lastBeat = Date.now();
      }
    }
    this.opts.onPaused?.((Date.now() - start) / 1000);
  }

  private async tick(): Promise<void> {
    if (this.ticking || !this.running) return;
    this.ticking = true;
    try {
      for (const p of this.processors.values()) await p.tick();
      await this.commit();
    } catch (err) {
      this.logger.warn({ err }, 'worker tick failed');
    } finally {
      this.ticking = false;
    }
  }

  /** Commits, per topic-partition, as far as its tracker allows. */
  private async commit(): Promise<void> {
    if (!this.joined) return;
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    const marks: (() => void)[] = [];
    for (const [partition, proc] of this.processors) {
      for (const signal of ['traces', 'logs', 'metrics'] as const) {
        const tracker = proc.trackers[signal];
        const next = tracker.committable();
        if (next !== undefined) {
          offsets.push({ topic: TOPICS[signal], partition, offset: next });
          marks.push(() => tracker.committed(next));
        }
      }
    }
    if (offsets.length === 0) return;
    await this.consumer.commitOffsets(offsets);
    for (const mark of marks) mark();
  }

  /**
   * Stop taking records, decide what is buffered, wait (bounded) for deliveries to become
   * durable, commit what may be committed, leave the group.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.lagTimer);
    this.running = false;
    await this.consumer.stop();
    for (const p of this.processors.values()) await p.flushAll();
    const deadline = Date.now() + this.opts.drainTimeoutMs;
    while (Date.now() < deadline) {
      const pending = [...this.processors.values()].reduce(
        (n, p) =>
          n +
          p.trackers.traces.pendingRecords +
          p.trackers.logs.pendingRecords +
          p.trackers.metrics.pendingRecords,
        0,
      );
      if (pending === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      await this.commit();
    } catch (err) {
      this.logger.warn(
        { err },
        'final commit failed; the next owner re-reads from the last commit',
      );
    }
    for (const p of this.processors.values()) p.close();
    await this.consumer.disconnect();
    if (this.adminConnected) await this.admin.disconnect().catch(() => undefined);
  }
}
