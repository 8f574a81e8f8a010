/**
 * Every setting Custodian reads, declared once: the environment variable, its type, its
 * default and what it means. `loadConfig` validates the whole environment at boot and reports
 * every bad value at once, each naming its variable; `settingsReference` renders the same
 * table for docs/configuration.md so the documentation cannot drift from the code.
 */
import { hostname } from 'node:os';

export const ROLES = ['gateway', 'worker', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ENVIRONMENTS = ['development', 'production'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** Raised when a value cannot be parsed; the message says what was expected. */
export class SettingError extends Error {}

interface SettingSpec<T> {
  /** Environment variable name. */
  env: string;
  /** One-line description for the reference table. */
  doc: string;
  /** Default as the user would write it; undefined = required (or secret, see below). */
  default?: string;
  /** Secrets are never printed, and have no default in production. */
  secret?: boolean;
  /** Development-only fallback for secrets; refused when CUSTODIAN_ENV=production. */
  devDefault?: string;
  parse: (raw: string) => T;
}

function int(min: number, max: number) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) throw new SettingError(`expected an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new SettingError(`expected ${min}..${max}, got ${n}`);
    return n;
  };
}
const portOrZero = int(0, 65535);

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    const v = raw.trim().toLowerCase();
    if (!(values as readonly string[]).includes(v)) {
      throw new SettingError(`expected one of ${values.join(', ')}, got "${raw}"`);
    }
    return v as T;
  };
}

function bool(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new SettingError(`expected true or false, got "${raw}"`);
}

function text(raw: string): string {
  const v = raw.trim();
  if (v === '') throw new SettingError('must not be empty');
  return v;
}

function url(protocols: string[]) {
  return (raw: string): string => {
    let u: URL;
    try {
      u = new URL(raw.trim());
    } catch {
      throw new SettingError('expected a URL');
    }
    if (!protocols.includes(u.protocol)) {
      throw new SettingError(`expected a ${protocols.join(' or ')} URL`);
    }
    return raw.trim();
  };
}

/** Roles: a comma list of gateway, worker, admin, or `all`. */
export function parseTargets(raw: string): Role[] {
  const parts = raw
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new SettingError('expected at least one role');
  const roles = new Set<Role>();
  for (const p of parts) {
    if (p === 'all') ROLES.forEach((r) => roles.add(r));
    else if ((ROLES as readonly string[]).includes(p)) roles.add(p as Role);
    else throw new SettingError(`unknown role "${p}"; roles are ${ROLES.join(', ')}, all`);
  }
  return ROLES.filter((r) => roles.has(r));
}

function brokers(raw: string): string[] {
  const list = raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (list.length === 0) throw new SettingError('expected host:port[,host:port...]');
  for (const b of list) {
    const m = /^(\[[0-9a-f:]+\]|[A-Za-z0-9.-]+):(\d+)$/i.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new SettingError(`expected host:port, got "${b}"`);
    }
  }
  return list;
}

/** 32-byte key, given as 64 hex characters or base64. */
function key32(raw: string): Buffer {
  const v = raw.trim();
  const buf = /^[0-9a-f]{64}$/i.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  if (buf.length !== 32) {
    throw new SettingError('expected 32 bytes as 64 hex characters or base64');
  }
  return buf;
}

function secretText(minLength: number) {
  return (raw: string): string => {
    if (raw.length < minLength) throw new SettingError(`must be at least ${minLength} characters`);
    return raw;
  };
}

/** Exact origins (scheme://host[:port]) for CORS; `none` = no cross-origin caller. */
function origins(raw: string): string[] {
  const v = raw.trim();
  if (v === '' || v.toLowerCase() === 'none') return [];
  return v
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '')
    .map((o) => {
      let u: URL;
      try {
        u = new URL(o);
      } catch {
        throw new SettingError(`expected origins like https://console.example.com, got "${o}"`);
      }
      if (!['http:', 'https:'].includes(u.protocol) || u.origin !== o.replace(/\/$/, '')) {
        throw new SettingError(`expected an origin (scheme://host[:port], no path), got "${o}"`);
      }
      return u.origin;
    });
}

