/**
 * Settings of durable delivery (issue #5 item 5). Defaults follow the issue: 10 attempts in
 * total, backoff from 30 s doubling to a 5 min cap (about 38 min of waiting before jitter; up to
 * half of each wait is randomised), each sink's retry queue holds at most 10k batches and its
 * dead-letter queue 1k. `validate()` reports every
 * problem at once, with the path of each field (../shared/CONVENTIONS.md).
 */
export interface DeliveryConfig {
  /** Prefix of every Redis key and BullMQ queue this layer writes. */
  keyPrefix: string;
  /** Deadline of the first, synchronous export attempt; past it the batch is queued. */
  firstAttemptTimeoutMs: number;
  /** Deadline of each retry attempt made by the retry workers. */
  retryAttemptTimeoutMs: number;
  /** Export attempts in total (the first one included) before a batch is dead-lettered. */
  maxAttempts: number;
  /** Backoff before the first retry; doubled per attempt. */
  initialBackoffMs: number;
  /** Upper bound of one backoff (a server's Retry-After may exceed it). */
  maxBackoffMs: number;
  /** Fraction of each backoff that is randomised (0 = none, 1 = full jitter). */
  jitter: number;
  /** Batches a sink's retry queue may hold; beyond it failed batches are dead-lettered. */
  maxRetryQueueBatches: number;
  /** Entries a sink's dead-letter queue keeps; the oldest are dropped (and counted) past it. */
  maxDeadLetters: number;
  /** Retries a sink's worker runs at the same time. */
  retryConcurrency: number;
  /** How long close() waits for in-flight exports before it stops waiting. */
  closeTimeoutMs: number;
  /**
   * How often a running SinkDelivery rescans the Redis set of lanes, so that batches the admin
   * redrove for a sink this worker has no lane for yet are picked up (one SMEMBERS per scan).
   */
  laneScanMs: number;
  /**
   * A lane whose retry queue has been empty this long closes its BullMQ worker (and the Redis
   * connection a worker blocks on); a later scan reopens it when a job appears. Without it a
   * worker process would keep one connection for every sink that ever failed, forever.
   */
  laneIdleMs: number;
}

export const DEFAULT_DELIVERY_CONFIG: DeliveryConfig = {
  keyPrefix: 'custodian-delivery',
  firstAttemptTimeoutMs: 5_000,
  retryAttemptTimeoutMs: 15_000,
  maxAttempts: 10,
  initialBackoffMs: 30_000,
  maxBackoffMs: 300_000,
  jitter: 0.5,
  maxRetryQueueBatches: 10_000,
  maxDeadLetters: 1_000,
  retryConcurrency: 2,
  closeTimeoutMs: 10_000,
  laneScanMs: 5_000,
  laneIdleMs: 300_000,
};

export interface ConfigProblem {
  path: string;
  message: string;
}

/** Every problem of `config`, each with its field's path under `prefix`; empty when valid. */
export function validateDeliveryConfig(
  config: DeliveryConfig,
  prefix = 'delivery',
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const intAtLeast = (field: keyof DeliveryConfig, min: number): void => {
    const v = config[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      problems.push({ path: `${prefix}.${field}`, message: `must be an integer >= ${min}` });
  };
  if (typeof config.keyPrefix !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(config.keyPrefix))
    problems.push({
      path: `${prefix}.keyPrefix`,
      message: 'must be non-empty letters, digits, "_", "." or "-" (BullMQ forbids ":")',
    });
  intAtLeast('firstAttemptTimeoutMs', 1);
  intAtLeast('retryAttemptTimeoutMs', 1);
  intAtLeast('maxAttempts', 1);
  intAtLeast('initialBackoffMs', 0);
  intAtLeast('maxBackoffMs', 0);
  intAtLeast('maxRetryQueueBatches', 0);
  intAtLeast('maxDeadLetters', 1);
  intAtLeast('retryConcurrency', 1);
  intAtLeast('closeTimeoutMs', 0);
  intAtLeast('laneScanMs', 10);
  intAtLeast('laneIdleMs', 0);
  if (typeof config.jitter !== 'number' || !(config.jitter >= 0 && config.jitter <= 1))
    problems.push({ path: `${prefix}.jitter`, message: 'must be between 0 and 1' });
  if (
    Number.isInteger(config.initialBackoffMs) &&
    Number.isInteger(config.maxBackoffMs) &&
    config.maxBackoffMs < config.initialBackoffMs
  )
    problems.push({
      path: `${prefix}.maxBackoffMs`,
      message: 'must not be below initialBackoffMs',
    });
  return problems;
}

/** Defaults overlaid with `overrides`, validated; throws listing every problem. */
export function resolveDeliveryConfig(overrides: Partial<DeliveryConfig> = {}): DeliveryConfig {
  const config = { ...DEFAULT_DELIVERY_CONFIG, ...overrides };
  const problems = validateDeliveryConfig(config);
  if (problems.length > 0)
    throw new Error(
      `invalid delivery config: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    );
  return config;
}

/**
 * Delay before retry number `retry` (1 = the first retry after the first failure): exponential
 * from initialBackoffMs, capped at maxBackoffMs, the `jitter` fraction of it randomised so that
 * a fleet of workers does not retry in lock-step. A server's Retry-After (OTLP/HTTP "Retryable
 * Response Codes"; gRPC RetryInfo) is a floor: the sink asked us not to come back sooner.
 */
export function retryDelayMs(
  config: Pick<DeliveryConfig, 'initialBackoffMs' | 'maxBackoffMs' | 'jitter'>,
  retry: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const exp = Math.min(
    config.maxBackoffMs,
    config.initialBackoffMs * 2 ** Math.min(Math.max(retry - 1, 0), 30),
  );
  const delay = Math.round(exp * (1 - config.jitter) + exp * config.jitter * random());
  return retryAfterMs !== undefined && retryAfterMs > delay ? Math.ceil(retryAfterMs) : delay;
}
