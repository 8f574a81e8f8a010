/**
 * Custodian's trace store and rollups in PostgreSQL (issue #5 items 4, 7, 8; issue #6 usage and
 * trace queries): span rows with restricted values encrypted per tenant, day partitions,
 * retention, span-metric and usage rollups. Raw SQL over `pg`; the tables are in migration
 * prisma/migrations/20261124110000_trace_store.
 */
export { createStorePool } from './pool';
export {
  anyValueToJson,
  nanosToIsoMicros,
  restrictedKeyOf,
  spanRows,
  DEFAULT_RETENTION_CLASS,
  DEFAULT_RETENTION_DAYS,
  MODEL_KEYS,
  RUN_ID_KEYS,
  TOOL_NAME_KEYS,
  type JsonMap,
  type JsonValue,
  type SpanRow,
  type StoredAttributes,
} from './span-rows';
export { NoTenantKeyError, StoreKeyring, storeDekAad, storeSpanAad } from './keyring';
export {
  dayOfPartition,
  ensurePartitions,
  ensurePartitionsBetween,
  listDayPartitions,
  partitionName,
  utcDay,
  type DayPartition,
} from './partitions';
export {
  InvalidCursorError,
  TraceStore,
  type StoredSpan,
  type TraceSearch,
  type TraceSearchPage,
  type TraceStoreOptions,
  type TraceSummary,
  type WriteResult,
} from './trace-store';
export { purgeExpiredSpans, type RetentionOptions, type RetentionSummary } from './retention';
export {
  MAX_EXEMPLARS,
  RollupRepository,
  SPAN_DURATION_BOUNDS_MS,
  USAGE_METRICS,
  type SpanMetricRollup,
  type SpanMetricsQuery,
  type UsageDelta,
  type UsageMetric,
  type UsageMinute,
} from './rollups';
export {
  CounterUsageCollector,
  type CounterUsageCollectorOptions,
  type CounterUsageSource,
  type UsageKey,
  type UsageSink,
} from './usage-collector';
