/**
 * The `kafka` sink (issue #5 item 4): each batch's OTLP protobuf (an Export*ServiceRequest, the
 * same value as on otlp.*) produced as one record to a topic the tenant chose, with the record
 * contract's headers (ARCHITECTURE.md, "Kafka record contract": tenant-id, signal,
 * received-at, content-version, gateway-id — here the producing worker's id).
 *
 * Topic rule: a tenant may write only to topics named `tenant.<tenant id>.<name>` (name:
 * letters, digits, ".", "_", "-"; the whole name at most 249 characters, Kafka's limit). That
 * keeps tenants off the platform's otlp.* topics and off each other's topics on the platform's
 * cluster; the tenant id, not the slug, is used because a slug can be renamed and reused.
 * `brokers` (optional) points the sink at another cluster; the same rule applies there.
 *
 * Errors: kafkajs marks each error retriable or not (connection loss, leader elections, unknown
 * topic while it is being created: retriable; record too large, authorization: permanent).
 */
import type { Kafka, Producer } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import { CONTENT_VERSION, HEADERS } from '@custodian/bus';
import { ExportError } from './export-error';
import type { ExportBatch, ExportOutcome, ExportSignal, SinkExporter } from './sink-exporter';

export interface KafkaSinkConfig {
  /** `tenant.<tenant id>.<name>`. */
  topic: string;
  /** Another cluster's brokers; default: the platform's Kafka. */
  brokers?: string[];
  /** Default gzip. */
  compression?: 'gzip' | 'none';
  /** Signals this sink receives; default all. */
  signals?: ExportSignal[];
}

/** A sink config that cannot be used; the message names the field and never quotes secrets. */
export class KafkaSinkConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KafkaSinkConfigError';
  }
}

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/** The topic prefix a tenant's kafka sinks must use. */
export const tenantTopicPrefix = (tenantId: string): string => `tenant.${tenantId}.`;

/** Every problem of a kafka sink config, each with its path (empty when valid). */
export function validateKafkaSinkConfig(raw: unknown, tenantId: string): string[] {
  const problems: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return ['config: expected an object'];
  const c = raw as Record<string, unknown>;
  const prefix = tenantTopicPrefix(tenantId);
  if (typeof c.topic !== 'string') problems.push('topic: required, a string');
  else if (!TOPIC_NAME.test(c.topic))
    problems.push('topic: letters, digits, ".", "_" or "-", at most 249 characters');
  else if (!c.topic.startsWith(prefix) || c.topic.length === prefix.length)
    problems.push(`topic: must start with "${prefix}" and name a topic after it`);
  if (c.brokers !== undefined) {
    if (!Array.isArray(c.brokers) || c.brokers.length === 0)
      problems.push('brokers: a non-empty list of host:port');
    else
      c.brokers.forEach((b, i) => {
        if (typeof b !== 'string' || !BROKER.test(b))
          problems.push(`brokers[${i}]: expected host:port`);
      });
  }
  if (c.compression !== undefined && c.compression !== 'gzip' && c.compression !== 'none')
    problems.push('compression: gzip or none');
  if (c.signals !== undefined) {
    if (!Array.isArray(c.signals)) problems.push('signals: a list of traces, logs, metrics');
    else
      c.signals.forEach((s, i) => {
        if (s !== 'traces' && s !== 'logs' && s !== 'metrics')
          problems.push(`signals[${i}]: traces, logs or metrics`);
      });
  }
  return problems;
}

/**
 * kafkajs wraps the broker's answer in KafkaJSNumberOfRetriesExceeded (itself marked not
 * retriable) once its own few retries are spent; what counts is the innermost error: a
 * protocol error the broker marks not retriable (record too large, not authorized) is
 * permanent, anything else (unknown topic, leader moves, connection loss) retryable.
 */
export function kafkaErrorRetryable(err: unknown): boolean {
  let e = err as { retriable?: unknown; name?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e.name === 'KafkaJSNumberOfRetriesExceeded' && e.cause) {
      e = e.cause as typeof e;
      continue;
    }
    return e.retriable !== false;
  }
  return true;
}

export interface KafkaExporterOptions {
  tenantId: string;
  /** Builds the client for the given brokers (undefined: the platform's). */
  kafka: (brokers: string[] | undefined) => Kafka;
  /** Written as the `gateway-id` header: the producing process. */
  producerId: string;
  /** Milliseconds since the epoch; default Date.now (received-at header). */
  clock?: () => number;
}

export class KafkaExporter implements SinkExporter {
  readonly kind = 'kafka';
  private readonly config: KafkaSinkConfig;
  private producer?: Producer;
  private connecting?: Promise<Producer>;

  constructor(
    raw: unknown,
    private readonly opts: KafkaExporterOptions,
  ) {
    const problems = validateKafkaSinkConfig(raw, opts.tenantId);
    if (problems.length > 0) throw new KafkaSinkConfigError(problems.join('; '));
    this.config = raw as KafkaSinkConfig;
  }

  get topic(): string {
    return this.config.topic;
  }

  supports(signal: ExportSignal): boolean {
    return !this.config.signals || this.config.signals.includes(signal);
  }

  async export(batch: ExportBatch): Promise<ExportOutcome> {
    try {
      const producer = await this.connect();
      await producer.send({
        topic: this.config.topic,
        acks: -1,
        compression:
          this.config.compression === 'none' ? CompressionTypes.None : CompressionTypes.GZIP,
        messages: [
          {
            value: Buffer.from(
              batch.protobuf.buffer,
              batch.protobuf.byteOffset,
              batch.protobuf.byteLength,
            ),
            headers: {
              [HEADERS.tenantId]: this.opts.tenantId,
              [HEADERS.signal]: batch.signal,
              [HEADERS.receivedAt]: String((this.opts.clock ?? Date.now)()),
              [HEADERS.contentVersion]: CONTENT_VERSION,
              [HEADERS.gatewayId]: this.opts.producerId,
            },
          },
        ],
      });
      return { rejected: 0 };
    } catch (err) {
      // A failed connection is forgotten, so the next attempt connects again.
      if (!this.producer) this.connecting = undefined;
      throw new ExportError(
        `kafka: ${String((err as { message?: unknown })?.message ?? err)}`,
        kafkaErrorRetryable(err),
        undefined,
        { cause: err },
      );
    }
  }

  private connect(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const p = this.opts.kafka(this.config.brokers).producer({
        allowAutoTopicCreation: false,
        idempotent: false,
        maxInFlightRequests: 5,
        retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
      });
      await p.connect();
      this.producer = p;
      return p;
    })();
    return this.connecting;
  }

  async close(): Promise<void> {
    const p = this.producer ?? (await this.connecting?.catch(() => undefined));
    this.producer = undefined;
    this.connecting = undefined;
    await p?.disconnect().catch(() => undefined);
  }
}
