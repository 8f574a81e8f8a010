/**
 * Delivery metrics (issue #5 item 5). Registered on the injected registry, reusing a metric
 * that is already there, so a restarted SinkDelivery in the same process (tests, hot reload)
 * does not fail on a duplicate name. Labels are tenant and sink ids: both are bounded by the
 * tenant's configuration, not by incoming data.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface DeliveryMetrics {
  batches: Counter<'tenant' | 'sink' | 'outcome'>;
  items: Counter<'tenant' | 'sink' | 'outcome'>;
  deadLetterReasons: Counter<'tenant' | 'sink' | 'reason'>;
  deadLettersDropped: Counter<'tenant' | 'sink'>;
  retryQueueDepth: Gauge<'tenant' | 'sink'>;
  deadLetters: Gauge<'tenant' | 'sink'>;
  retryLanesOpen: Gauge;
  exportSeconds: Histogram<'kind' | 'attempt' | 'result'>;
}

function getOr<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function deliveryMetrics(registry: Registry): DeliveryMetrics {
  const registers = [registry];
  return {
    batches: getOr(
      registry,
      'custodian_delivery_batches_total',
      () =>
        new Counter({
          name: 'custodian_delivery_batches_total',
          help: 'Batches handed to delivery, by outcome (exported, queued_retry, retried_exported, dead_lettered).',
          labelNames: ['tenant', 'sink', 'outcome'],
          registers,
        }),
    ),
    items: getOr(
      registry,
      'custodian_delivery_items_total',
      () =>
        new Counter({
          name: 'custodian_delivery_items_total',
          help: 'Spans, log records or data points handed to delivery, by outcome (rejected = refused by the sink in a partial success).',
          labelNames: ['tenant', 'sink', 'outcome'],
          registers,
        }),
    ),
    deadLetterReasons: getOr(
      registry,
      'custodian_delivery_dead_lettered_total',
      () =>
        new Counter({
          name: 'custodian_delivery_dead_lettered_total',
          help: 'Batches moved to a dead-letter queue, by reason.',
          labelNames: ['tenant', 'sink', 'reason'],
          registers,
        }),
    ),
    deadLettersDropped: getOr(
      registry,
      'custodian_delivery_dead_letters_dropped_total',
      () =>
        new Counter({
          name: 'custodian_delivery_dead_letters_dropped_total',
          help: 'Oldest dead letters dropped because the sink dead-letter queue was full.',
          labelNames: ['tenant', 'sink'],
          registers,
        }),
    ),
    retryQueueDepth: getOr(
      registry,
      'custodian_delivery_retry_queue_depth',
      () =>
        new Gauge({
          name: 'custodian_delivery_retry_queue_depth',
          help: 'Batches waiting in a sink retry queue.',
          labelNames: ['tenant', 'sink'],
          registers,
        }),
    ),
    deadLetters: getOr(
      registry,
      'custodian_delivery_dead_letters',
      () =>
        new Gauge({
          name: 'custodian_delivery_dead_letters',
          help: 'Batches in a sink dead-letter queue.',
          labelNames: ['tenant', 'sink'],
          registers,
        }),
    ),
    retryLanesOpen: getOr(
      registry,
      'custodian_delivery_retry_lanes_open',
      () =>
        new Gauge({
          name: 'custodian_delivery_retry_lanes_open',
          help: 'Sink retry lanes with a running retry worker in this process (one Redis connection each); idle lanes close after laneIdleMs.',
          registers,
        }),
    ),
    exportSeconds: getOr(
      registry,
      'custodian_delivery_export_seconds',
      () =>
        new Histogram({
          name: 'custodian_delivery_export_seconds',
          help: 'Duration of one export call to a sink.',
          labelNames: ['kind', 'attempt', 'result'],
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers,
        }),
    ),
  };
}
