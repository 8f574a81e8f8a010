import { getHeapStatistics } from 'node:v8';
import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { CustodianConfig } from '@custodian/config';
import { DeadLetterProducer, KafkaAdmin, TOPICS, createKafka } from '@custodian/bus';
import { PrismaService } from '@custodian/db';
import {
  applyHeapGrowing,
  CONFIG,
  Counter,
  Gauge,
  LOGGER,
  METRICS,
  type Logger,
  type Registry,
} from '@custodian/ops';
import { TailBufferBudget } from '@custodian/policy';
import { WorkerConsumer } from './consume/worker-consumer';
import {
  estimateDeliveryBytes,
  heapLimitWarning,
  workerMemoryPlan,
  type WorkerMemoryPlan,
} from './consume/memory-budget';
import { SinkBatcher, SinkDelivery } from '@custodian/delivery';
import { createSinkExporterFactory } from '@custodian/exporters';
import { DeadLetterQueue } from './pipeline/dead-letter-queue';
import { PartitionProcessor, type PipelineCounters } from './pipeline/partition-processor';
import type { Delivery, DeliveryItem, PolicySource, SinkSource } from './pipeline/ports';
import { TenantPolicies } from './tenants/tenant-policies';
import { TenantSinks } from './tenants/tenant-sinks';
import { SPAN_METRICS_KEYS } from './rollups/span-metrics-aggregator';
import { observeSpanMetrics } from './rollups/span-metrics-hook';
import { SpanMetricsExport } from './rollups/span-metrics-export';
import { WorkerStore } from './store/worker-store';

/**
 * The worker role, assembled: tenant policies and sinks from PostgreSQL (reloaded within 5 s),
 * durable delivery through Redis, and the Kafka consumer whose commits follow the pipeline's
 * offset trackers, within the memory budget CUSTODIAN_WORKER_MEMORY_MIB
 * (consume/memory-budget.ts: one tail-buffer budget shared by every partition and tenant, fetch
 * sizes, delivery's pending bound, and a boot check of V8's heap limit). Start order:
 * configuration and delivery first (so retries queued before a restart resume), then
 * consumption. Stop order: consumption (buffered traces decided and handed over, offsets
 * committed), then batchers and delivery, then configuration.
 */
