/**
 * Sends a tenant's span metrics to the sinks its policy names in `span_metrics.export_to`
 * (issue #5 item 7), through the same delivery path as everything else (the pipeline's
 * Delivery port → SinkBatcher → SinkDelivery), so retries, the retry queue and dead letters
 * apply to them as to spans.
 *
 * The flusher hands over every series it drains (closed minutes, or series idle for its grace,
 * which leaves time for tail-sampling decisions to mark exemplars kept). Rows wait here per
 * tenant and go out once `interval` has passed since that tenant's last send (the first batch
 * at once), as one OTLP request per sink (span-metrics-otlp.ts). Tenants that did not ask are
 * skipped (their rows are in PostgreSQL anyway). Rows of a sink the tenant does not have are
 * counted (`no_such_sink`); rows beyond `maxPendingPerTenant` are dropped oldest first and
 * counted (`span_metrics_overflow`).
 *
 * Like the rollups themselves this is in memory until handed to delivery: a worker that dies
 * with rows here loses those minutes for the sink (the spans are re-read from Kafka, counted
 * again, and exported then).
 */
import {
  spanMetricsIntervalMs,
  type CompiledPolicy,
  type SpanMetricsExportConfig,
} from '@custodian/policy';
import type { Delivery, PolicySource, SinkSource } from '../pipeline/ports';
import type { SpanMetricSeries } from './span-metrics-aggregator';
import { spanMetricsPoints, spanMetricsToOtlp } from './span-metrics-otlp';

export interface SpanMetricsExportOptions {
  policies: PolicySource;
  sinks: SinkSource;
  delivery: Delivery;
  /** Data points handed to delivery, per sink; and data points not exported, by reason. */
  counters?: {
    exported(tenantId: string, sink: string, points: number): void;
    discarded(tenantId: string, reason: string, points: number): void;
  };
  log?: (level: 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  clock?: () => number;
  /** How often tenants are checked for a due send; default 1000 ms. */
  tickMs?: number;
  /** Series held per tenant before the oldest are dropped; default 20 000. */
  maxPendingPerTenant?: number;
}

export class SpanMetricsExport {
  private readonly pending = new Map<string, SpanMetricSeries[]>();
  private readonly lastSent = new Map<string, number>();
  private readonly clock: () => number;
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SpanMetricsExportOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** Takes drained series (any tenants); sent on a later tick. */
  offer(rows: readonly SpanMetricSeries[]): void {
    const max = this.opts.maxPendingPerTenant ?? 20_000;
    for (const r of rows) {
      let list = this.pending.get(r.tenantId);
      if (!list) {
        list = [];
        this.pending.set(r.tenantId, list);
      }
      list.push(r);
      if (list.length > max) {
        const dropped = list.splice(0, list.length - max);
        this.opts.counters?.discarded(
          r.tenantId,
          'span_metrics_overflow',
          spanMetricsPoints(dropped),
        );
      }
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  /** Stops the timer and hands everything pending to delivery (shutdown: before batchers close). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.tick(true);
  }

  /** Sends what is due (everything when `all`). Never throws. */
  tick(all = false): Promise<void> {
    this.chain = this.chain.then(() => this.sendDue(all));
    return this.chain;
  }

  private async sendDue(all: boolean): Promise<void> {
    const now = this.clock();
    for (const [tenantId, rows] of [...this.pending]) {
      let settings: SpanMetricsExportConfig | undefined;
      try {
        const policy: CompiledPolicy = await this.opts.policies.get(tenantId);
        settings = policy.document.span_metrics;
      } catch {
        // No policy now (database down, tenant gone): keep the rows for the next tick; the
        // pending bound caps them.
        continue;
      }
      if (!settings) {
        this.pending.delete(tenantId);
        continue;
      }
      const last = this.lastSent.get(tenantId);
      if (!all && last !== undefined && now - last < spanMetricsIntervalMs(settings)) continue;
      this.pending.delete(tenantId);
      this.lastSent.set(tenantId, now);
      await this.send(tenantId, settings, rows);
    }
  }

  private async send(
    tenantId: string,
    settings: SpanMetricsExportConfig,
    rows: SpanMetricSeries[],
  ): Promise<void> {
    const points = spanMetricsPoints(rows);
    let sinks;
    try {
      sinks = await this.opts.sinks.forTenant(tenantId);
    } catch (err) {
      this.opts.counters?.discarded(tenantId, 'sinks_unavailable', points);
      this.opts.log?.('warn', 'span metrics not exported: sinks unavailable', {
        tenantId,
        err: (err as Error).message,
      });
      return;
    }
    for (const name of settings.export_to) {
      const sink = sinks.find((s) => s.name === name);
      if (!sink) {
        this.opts.counters?.discarded(tenantId, 'no_such_sink', points);
        continue;
      }
      // One request per sink: the batcher may merge it with others, never shares it.
      this.opts.delivery.submit({
        tenantId,
        sink,
        signal: 'metrics',
        data: spanMetricsToOtlp(rows),
        items: points,
        onDone: () => undefined,
      });
      this.opts.counters?.exported(tenantId, sink.name, points);
    }
  }
}
