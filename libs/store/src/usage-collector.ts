/**
 * Usage rollups from the counters a process already keeps (issue #6: "usage per tenant per
 * minute (received, rejected by reason, sampled out, exported)").
 *
 * The gateway and the worker already count every accepted and discarded item with its tenant
 * and reason in Prometheus counters (CONVENTIONS.md: "Every discarded item is counted with a
 * reason and a tenant"). Rather than a second set of counting calls beside each of those —
 * which could drift from them — this collector reads the counters every `intervalMs`
 * (default 10 s), turns the change since its last read into usage deltas for the current
 * minute, and adds them to `usage_rollups`. The in-memory state is just the last value seen
 * per series; a failed write leaves it unchanged, so the delta is written by the next flush.
 * `stop()` flushes once more (shutdown).
 *
 * Precision: an item is attributed to the minute of the flush that saw it (at most
 * `intervalMs` late). A process that dies loses at most the last interval's deltas.
 */
import type { Registry } from 'prom-client';
import type { UsageDelta, UsageMetric } from './rollups';

export interface UsageKey {
  tenantId: string;
  signal: string;
  metric: UsageMetric;
  reason: string;
}

export interface CounterUsageSource {
  /** A counter in the registry (e.g. custodian_gateway_accepted_items_total). */
  counter: string;
  /** The usage row a series adds to, or undefined to ignore the series. */
  map(labels: Record<string, string | number | undefined>): UsageKey | undefined;
}

export interface UsageSink {
  addUsage(rows: readonly UsageDelta[]): Promise<void>;
}

export interface CounterUsageCollectorOptions {
  intervalMs?: number;
  clock?: () => number;
  onError?: (err: unknown) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MINUTE_MS = 60_000;

export class CounterUsageCollector {
  private readonly last = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<number> = Promise.resolve(0);
  private readonly clock: () => number;

  constructor(
    private readonly registry: Registry,
    private readonly sources: readonly CounterUsageSource[],
    private readonly sink: UsageSink,
    private readonly opts: CounterUsageCollectorOptions = {},
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

  /** Stops the timer and flushes what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush().catch((err: unknown) => this.opts.onError?.(err));
  }

  /** Writes the deltas since the last successful flush; resolves to the rows written. */
  flush(): Promise<number> {
    // One flush at a time: two overlapping reads would both write the same delta.
    this.flushing = this.flushing.catch(() => 0).then(() => this.flushOnce());
    return this.flushing;
  }

  private async flushOnce(): Promise<number> {
    const minute = new Date(Math.floor(this.clock() / MINUTE_MS) * MINUTE_MS);
    const rows = new Map<string, UsageDelta>();
    const seen: [string, number][] = [];
    for (const source of this.sources) {
      const metric = this.registry.getSingleMetric(source.counter);
      if (!metric) continue;
      const { values } = await metric.get();
      for (const v of values) {
        const key = source.map(v.labels);
        if (!key || !UUID.test(key.tenantId)) continue;
        const series = `${source.counter}|${JSON.stringify(v.labels)}`;
        const before = this.last.get(series) ?? 0;
        // A counter only grows; a smaller value means it was reset (a new registry).
        const delta = v.value >= before ? v.value - before : v.value;
        seen.push([series, v.value]);
        if (delta <= 0) continue;
        const rowKey = `${key.tenantId}|${key.signal}|${key.metric}|${key.reason}`;
        const row = rows.get(rowKey);
        if (row) row.count += delta;
        else rows.set(rowKey, { ...key, minute, count: delta });
      }
    }
    if (rows.size > 0) await this.sink.addUsage([...rows.values()]);
    for (const [series, value] of seen) this.last.set(series, value);
    return rows.size;
  }
}
