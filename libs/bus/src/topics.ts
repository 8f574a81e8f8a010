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

/** Bumped when the value's encoding changes in a way consumers must know about. */
export const CONTENT_VERSION = '1';
