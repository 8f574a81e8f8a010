/**
 * The worker's share of the trace store and rollups, assembled in one place so the runtime
 * only starts and stops it: one `pg` pool (libs/store) for the store sink's writes, the
 * retention job, span metric and usage rollups; the day partitions ensured at start; the span
 * metrics aggregator and its flusher; the usage collector reading the worker's counters.
 *
 * Usage from the worker (issue #6): `custodian_worker_discarded_items_total` gives sampled_out
 * (reasons head_sampled, tail_sampled) and dropped (every other reason);
 * `custodian_delivery_items_total` with outcome exported / retried_exported gives exported,
 * per sink id.
 */
import type { Pool } from 'pg';
import { Counter, type Registry } from 'prom-client';
import {
  CounterUsageCollector,
  RollupRepository,
  StoreKeyring,
  TraceStore,
  createStorePool,
  ensurePartitions,
  type CounterUsageSource,
} from '@custodian/store';
import type { StoreWriteReport } from '@custodian/exporters';
import { RetentionJob } from '../retention/retention-job';
import { SpanMetricsAggregator, type SpanMetricSeries } from '../rollups/span-metrics-aggregator';
import { SpanMetricsFlusher } from '../rollups/span-metrics-flusher';

type Log = (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;

export interface WorkerStoreOptions {
  databaseUrl: string;
  redisUrl: string;
  encryptionKey: Uint8Array;
  retentionIntervalMs: number;
  registry: Registry;
  log: Log;
}

const SAMPLED = new Set(['head_sampled', 'tail_sampled']);

/** Usage rows from the worker's own counters. */
export const WORKER_USAGE_SOURCES: readonly CounterUsageSource[] = [
  {
    counter: 'custodian_worker_discarded_items_total',
    map: (l) =>
      typeof l.tenant === 'string' && typeof l.signal === 'string' && typeof l.reason === 'string'
        ? {
            tenantId: l.tenant,
            signal: l.signal,
            metric: SAMPLED.has(l.reason) ? 'sampled_out' : 'dropped',
            reason: l.reason,
          }
        : undefined,
  },
  {
    counter: 'custodian_delivery_items_total',
    map: (l) =>
      typeof l.tenant === 'string' &&
      typeof l.sink === 'string' &&
      (l.outcome === 'exported' || l.outcome === 'retried_exported')
        ? { tenantId: l.tenant, signal: 'all', metric: 'exported', reason: l.sink }
        : undefined,
  },
];

export class WorkerStore {
  readonly pool: Pool;
  readonly traces: TraceStore;
  readonly rollups: RollupRepository;
  readonly spanMetrics = new SpanMetricsAggregator();
  readonly retention: RetentionJob;
  private readonly flusher: SpanMetricsFlusher;
  private readonly usage: CounterUsageCollector;
  private readonly written: Counter<'tenant' | 'outcome'>;
  private started?: Promise<void>;
  /** Where drained span-metric series also go (the OTLP export), once the runtime sets it. */
  private spanMetricsTap?: (rows: readonly SpanMetricSeries[]) => void;

  constructor(private readonly opts: WorkerStoreOptions) {
    this.pool = createStorePool(opts.databaseUrl);
    this.pool.on('error', (err) => opts.log('warn', 'store pool error', { err: err.message }));
    this.traces = new TraceStore(this.pool, new StoreKeyring(this.pool, opts.encryptionKey));
    this.rollups = new RollupRepository(this.pool);
    this.retention = new RetentionJob({
      redisUrl: opts.redisUrl,
      pool: this.pool,
      intervalMs: opts.retentionIntervalMs,
      registry: opts.registry,
      log: opts.log,
    });
    this.flusher = new SpanMetricsFlusher(this.spanMetrics, this.rollups, {
      onDrained: (rows) => this.spanMetricsTap?.(rows),
      onError: (err) =>
        opts.log('warn', 'span metrics flush failed; retrying next flush', {
          err: (err as Error).message,
        }),
    });
    this.usage = new CounterUsageCollector(opts.registry, WORKER_USAGE_SOURCES, this.rollups, {
      onError: (err) =>
        opts.log('warn', 'usage flush failed; retrying next flush', {
          err: (err as Error).message,
        }),
    });
    this.written = new Counter({
      name: 'custodian_store_spans_total',
      help: 'Spans handed to the trace store, by tenant and outcome (inserted, duplicate = already stored, invalid = bad ids).',
      labelNames: ['tenant', 'outcome'],
      registers: [opts.registry],
    });
  }

  /** Also hands every drained span-metric series to `tap` (span_metrics export to sinks). */
  tapSpanMetrics(tap: (rows: readonly SpanMetricSeries[]) => void): void {
    this.spanMetricsTap = tap;
  }

  /** For the store sink: counts what each write did. */
  onWritten = (r: StoreWriteReport): void => {
    if (r.inserted) this.written.inc({ tenant: r.tenantId, outcome: 'inserted' }, r.inserted);
    if (r.duplicates) this.written.inc({ tenant: r.tenantId, outcome: 'duplicate' }, r.duplicates);
    if (r.invalid) this.written.inc({ tenant: r.tenantId, outcome: 'invalid' }, r.invalid);
  };

  /**
   * Partitions ahead, the retention schedule, the flushers. Retries until PostgreSQL and Redis
   * answer (spans written meanwhile land in the default partition); never throws.
   */
  start(isStopped: () => boolean): Promise<void> {
    this.flusher.start();
    this.usage.start();
    this.started = (async () => {
      for (let attempt = 1; !isStopped(); attempt++) {
        try {
          await ensurePartitions(this.pool);
          await this.retention.start();
          return;
        } catch (err) {
          this.opts.log('warn', 'trace store setup failed; retrying', {
            err: (err as Error).message,
            attempt,
          });
          await new Promise((r) => setTimeout(r, Math.min(attempt * 1000, 10_000)));
        }
      }
    })();
    return this.started;
  }

  /** Drains every span-metric series now (shutdown: before the export's last send). */
  flushSpanMetrics(): Promise<number> {
    return this.flusher.flush(true).catch(() => 0);
  }

  /** Last flushes, then closes the job and the pool. */
  async stop(): Promise<void> {
    await this.started?.catch(() => undefined);
    await this.flusher.stop();
    await this.usage.stop();
    await this.retention.close();
    await this.pool.end().catch(() => undefined);
  }
}