@Injectable()
export class WorkerRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log: Logger;
  private readonly policies: TenantPolicies;
  private readonly sinks: TenantSinks;
  private readonly delivery: SinkDelivery;
  private readonly batchers = new Map<string, SinkBatcher>();
  /** Items handed to batchers whose onDone has not run yet (the backpressure measure). */
  private pendingItems = 0;
  /** Estimated bytes of those items (bounded by the memory budget's delivery share). */
  private pendingBytes = 0;
  private readonly consumer: WorkerConsumer;
  /** Trace store, retention job, span metric and usage rollups. */
  private readonly store: WorkerStore;
  private readonly deadLetterProducer: DeadLetterProducer;
  private readonly deadLetters: DeadLetterQueue;
  /** Span metrics to the sinks a policy's `span_metrics.export_to` names. */
  private readonly spanMetricsExport: SpanMetricsExport;
  /** Sub-budgets derived from CUSTODIAN_WORKER_MEMORY_MIB. */
  readonly memory: WorkerMemoryPlan;
  /** The tail-sampling byte budget of the whole process (all partitions, all tenants). */
  readonly tailBudget: TailBufferBudget;
  private starting?: Promise<void>;
  private stopped = false;

  constructor(
    @Inject(CONFIG) config: CustodianConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(METRICS) registry: Registry,
    kafkaAdmin: KafkaAdmin,
    db: PrismaService,
  ) {
    this.log = logger.child({ component: 'worker' });
    this.memory = workerMemoryPlan(config.workerMemoryMib, config.deliveryMaxPendingItems);
    this.tailBudget = new TailBufferBudget({
      maxBytes: this.memory.tailBufferBytes,
      tenantMaxBytes: this.memory.tenantTailBufferBytes,
    });
    // V8 grows heaps under ~2 GiB cautiously, so under the budget's --max-old-space-size the
    // worker ran major GCs far more often (libs/ops/src/heap.ts).
    applyHeapGrowing();
    const heapWarning = heapLimitWarning(this.memory, getHeapStatistics().heap_size_limit);
    if (heapWarning) this.log.warn({ memory: this.memory }, heapWarning);
    else this.log.info({ memory: this.memory }, 'worker memory budget');
    this.policies = new TenantPolicies(db.client, {
      encryptionKey: config.encryptionKey,
      logger: this.log,
    });
    this.store = new WorkerStore({
      databaseUrl: config.databaseUrl,
      redisUrl: config.redisUrl,
      encryptionKey: config.encryptionKey,
      retentionIntervalMs: config.retentionIntervalMs,
      registry,
      log: (level, msg, fields) => this.log[level](fields, msg),
    });
    this.sinks = new TenantSinks(db.client, {
      encryptionKey: config.encryptionKey,
      logger: this.log,
      createExporter: createSinkExporterFactory({
        store: { writer: this.store.traces, options: { onWritten: this.store.onWritten } },
        kafka: {
          kafka: (brokers) =>
            createKafka(
              { ...kafkaAdmin.settings, brokers: brokers ?? kafkaAdmin.settings.brokers },
              logger,
              'sink',
            ),
          producerId: config.instanceId,
        },
      }),
    });
    this.delivery = new SinkDelivery({
      redisUrl: config.redisUrl,
      registry,
      resolveSink: (tenantId, sinkId) => this.sinks.resolve(tenantId, sinkId),
      log: (level, msg, fields) => this.log[level](fields, msg),
      config: {
        keyPrefix: config.deliveryKeyPrefix,
        maxAttempts: config.deliveryMaxAttempts,
        initialBackoffMs: config.deliveryInitialBackoffMs,
        maxBackoffMs: config.deliveryMaxBackoffMs,
      },
    });
    if (config.kafkaWorkerHeartbeatMs * 3 > config.kafkaWorkerSessionTimeoutMs)
      throw new Error(
        'KAFKA_WORKER_HEARTBEAT_MS must be at most a third of KAFKA_WORKER_SESSION_TIMEOUT_MS',
      );

    const discarded = new Counter({
      name: 'custodian_worker_discarded_items_total',
      help: 'Items that reached no sink, by tenant, signal and reason (sampled out, no such sink, undecodable, ...).',
      labelNames: ['tenant', 'signal', 'reason'],
      registers: [registry],
    });
    const routed = new Counter({
      name: 'custodian_worker_routed_items_total',
      help: 'Items handed to delivery, by tenant, signal and sink.',
      labelNames: ['tenant', 'signal', 'sink'],
      registers: [registry],
    });
    const decided = new Counter({
      name: 'custodian_worker_tail_decisions_total',
      help: 'Traces decided by tail sampling, by tenant, outcome and cause (decision_wait, late_span, num_traces, budget, flush).',
      labelNames: ['tenant', 'sampled', 'cause'],
      registers: [registry],
    });
    const pendingGauge: Gauge = new Gauge({
      name: 'custodian_worker_delivery_pending_items',
      help: 'Items handed to sinks and not yet exported or durably queued; the consumer pauses past CUSTODIAN_DELIVERY_MAX_PENDING_ITEMS, or when their estimated bytes pass the delivery share of the memory budget.',
      registers: [registry],
      collect: () => {
        pendingGauge.set(this.pendingItems);
      },
    });
    const paused = new Counter({
      name: 'custodian_worker_backpressure_seconds_total',
      help: 'Seconds the consumer waited for sinks to catch up before reading more records.',
      registers: [registry],
    });
    const withheld = new Counter({
      name: 'custodian_worker_restricted_withheld_items_total',
      help: 'Items sent to a sink with their restricted values replaced: the route allowed restricted values, the sink is not cleared for them.',
      labelNames: ['tenant', 'signal', 'sink'],
      registers: [registry],
    });
    const counters: PipelineCounters = {
      discarded: (tenant, signal, reason, n) => discarded.inc({ tenant, signal, reason }, n),
      routed: (tenant, signal, sink, n) => routed.inc({ tenant, signal, sink }, n),
      decided: (tenant, sampled, cause) => decided.inc({ tenant, sampled: String(sampled), cause }),
      restrictedWithheld: (tenant, signal, sink, n) => withheld.inc({ tenant, signal, sink }, n),
    };
    const buffered = () => this.consumer?.bufferedTraces ?? 0;
    new Gauge({
      name: 'custodian_worker_buffered_traces',
      help: 'Traces waiting in tail-sampling buffers for their decision.',
      registers: [registry],
      collect() {
        this.set(buffered());
      },
    });
    const occupancy = () => this.consumer?.bufferedSpans ?? { spans: 0, bytes: 0 };
    new Gauge({
      name: 'custodian_worker_buffered_spans',
      help: 'Spans held in tail-sampling buffers (buffer occupancy).',
      registers: [registry],
      collect() {
        this.set(occupancy().spans);
      },
    });
    new Gauge({
      name: 'custodian_worker_buffered_bytes',
      help: 'Estimated bytes held in tail-sampling buffers of all partitions and tenants (what memory_budget_bytes{part="tail_buffers"} bounds).',
      registers: [registry],
      collect() {
        this.set(occupancy().bytes);
      },
    });
    const plan = this.memory;
    const budget = this.tailBudget;
    new Gauge({
      name: 'custodian_worker_memory_budget_bytes',
      help: 'The worker memory budget (CUSTODIAN_WORKER_MEMORY_MIB) and what is derived from it, by part: total, heap (V8 old generation), tail_buffers (all tenants), tenant_tail_buffers (one tenant), fetch (one Kafka fetch response), delivery (pending items, estimated).',
      labelNames: ['part'],
      registers: [registry],
      collect() {
        const MIB = 1024 * 1024;
        this.set({ part: 'total' }, plan.budgetMiB * MIB);
        this.set({ part: 'heap' }, plan.heapMiB * MIB);
        this.set({ part: 'tail_buffers' }, plan.tailBufferBytes);
        this.set({ part: 'tenant_tail_buffers' }, plan.tenantTailBufferBytes);
        this.set({ part: 'fetch' }, plan.fetchMaxBytes);
        this.set({ part: 'delivery' }, plan.deliveryMaxPendingBytes);
      },
    });
    const pendingBytes = () => this.pendingBytes;
    new Gauge({
      name: 'custodian_worker_delivery_pending_bytes',
      help: 'Estimated bytes of the items handed to sinks and not yet exported or durably queued; the consumer pauses past memory_budget_bytes{part="delivery"}.',
      registers: [registry],
      collect() {
        this.set(pendingBytes());
      },
    });
    new Gauge({
      name: 'custodian_worker_tenant_buffered_bytes',
      help: 'Estimated bytes one tenant holds in tail-sampling buffers over all partitions (what memory_budget_bytes{part="tenant_tail_buffers"} bounds; custodian_worker_buffered_bytes is the total).',
      labelNames: ['tenant'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [tenant, bytes] of budget.tenantBytes()) this.set({ tenant }, bytes);
      },
    });
    const reported = new Map<string, number>();
    new Counter({
      name: 'custodian_worker_memory_early_decisions_total',
      help: 'Traces decided early by the worker memory budget, by tenant and bound: tenant (the tenant passed its share) or global (the process passed its tail-buffer budget and this tenant held the most). Also counted in custodian_worker_tail_decisions_total{cause="budget"}.',
      labelNames: ['tenant', 'bound'],
      registers: [registry],
      collect() {
        for (const [tenant, e] of budget.evictions()) {
          for (const bound of ['tenant', 'global'] as const) {
            const key = `${tenant}\u0000${bound}`;
            const delta = e[bound] - (reported.get(key) ?? 0);
            if (delta > 0) {
              this.inc({ tenant, bound }, delta);
              reported.set(key, e[bound]);
            }
          }
        }
      },
    });
    const lag = () => this.consumer?.consumerLag ?? [];
    new Gauge({
      name: 'custodian_worker_consumer_lag',
      help: "Records between a partition's high watermark and the group's committed offset, for the partitions this worker owns (measured every 5 s).",
      labelNames: ['topic', 'partition'],
      registers: [registry],
      collect() {
        this.reset();
        for (const l of lag()) this.set({ topic: l.topic, partition: String(l.partition) }, l.lag);
      },
    });
    const deadLettered = new Counter({
      name: 'custodian_worker_dead_lettered_records_total',
      help: 'Kafka records the worker could not process, put on the otlp.deadletter topic, by tenant, signal and reason.',
      labelNames: ['tenant', 'signal', 'reason'],
      registers: [registry],
    });
    const deadLetterRetries = new Counter({
      name: 'custodian_worker_dead_letter_retries_total',
      help: 'Failed attempts to produce to the otlp.deadletter topic (retried; the offset stays held).',
      labelNames: ['signal'],
      registers: [registry],
    });
    this.deadLetterProducer = new DeadLetterProducer(
      createKafka(kafkaAdmin.settings, logger, 'worker-dlq'),
    );
    this.deadLetters = new DeadLetterQueue({
      send: (rec) => this.deadLetterProducer.send({ ...rec, topic: TOPICS[rec.signal] }),
      onDeadLettered: (rec) =>
        deadLettered.inc({ tenant: rec.tenantId, signal: rec.signal, reason: rec.reason }),
      onRetry: (rec, err, attempt) => {
        deadLetterRetries.inc({ signal: rec.signal });
        this.log.warn(
          { err, partition: rec.partition, offset: rec.offset, attempt },
          'dead-letter produce failed; retrying',
        );
      },
    });
    // Span metrics see every span before sampling through this port (rollups/span-metrics-hook.ts).
    const policies: PolicySource = observeSpanMetrics(
      { get: async (t) => (await this.policies.get(t)).compiled },
      this.store.spanMetrics,
    );
    const sinks: SinkSource = {
      forTenant: async (t) => (await this.sinks.forTenant(t)).filter((s) => s.enabled),
    };
    const delivery: Delivery = { submit: (item) => this.submit(item) };
    this.spanMetricsExport = new SpanMetricsExport({
      policies: { get: async (t) => (await this.policies.get(t)).compiled },
      sinks,
      delivery,
      counters: {
        exported: (tenant, sink, n) => routed.inc({ tenant, signal: 'span_metrics', sink }, n),
        discarded: (tenant, reason, n) =>
          discarded.inc({ tenant, signal: 'span_metrics', reason }, n),
      },
      log: (level, msg, fields) => this.log[level](fields, msg),
    });
    this.store.tapSpanMetrics((rows) => this.spanMetricsExport.offer(rows));
    this.consumer = new WorkerConsumer(
      createKafka(kafkaAdmin.settings, logger, 'worker'),
      {
        groupId: config.kafkaWorkerGroup,
        tickMs: 200,
        drainTimeoutMs: 10_000,
        sessionTimeoutMs: config.kafkaWorkerSessionTimeoutMs,
        heartbeatIntervalMs: config.kafkaWorkerHeartbeatMs,
        overloaded: () =>
          this.pendingItems >= plan.deliveryMaxPendingItems ||
          this.pendingBytes >= plan.deliveryMaxPendingBytes,
        fetchMaxBytes: plan.fetchMaxBytes,
        fetchMaxBytesPerPartition: plan.fetchMaxBytesPerPartition,
        fetchMinBytes: config.kafkaWorkerFetchMinBytes,
        fetchMaxWaitMs: config.kafkaWorkerFetchMaxWaitMs,
        onPaused: (seconds) => paused.inc(seconds),
      },
      () =>
        new PartitionProcessor({
          policies,
          sinks,
          delivery,
          counters,
          now: Date.now,
          deadLetters: this.deadLetters,
          tailBudget: budget,
          firstPassKeys: SPAN_METRICS_KEYS,
          log: (level, msg, fields) => this.log[level](fields, msg),
        }),
      this.log,
    );
  }

  private submit(item: DeliveryItem): void {
    const key = `${item.tenantId}/${item.sink.id}/${item.signal}`;
    let b = this.batchers.get(key);
    if (!b) {
      b = new SinkBatcher(
        { tenantId: item.tenantId, sinkId: item.sink.id, exporter: item.sink.exporter },
        item.signal,
        this.delivery,
        {},
        (err) =>
          this.log.warn(
            { err, tenantId: item.tenantId, sinkId: item.sink.id },
            'delivery hand-off failed; retrying',
          ),
      );
      this.batchers.set(key, b);
    }
    const bytes = estimateDeliveryBytes(item.signal, item.data, item.items);
    this.pendingItems += item.items;
    this.pendingBytes += bytes;
    let done = false;
    b.add({
      data: item.data,
      items: item.items,
      onDone: () => {
        if (!done) {
          done = true;
          this.pendingItems -= item.items;
          this.pendingBytes -= bytes;
        }
        item.onDone();
      },
    });
  }

  onApplicationBootstrap(): void {
    this.starting = this.start();
  }

  private async start(): Promise<void> {
    this.policies.start();
    this.sinks.start();
    await this.delivery.start();
    void this.store.start(() => this.stopped);
    this.spanMetricsExport.start();
    // Kafka may not be up yet: keep trying; readiness reports it meanwhile.
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.consumer.start();
        this.log.info('worker consuming');
        return;
      } catch (err) {
        this.log.warn({ err, attempt }, 'worker consumer could not start; retrying');
        await new Promise((r) => setTimeout(r, Math.min(attempt * 1000, 5000)));
      }
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    await this.consumer
      .stop()
      .catch((err: unknown) => this.log.warn({ err }, 'consumer stop failed'));
    this.deadLetters.close();
    await this.deadLetterProducer.close();
    await this.store.flushSpanMetrics();
    await this.spanMetricsExport.stop();
    await Promise.all([...this.batchers.values()].map((b) => b.close(10_000)));
    await this.delivery.close();
    await this.store.stop();
    await Promise.all([this.policies.stop(), this.sinks.stop()]);
    this.log.info('worker stopped');
  }
}
