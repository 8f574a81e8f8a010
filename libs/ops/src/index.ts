export {
  createLogger,
  NestPinoLogger,
  REDACTED_LOG_PATHS,
  type Logger,
  type LoggerOptions,
} from './logger';
export {
  createMetricsRegistry,
  Counter,
  EVENT_LOOP_MONITOR_MS,
  Gauge,
  Histogram,
  Registry,
} from './metrics';
export {
  Readiness,
  withTimeout,
  type DependencyCheck,
  type CheckResult,
  type ReadinessReport,
  type Phase,
} from './readiness';
export { applyHeapGrowing, HEAP_GROWING_PERCENT } from './heap';
export { OpsServer } from './ops-server';
export { OpsModule, type ProcessServices } from './ops.module';
export { CONFIG, LOGGER, METRICS, READINESS } from './tokens';