const DEV_KEY = '00'.repeat(32);

/** The declaration table; order is the order of the reference documentation. */
export const SETTINGS = {
  env: {
    env: 'CUSTODIAN_ENV',
    doc: 'development or production. Production refuses development secrets and turns off GraphQL introspection.',
    default: 'development',
    parse: oneOf(ENVIRONMENTS),
  },
  targets: {
    env: 'CUSTODIAN_TARGET',
    doc: 'Roles this process runs: comma list of gateway, worker, admin, or all. `custodian start --target=` overrides it.',
    default: 'all',
    parse: parseTargets,
  },
  instanceId: {
    env: 'CUSTODIAN_INSTANCE_ID',
    doc: 'Name of this process in logs, metrics and the Kafka gateway-id header.',
    default: hostname(),
    parse: text,
  },
  logLevel: {
    env: 'CUSTODIAN_LOG_LEVEL',
    doc: `Log level: ${LOG_LEVELS.join(', ')}. Logs are JSON lines on stdout.`,
    default: 'info',
    parse: oneOf(LOG_LEVELS),
  },
  bindHost: {
    env: 'CUSTODIAN_BIND_HOST',
    doc: 'Address every listener binds to.',
    default: '0.0.0.0',
    parse: text,
  },
  opsPort: {
    env: 'CUSTODIAN_OPS_PORT',
    doc: 'Ops port: /healthz, /readyz, /metrics. One per process, whatever its roles.',
    default: '9464',
    parse: portOrZero,
  },
  otlpGrpcPort: {
    env: 'CUSTODIAN_OTLP_GRPC_PORT',
    doc: 'Gateway: OTLP/gRPC receiver port.',
    default: '4317',
    parse: portOrZero,
  },
  otlpHttpPort: {
    env: 'CUSTODIAN_OTLP_HTTP_PORT',
    doc: 'Gateway: OTLP/HTTP receiver port.',
    default: '4318',
    parse: portOrZero,
  },
  zipkinPort: {
    env: 'CUSTODIAN_ZIPKIN_PORT',
    doc: 'Gateway: Zipkin v2 JSON receiver port.',
    default: '9411',
    parse: portOrZero,
  },
  adminPort: {
    env: 'CUSTODIAN_ADMIN_PORT',
    doc: 'Admin: GraphQL API port (served at /graphql).',
    default: '4000',
    parse: portOrZero,
  },
  adminCorsOrigins: {
    env: 'CUSTODIAN_ADMIN_CORS_ORIGINS',
    doc: 'Admin: browser origins allowed to call the API (CORS), comma separated, e.g. `https://console.example.com`; `none` allows none.',
    default: 'none',
    parse: origins,
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    doc: 'PostgreSQL connection URL.',
    default: 'postgresql://custodian:custodian@127.0.0.1:5432/custodian',
    secret: true,
    parse: url(['postgresql:', 'postgres:']),
  },
  redisUrl: {
    env: 'REDIS_URL',
    doc: 'Redis connection URL (rate limits, delivery queues, jobs).',
    default: 'redis://127.0.0.1:6379',
    secret: true,
    parse: url(['redis:', 'rediss:']),
  },
  kafkaBrokers: {
    env: 'KAFKA_BROKERS',
    doc: 'Kafka bootstrap brokers, comma separated host:port.',
    default: '127.0.0.1:9092',
    parse: brokers,
  },
  kafkaClientId: {
    env: 'KAFKA_CLIENT_ID',
    doc: 'Kafka client id prefix.',
    default: 'custodian',
    parse: text,
  },
  kafkaTopicPartitions: {
    env: 'KAFKA_TOPIC_PARTITIONS',
    doc: 'Partition count for the otlp.* topics when Custodian creates them.',
    default: '6',
    parse: int(1, 10000),
  },
  kafkaReplicationFactor: {
    env: 'KAFKA_REPLICATION_FACTOR',
    doc: 'Replication factor for the otlp.* topics when Custodian creates them.',
    default: '1',
    parse: int(1, 16),
  },
  kafkaCreateTopics: {
    env: 'KAFKA_CREATE_TOPICS',
    doc: 'Create missing otlp.* topics at boot (turn off where topics are managed elsewhere).',
    default: 'true',
    parse: bool,
  },
  kafkaWorkerGroup: {
    env: 'KAFKA_WORKER_GROUP',
    doc: 'Worker: Kafka consumer group shared by every worker of the platform.',
    default: 'custodian-worker',
    parse: text,
  },
  kafkaWorkerSessionTimeoutMs: {
    env: 'KAFKA_WORKER_SESSION_TIMEOUT_MS',
    doc: "Worker: consumer group session timeout; a worker silent this long (kill -9, hung) loses its partitions to the others. At least 3 heartbeat intervals; the broker's group.min/max.session.timeout.ms bound it.",
    default: '10000',
    parse: int(3000, 300000),
  },
  kafkaWorkerHeartbeatMs: {
    env: 'KAFKA_WORKER_HEARTBEAT_MS',
    doc: 'Worker: consumer group heartbeat interval; at most a third of KAFKA_WORKER_SESSION_TIMEOUT_MS.',
    default: '1000',
    parse: int(100, 100000),
  },
  kafkaWorkerFetchMinBytes: {
    env: 'KAFKA_WORKER_FETCH_MIN_BYTES',
    doc: "Worker: a fetch waits for this many bytes (or KAFKA_WORKER_FETCH_MAX_WAIT_MS) before Kafka answers (fetch.min.bytes). Kafka's default of 1 byte makes a worker under steady load send thousands of small fetches a second.",
    default: '65536',
    parse: int(1, 16777216),
  },
  kafkaWorkerFetchMaxWaitMs: {
    env: 'KAFKA_WORKER_FETCH_MAX_WAIT_MS',
    doc: "Worker: longest a fetch waits for KAFKA_WORKER_FETCH_MIN_BYTES (fetch.max.wait.ms; Kafka's default too): the most it adds to end-to-end latency when traffic is light. Each fetch costs the same whether it brings records or not (kafkajs walks every assigned partition): an idle gateway+worker process used ~1.2% of a core more at 100 ms than at 500 ms.",
    default: '500',
    parse: int(0, 5000),
  },
  retentionIntervalMs: {
    env: 'CUSTODIAN_RETENTION_INTERVAL_MS',
    doc: 'Worker: how often the trace store retention job runs (one run per interval across all workers): deletes spans past retain_until, dropping whole day partitions where it can.',
    default: '3600000',
    parse: int(10000, 604800000),
  },
  deliveryKeyPrefix: {
    env: 'CUSTODIAN_DELIVERY_KEY_PREFIX',
    doc: 'Worker: prefix of the Redis keys and BullMQ queues of delivery (retry queues, dead letters); installations sharing one Redis need different prefixes. Letters, digits, `_`, `.`, `-`.',
    default: 'custodian-delivery',
    parse: (raw: string): string => {
      const v = raw.trim();
      if (!/^[A-Za-z0-9_.-]+$/.test(v))
        throw new SettingError('expected letters, digits, "_", "." or "-" (BullMQ forbids ":")');
      return v;
    },
  },
  deliveryMaxAttempts: {
    env: 'CUSTODIAN_DELIVERY_MAX_ATTEMPTS',
    doc: "Worker: export attempts per batch (the first included) before it goes to the sink's dead letters.",
    default: '10',
    parse: int(1, 1000),
  },
  deliveryInitialBackoffMs: {
    env: 'CUSTODIAN_DELIVERY_INITIAL_BACKOFF_MS',
    doc: 'Worker: wait before the first retry of a failed batch, doubled per attempt (half of it jittered; a Retry-After is a floor).',
    default: '30000',
    parse: int(0, 3600000),
  },
  deliveryMaxBackoffMs: {
    env: 'CUSTODIAN_DELIVERY_MAX_BACKOFF_MS',
    doc: 'Worker: upper bound of one retry wait (not below CUSTODIAN_DELIVERY_INITIAL_BACKOFF_MS).',
    default: '300000',
    parse: int(0, 86400000),
  },
  deliveryMaxPendingItems: {
    env: 'CUSTODIAN_DELIVERY_MAX_PENDING_ITEMS',
    doc: 'Worker: spans, log records and data points handed to sinks but not yet exported or durably queued, across all sinks; past it the worker stops reading Kafka until sinks catch up (backpressure: memory stays bounded when sinks are slower than ingest).',
    default: '100000',
    parse: int(1000, 10000000),
  },
  workerMemoryMib: {
    env: 'CUSTODIAN_WORKER_MEMORY_MIB',
    doc: "Worker: the process's memory budget in MiB (set the container's memory limit to it; minimum 512: an idle worker already holds ~200 MiB of code, runtime and connections). Derived from it: V8's old generation limit (60%, passed as NODE_OPTIONS=--max-old-space-size by the Helm chart; the worker warns at boot when the effective heap limit exceeds the budget), the tail-sampling buffers of all partitions and tenants together (15%, estimated bytes; past it the largest tenant's oldest traces are decided early, cause `budget`), one tenant's share of those (half, or the policy's smaller max_buffered_bytes), Kafka fetch sizes (1/256 per fetch, at least 1 MiB; a quarter of that per partition, at least 1 MiB) and the estimated bytes of delivery's pending items (12%; CUSTODIAN_DELIVERY_MAX_PENDING_ITEMS still bounds their count). See docs/worker-memory.md.",
    default: '1024',
    parse: int(512, 1048576),
  },
  kafkaMaxMessageBytes: {
    env: 'KAFKA_MAX_MESSAGE_BYTES',
    doc: "Largest Kafka record (one request's data for one partition); set as max.message.bytes on topics Custodian creates.",
    default: '26214400',
    parse: int(1024, 1073741824),
  },
  kafkaCompression: {
    env: 'KAFKA_COMPRESSION',
    doc: 'Compression of produced record batches: lz4 (cheapest CPU for a similar ratio), gzip (level 1) or none. Custodian consumers read all three.',
    default: 'lz4',
    parse: oneOf(['lz4', 'gzip', 'none'] as const),
  },
  produceTimeoutMs: {
    env: 'CUSTODIAN_PRODUCE_TIMEOUT_MS',
    doc: "Gateway: deadline for Kafka to acknowledge a request's records; past it the client gets 503 / UNAVAILABLE and retries.",
    default: '10000',
    parse: int(100, 120000),
  },
  maxInflightBytes: {
    env: 'CUSTODIAN_MAX_INFLIGHT_BYTES',
    doc: 'Gateway: bytes of requests being produced to Kafka at once; past it new requests are refused (503 / UNAVAILABLE), not buffered.',
    default: '134217728',
    parse: int(1048576, 17179869184),
  },
  httpMaxBodyBytes: {
    env: 'CUSTODIAN_HTTP_MAX_BODY_BYTES',
    doc: 'Gateway: largest OTLP/HTTP or Zipkin body after decompression (413 past it).',
    default: '20971520',
    parse: int(1024, 1073741824),
  },
  grpcMaxMessageBytes: {
    env: 'CUSTODIAN_GRPC_MAX_MESSAGE_BYTES',
    doc: 'Gateway: largest OTLP/gRPC message (RESOURCE_EXHAUSTED past it).',
    default: '4194304',
    parse: int(1024, 1073741824),
  },
  apiKeyCacheTtlMs: {
    env: 'CUSTODIAN_API_KEY_CACHE_TTL_MS',
    doc: 'Gateway: how long a verified API key is trusted before it is looked up again. Revocations are also pushed through Redis at once; this bounds the delay when that notice is lost.',
    default: '2000',
    parse: int(0, 60000),
  },
  defaultSpansPerSecond: {
    env: 'CUSTODIAN_LIMIT_SPANS_PER_SECOND',
    doc: 'Default per-tenant ingest rate of spans (token bucket refill); tenants can override it.',
    default: '20000',
    parse: int(1, 100000000),
  },
  defaultLogRecordsPerSecond: {
    env: 'CUSTODIAN_LIMIT_LOG_RECORDS_PER_SECOND',
    doc: 'Default per-tenant ingest rate of log records.',
    default: '20000',
    parse: int(1, 100000000),
  },
  defaultDataPointsPerSecond: {
    env: 'CUSTODIAN_LIMIT_DATA_POINTS_PER_SECOND',
    doc: 'Default per-tenant ingest rate of metric data points.',
    default: '50000',
    parse: int(1, 100000000),
  },
  defaultBurstSeconds: {
    env: 'CUSTODIAN_LIMIT_BURST_SECONDS',
    doc: 'Default burst: a bucket holds this many seconds of its rate, so agent-run spikes pass.',
    default: '5',
    parse: int(1, 3600),
  },
  defaultMaxAttributes: {
    env: 'CUSTODIAN_LIMIT_MAX_ATTRIBUTES',
    doc: 'Default cap on attributes of one span, event, link or log record; items over it are rejected (partial success).',
    default: '256',
    parse: int(1, 100000),
  },
  defaultMaxAttributeValueBytes: {
    env: 'CUSTODIAN_LIMIT_MAX_ATTRIBUTE_VALUE_BYTES',
    doc: "Default cap on one attribute value's size in bytes; items over it are rejected (partial success).",
    default: '1048576',
    parse: int(16, 1073741824),
  },
  readinessTimeoutMs: {
    env: 'CUSTODIAN_READINESS_TIMEOUT_MS',
    doc: 'Time each dependency check of /readyz may take before it counts as down.',
    default: '2000',
    parse: int(50, 60000),
  },
  shutdownTimeoutMs: {
    env: 'CUSTODIAN_SHUTDOWN_TIMEOUT_MS',
    doc: 'On SIGTERM: time to stop taking work and flush before the process exits anyway.',
    default: '25000',
    parse: int(100, 600000),
  },
  apiKeyPepper: {
    env: 'CUSTODIAN_API_KEY_PEPPER',
    doc: 'Secret key of the keyed hash API keys are stored under (at least 32 characters). Required in production.',
    secret: true,
    devDefault: 'custodian-development-pepper-not-for-production',
    parse: secretText(32),
  },
  encryptionKey: {
    env: 'CUSTODIAN_ENCRYPTION_KEY',
    doc: 'AES-256-GCM key for sink secrets and restricted values: 64 hex characters or base64 of 32 bytes. Required in production.',
    secret: true,
    devDefault: DEV_KEY,
    parse: key32,
  },
  adminJwtSecret: {
    env: 'CUSTODIAN_ADMIN_JWT_SECRET',
    doc: "Admin: HMAC key (HS256) of the API's short-lived access tokens (at least 32 characters). Required in production; changing it signs everyone out.",
    secret: true,
    devDefault: 'custodian-development-admin-jwt-secret-not-for-production',
    parse: secretText(32),
  },
} satisfies Record<string, SettingSpec<unknown>>;

type Settings = typeof SETTINGS;
export type CustodianConfig = {
  readonly [K in keyof Settings]: ReturnType<Settings[K]['parse']>;
};
