/**
 * The worker's Kafka side: one consumer group over otlp.traces, otlp.logs and otlp.metrics,
 * co-partitioned, offsets committed by the worker only — never by kafkajs — and only as far
 * as each partition's OffsetTracker allows.
 */
import type { Consumer, Kafka } from 'kafkajs';
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
}

export class WorkerConsumer {
  private readonly consumer: Consumer;
  private readonly processors = new Map<number, PartitionProcessor>();
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private running = false;
  /** Offsets can be committed only once the consumer has joined its group. */
  private joined = false;

  constructor(
    kafka: Kafka,
    private readonly opts: WorkerConsumerOptions,
    private readonly newProcessor: () => PartitionProcessor,
    private readonly logger: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: opts.groupId,
      partitionAssigners: [CoPartitionAssigner],
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 32 * 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.joined = true;
      const assigned = new Set<number>();
      for (const parts of Object.values(e.payload.memberAssignment))
        for (const p of parts) assigned.add(p);
      // Buffers of partitions now owned by another worker are dropped uncommitted: the new
      // owner reads those records again (duplicates possible, loss not).
      for (const p of [...this.processors.keys()]) if (!assigned.has(p)) this.processors.delete(p);
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
        let n = 0;
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) break;
          await proc.handle({
            offset: m.offset,
            tenantId: m.headers?.[HEADERS.tenantId]?.toString(),
            signal,
            value: m.value,
          });
          resolveOffset(m.offset);
          if (++n % 200 === 0) await heartbeat();
        }
        await this.commit();
      },
    });
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs);
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
    await this.consumer.disconnect();
  }
}
