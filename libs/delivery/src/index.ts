/**
 * Durable delivery to sinks: batching per sink, a first export attempt, then Redis-backed
 * retry and dead-letter queues per sink (issue #5 item 5). Plain classes: the worker wires the
 * data plane (SinkBatcher, SinkDelivery); the admin wires only the control plane
 * (DeadLetterControl: list, redrive, purge — it never exports).
 */
export {
  DEFAULT_DELIVERY_CONFIG,
  resolveDeliveryConfig,
  retryDelayMs,
  validateDeliveryConfig,
  type ConfigProblem,
  type DeliveryConfig,
} from './delivery-config';
export {
  DeadLetterStore,
  type DeadLetter,
  type DeadLetterInfo,
  type DeadLetterPage,
  type DeadLetterReason,
} from './dead-letters';
export { deliveryMetrics, type DeliveryMetrics } from './delivery-metrics';
export { mergeLogs, mergeMetrics, mergeTraces, type SignalData } from './merge';
export {
  DEFAULT_BATCHER_OPTIONS,
  SinkBatcher,
  validateBatcherOptions,
  type BatchDelivery,
  type BatchItem,
  type SinkBatcherOptions,
} from './sink-batcher';
export {
  SinkDelivery,
  type DeliveryOutcome,
  type DeliveryResult,
  type DeliverySink,
  type ResolveSink,
  type SinkDeliveryOptions,
} from './sink-delivery';
export {
  DeadLetterControl,
  type DeadLetterControlOptions,
  type DeadLetterCounts,
} from './dead-letter-control';
