/**
 * The gateway's Kafka producer: idempotent, acks=all, compressed, and bounded. A request is
 * acknowledged to its client only when every one of its records is acknowledged by Kafka
 * (../shared/ARCHITECTURE.md, "Reliability rules"). Memory stays bounded when Kafka is slow or
 * down: bytes in flight are reserved before sending and released only when the send settles,
 * and past the bound new requests are refused at once instead of queueing.
 */
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { compressionType, type KafkaCompression } from './codecs';
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
  /** Record-batch codec (KAFKA_COMPRESSION); codecs.ts registers lz4 and gzip level 1. */
  compression: KafkaCompression;
  timeoutMs: number;
  maxInflightBytes: number;
}

type Message = {
  partition: number;
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string>;
};

interface Pending {
  topic: string;
  messages: Message[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Idempotent kafkajs producers the gateway sends through, each with its own producer id.
 * kafkajs holds a lock per broker around each Produce request of an idempotent producer (its
 * sequence numbers), so one producer has one request in flight per broker however many batches
 * are ready, and a slow acknowledgement holds every client request queued behind it. Several
 * producers keep several in flight; each has its own sequences per partition, so the broker's
 * duplicate detection holds for each.
 */
export const PRODUCER_LANES = 3;
/** Upper bound of one batch, below the broker's request size limit. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

interface Lane {
  producer: Producer;
  connected?: Promise<void>;
  busy: boolean;
}

export class OtlpProducer {
  private readonly lanes: Lane[];
  private inflightBytes = 0;
  /**
   * Client requests waiting for a produce slot. kafkajs sends one Produce request per send(),
   * so one send per client request caps throughput at a few requests per Kafka round trip;
   * instead, everything that arrives while the lanes are busy goes out together in the next
   * sendBatch, and each client request is answered when the batch holding it is acknowledged.
   */
  private queue: Pending[] = [];

  constructor(
    kafka: Kafka,
    private readonly opts: OtlpProducerOptions,
    private readonly logger: Logger,
  ) {
    this.lanes = Array.from({ length: PRODUCER_LANES }, () => ({
      producer: kafka.producer({
        idempotent: true,
        maxInFlightRequests: 5,
        allowAutoTopicCreation: false,
        // Every record names its partition; the partitioner is never consulted.
        createPartitioner: Partitioners.DefaultPartitioner,
        // An idempotent producer keeps retrying (kafkajs refuses to bound it without warning);
        // the client's answer is bounded by timeoutMs instead, and the bytes stay counted as in
        // flight until the send settles, so an outage fills the bound and then refuses.
        retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5000 },
      }),
      busy: false,
    }));
  }

  get bytesInFlight(): number {
    return this.inflightBytes;
  }

  /** Connects every lane once; a failed attempt is retried by the next call. */
  async connect(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => this.connectLane(lane)));
  }

  private connectLane(lane: Lane): Promise<void> {
    lane.connected ??= lane.producer.connect().catch((err: unknown) => {
      lane.connected = undefined;
      throw err;
    });
    return lane.connected;
  }

  private enqueue(topic: string, messages: Message[], bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, messages, bytes, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const lane of this.lanes) {
      if (this.queue.length === 0) return;
      if (lane.busy) continue;
      let bytes = 0;
      let n = 0;
      while (n < this.queue.length && (n === 0 || bytes + this.queue[n].bytes <= MAX_BATCH_BYTES)) {
        bytes += this.queue[n].bytes;
        n++;
      }
      const batch = this.queue.splice(0, n);
      lane.busy = true;
      this.sendBatch(lane, batch).finally(() => {
        lane.busy = false;
        this.pump();
      });
    }
  }

  private async sendBatch(lane: Lane, batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic);
      if (list) list.push(...p.messages);
      else byTopic.set(p.topic, p.messages.slice());
    }
    try {
      await this.connectLane(lane);
      await lane.producer.sendBatch({
        acks: -1,
        timeout: this.opts.timeoutMs,
        compression: compressionType(this.opts.compression),
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  async disconnect(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.producer.disconnect()));
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
    const messages = req.records.map((r) => ({
      partition: r.partition,
      key: r.key ? Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength) : null,
      value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
      headers,
    }));
    const send = this.enqueue(TOPICS[req.signal], messages, bytes).finally(() => {
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
