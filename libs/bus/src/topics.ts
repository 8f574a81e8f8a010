/**
 * The Kafka record contract (../shared/ARCHITECTURE.md, "Kafka record contract"): three topics
 * shared by all tenants, the tenant carried in headers, the value an OTLP Export*ServiceRequest
 * in protobuf holding one tenant's data.
 */
export const TOPICS = {
  traces: 'otlp.traces',
  logs: 'otlp.logs',
  metrics: 'otlp.metrics',
} as const;

export type Signal = keyof typeof TOPICS;
export const SIGNALS = Object.keys(TOPICS) as Signal[];

/** Record header names. */
export const HEADERS = {
  tenantId: 'tenant-id',
  signal: 'signal',
  receivedAt: 'received-at',
  contentVersion: 'content-version',
  gatewayId: 'gateway-id',
} as const;

/**
 * Where the worker puts records it cannot process (undecodable value, no tenant header), so a
 * poison record is kept for inspection instead of lost, and never blocks its partition. Shared
 * by all tenants like the otlp.* topics; not one of the signal topics (no consumer reads it).
 * Each dead letter is the original record — same key, value and headers — plus the
 * DEAD_LETTER_HEADERS below.
 */
export const DEAD_LETTER_TOPIC = 'otlp.deadletter';

/** Headers a dead letter carries beside the original record's own. */
export const DEAD_LETTER_HEADERS = {
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  /** Why it could not be processed: `undecodable`, `no_tenant`. */
  reason: 'dlq-reason',
  /** The decoder's message (never payload bytes). */
  error: 'dlq-error',
  /** Unix ms when the worker dead-lettered it. */
  deadLetteredAt: 'dlq-dead-lettered-at',
} as const;

/** Every topic Custodian creates: the signal topics and the dead-letter topic. */
export const ALL_TOPICS: readonly string[] = [...Object.values(TOPICS), DEAD_LETTER_TOPIC];

/** Bumped when the value's encoding changes in a way consumers must know about. */
export const CONTENT_VERSION = '1';
