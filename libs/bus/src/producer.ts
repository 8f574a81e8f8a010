/**
 * The gateway's Kafka producer: idempotent, acks=all, compressed, and bounded. A request is
 * acknowledged to its client only when every one of its records is acknowledged by Kafka
 * (../shared/ARCHITECTURE.md, "Reliability rules"). Memory stays bounded when Kafka is slow or
 * down: bytes in flight are reserved before sending and released only when the send settles,
 * and past the bound new requests are refused at once instead of queueing.
 */
import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { HEADERS, CONTENT_VERSION, TOPICS, type Signal } from './topics';

export interface OtlpRecord {
  partition: number;
  /** An Export*ServiceRequest in protobuf, one tenant's data only. */
  value: Uint8Array;
  key?: Uint8Array;
}

export interface ProduceRequest {
  tenantId: string;
  signal: Signal;
  receivedAt: number;
  records: OtlpRecord[];
}

/** Refused before sending: too many bytes already in flight. Retryable. */
export class ProducerOverloadedError extends Error {
  readonly retryable = true;
  constructor(inflight: number, limit: number) {
    super(`ingest buffer full (${inflight} of ${limit} bytes in flight to Kafka); retry later`);
    this.name = 'ProducerOverloadedError';
  }
}

/** Kafka did not acknowledge in time, or failed. Retryable; the data may still land (at-least-once). */
export class ProduceFailedError extends Error {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProduceFailedError';
  }
}

export interface OtlpProducerOptions {
  gatewayId: string;
  compression: 'gzip' | 'none';
  timeoutMs: number;
  maxInflightBytes: number;
}

export class OtlpProducer {
  private readonly producer: Producer;
  private inflightBytes = 0;
  private connected?: Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly opts: OtlpProducerOptions,
    private readonly logger: Logger,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
    });
  }

  get bytesInFlight(): number {
    return this.inflightBytes;
  }

  /** Connects once; a failed attempt is retried by the next call. */
  connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  /**
   * Produces every record of one request and resolves when Kafka has acknowledged all of them.
   * Throws ProducerOverloadedError before sending, or ProduceFailedError on failure or deadline.
   */
  async produce(req: ProduceRequest): Promise<void> {
    let bytes = 0;
    for (const r of req.records) bytes += r.value.byteLength;
    if (this.inflightBytes + bytes > this.opts.maxInflightBytes && this.inflightBytes > 0) {
      throw new ProducerOverloadedError(this.inflightBytes, this.opts.maxInflightBytes);
    }
    this.inflightBytes += bytes;
    const headers = {
      [HEADERS.tenantId]: req.tenantId,
      [HEADERS.signal]: req.signal,
      [HEADERS.receivedAt]: String(req.receivedAt),
      [HEADERS.contentVersion]: CONTENT_VERSION,
      [HEADERS.gatewayId]: this.opts.gatewayId,
    };
    const send = this.connect()
      .then(() =>
        this.producer.send({
          topic: TOPICS[req.signal],
          acks: -1,
          timeout: this.opts.timeoutMs,
          compression:
            this.opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
          messages: req.records.map((r) => ({
            partition: r.partition,
            key: r.key ? Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength) : null,
            value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
            headers,
          })),
        }),
      )
      .finally(() => {
        this.inflightBytes -= bytes;
      });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ProduceFailedError(`Kafka did not acknowledge within ${this.opts.timeoutMs} ms`),
          ),
        this.opts.timeoutMs,
      );
    });
    try {
      await Promise.race([send, deadline]);
    } catch (err) {
      // A late failure of a send we already gave up on must not surface as an unhandled rejection.
      send.catch(() => undefined);
      if (err instanceof ProduceFailedError) throw err;
      this.logger.warn({ err, tenantId: req.tenantId, signal: req.signal }, 'kafka produce failed');
      throw new ProduceFailedError('Kafka is unavailable', { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }
}
