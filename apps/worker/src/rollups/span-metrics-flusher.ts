/**
 * Flushes the span metrics aggregator to `span_metric_rollups` every `intervalMs` (default
 * 10 s): a series once its minute has been closed for `graceMs` (default 10 s), or once no span
 * reached it for `graceMs` — so a quiet agent shows up within seconds, while a busy series is
 * written once per minute. The grace leaves time for tail-sampling decisions to mark exemplars
 * kept. `stop()` flushes everything (shutdown). The upsert adds, so a minute written in
 * several parts sums up. Rows a write failed for are kept (up to
 * `maxPending`, default 50 000, oldest dropped and counted) and written with the next flush.
 */
import type { SpanMetricRollup } from '@custodian/store';
import type { SpanMetricSeries, SpanMetricsAggregator } from './span-metrics-aggregator';

export interface SpanMetricsSink {
  addSpanMetrics(rows: readonly SpanMetricRollup[]): Promise<void>;
}

export interface SpanMetricsFlusherOptions {
  intervalMs?: number;
  graceMs?: number;
  maxPending?: number;
  clock?: () => number;
  onError?: (err: unknown) => void;
  /** Rows written by each flush. */
  onFlushed?: (rows: number) => void;
  /** Rows given up on (pending bound reached). */
  onDropped?: (rows: number) => void;
  /** Every series as it is drained, once (the OTLP export, span-metrics-export.ts). */
  onDrained?: (rows: readonly SpanMetricSeries[]) => void;
}

export class SpanMetricsFlusher {
  private timer?: NodeJS.Timeout;
  private pending: SpanMetricRollup[] = [];
  private chain: Promise<number> = Promise.resolve(0);
  private readonly clock: () => number;

  constructor(
    private readonly aggregator: SpanMetricsAggregator,
    private readonly sink: SpanMetricsSink,
    private readonly opts: SpanMetricsFlusherOptions = {},
  ) {
    this.clock = opts.clock ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.flush().catch((err: unknown) => this.opts.onError?.(err));
    }, this.opts.intervalMs ?? 10_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush(true).catch((err: unknown) => this.opts.onError?.(err));
  }

  /** Writes closed minutes (all minutes when `all`); resolves to the rows written. */
  flush(all = false): Promise<number> {
    this.chain = this.chain.catch(() => 0).then(() => this.flushOnce(all));
    return this.chain;
  }

  private async flushOnce(all: boolean): Promise<number> {
    const cutoff = this.clock() - (this.opts.graceMs ?? 10_000);
    const drained = all ? this.aggregator.drain() : this.aggregator.drain(cutoff, cutoff);
    if (drained.length > 0) this.opts.onDrained?.(drained);
    const rows = this.pending.concat(drained);
    this.pending = [];
    if (rows.length === 0) return 0;
    try {
      await this.sink.addSpanMetrics(rows);
    } catch (err) {
      const max = this.opts.maxPending ?? 50_000;
      const keep = rows.slice(Math.max(0, rows.length - max));
      if (keep.length < rows.length) this.opts.onDropped?.(rows.length - keep.length);
      this.pending = keep;
      throw err;
    }
    this.opts.onFlushed?.(rows.length);
    return rows.length;
  }
}
