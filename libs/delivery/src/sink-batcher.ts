/**
 * Batching in front of one sink and one signal (issue #5 item 5). Records arrive from Kafka
 * already decided by the tenant's pipeline; each becomes an item whose `onDone` releases its
 * Kafka offset (apps/worker/src/consume/offset-tracker.ts). A batch is flushed when it reaches
 * maxItems or maxBytes, or maxDelayMs after its first item; it is merged (resource and scope
 * groups combined), encoded once, and handed to SinkDelivery. Every item's onDone is called
 * exactly once, and only after its batch was exported or durably queued (retry or dead-letter
 * queue in Redis). When delivery itself fails (Redis unreachable) the batch is kept and tried
 * again with backoff: its offsets stay uncommitted, so nothing is lost if the process dies.
 */
import {
  encodeLogs,
  encodeMetrics,
  encodeTraces,
  type LogsData,
  type MetricsData,
  type TracesData,
} from '@custodian/otlp';
import type { ExportBatch, ExportSignal } from '@custodian/exporters';
import { mergeLogs, mergeMetrics, mergeTraces, type SignalData } from './merge';
import type { DeliveryResult, DeliverySink } from './sink-delivery';
import type { ConfigProblem } from './delivery-config';

export interface BatchItem {
  /** Data of the batcher's signal only. */
  data: SignalData;
  /** Spans, log records or data points in `data`. */
  items: number;
  /** Encoded size estimate (e.g. the Kafka record's size); counts towards maxBytes. */
  bytes?: number;
  /** Called exactly once, after the item is exported or durably queued. */
  onDone: () => void;
}

export interface SinkBatcherOptions {
  /** Items (spans, log records, data points) that trigger a flush. */
  maxItems: number;
  /** Summed item `bytes` that trigger a flush. */
  maxBytes: number;
  /** Longest time the first item of a batch waits for more. */
  maxDelayMs: number;
  /** Batches of this batcher being delivered at the same time. */
  maxInFlight: number;
  /** First wait before re-trying a batch that delivery could not accept; doubled up to 30 s. */
  redeliverBackoffMs: number;
}

export const DEFAULT_BATCHER_OPTIONS: SinkBatcherOptions = {
  maxItems: 2000,
  maxBytes: 4 * 1024 * 1024,
  maxDelayMs: 200,
  maxInFlight: 2,
  redeliverBackoffMs: 500,
};

export function validateBatcherOptions(o: SinkBatcherOptions, prefix = 'batcher'): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [field, min] of [
    ['maxItems', 1],
    ['maxBytes', 1],
    ['maxDelayMs', 0],
    ['maxInFlight', 1],
    ['redeliverBackoffMs', 1],
  ] as const) {
    const v = o[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      problems.push({ path: `${prefix}.${field}`, message: `must be an integer >= ${min}` });
  }
  return problems;
}

/** What a batcher needs from SinkDelivery. */
export interface BatchDelivery {
  deliver(sink: DeliverySink, batch: ExportBatch): Promise<DeliveryResult>;
}

const MAX_REDELIVER_BACKOFF_MS = 30_000;

export class SinkBatcher {
  readonly options: SinkBatcherOptions;
  private data: SignalData[] = [];
  private done: (() => void)[] = [];
  private items = 0;
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Batches cut but not yet delivered, in order. */
  private readonly ready: { data: SignalData[]; done: (() => void)[]; items: number }[] = [];
  private inFlight = 0;
  private readonly idle: (() => void)[] = [];
  private accepting = true;
  private closed = false;

  constructor(
    private readonly sink: DeliverySink,
    readonly signal: ExportSignal,
    private readonly delivery: BatchDelivery,
    options: Partial<SinkBatcherOptions> = {},
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.options = { ...DEFAULT_BATCHER_OPTIONS, ...options };
    const problems = validateBatcherOptions(this.options);
    if (problems.length > 0)
      throw new Error(
        `invalid batcher options: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      );
  }

  /** Items accepted and not yet released (the consumer's backpressure signal). */
  get pendingItems(): number {
    let n = this.items;
    for (const b of this.ready) n += b.items;
    return n + this.inFlightItems;
  }
  private inFlightItems = 0;

  add(item: BatchItem): void {
    if (!this.accepting) throw new Error('SinkBatcher is closed');
    this.data.push(item.data);
    this.done.push(item.onDone);
    this.items += item.items;
    this.bytes += item.bytes ?? 0;
    if (this.items >= this.options.maxItems || this.bytes >= this.options.maxBytes) this.cut();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.cut(), this.options.maxDelayMs);
    }
  }

  /** Cuts the current batch now (if any) and resolves when everything cut so far is delivered. */
  flush(): Promise<void> {
    this.cut();
    if (this.inFlight === 0 && this.ready.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Flushes what is pending and stops accepting items. Waits at most `timeoutMs` for delivery;
   * batches still undeliverable then are abandoned without calling their onDone, so their
   * offsets stay uncommitted and Kafka redelivers them after the restart.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    this.accepting = false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush(),
      new Promise((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.closed = true;
  }

  private cut(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.data.length === 0) return;
    this.ready.push({ data: this.data, done: this.done, items: this.items });
    this.data = [];
    this.done = [];
    this.items = 0;
    this.bytes = 0;
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.ready.length > 0) {
      const b = this.ready.shift()!;
      this.inFlight++;
      this.inFlightItems += b.items;
      void this.send(b).finally(() => {
        this.inFlight--;
        this.inFlightItems -= b.items;
        this.pump();
        if (this.inFlight === 0 && this.ready.length === 0) {
          for (const resolve of this.idle.splice(0)) resolve();
        }
      });
    }
  }

  private async send(b: {
    data: SignalData[];
    done: (() => void)[];
    items: number;
  }): Promise<void> {
    const batch = this.encode(b.data, b.items);
    let wait = this.options.redeliverBackoffMs;
    for (;;) {
      try {
        await this.delivery.deliver(this.sink, batch);
        break;
      } catch (err) {
        // Not durable: keep the batch (its offsets stay uncommitted) and try again.
        this.onError(err);
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, MAX_REDELIVER_BACKOFF_MS);
      }
    }
    for (const onDone of b.done) {
      try {
        onDone();
      } catch (err) {
        this.onError(err);
      }
    }
  }

  private encode(parts: SignalData[], items: number): ExportBatch {
    switch (this.signal) {
      case 'traces': {
        const data = mergeTraces(parts as TracesData[]);
        return { signal: 'traces', data, protobuf: encodeTraces(data), items };
      }
      case 'logs': {
        const data = mergeLogs(parts as LogsData[]);
        return { signal: 'logs', data, protobuf: encodeLogs(data), items };
      }
      case 'metrics': {
        const data = mergeMetrics(parts as MetricsData[]);
        return { signal: 'metrics', data, protobuf: encodeMetrics(data), items };
      }
    }
  }
}
