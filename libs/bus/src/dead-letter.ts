/**
 * Producing to the dead-letter topic (DEAD_LETTER_TOPIC). A dead letter is the original record
 * byte for byte — key, value, headers — plus headers naming where it came from and why it was
 * set aside, so an operator can inspect it and, once the cause is fixed, produce it back.
 *
 * One send() is one attempt: idempotent producer, acks=all, a bounded request timeout. The
 * caller decides what a failure means (the worker retries with bounded backoff and keeps the
 * record's offset uncommitted meanwhile: nothing is lost, the partition is not blocked).
 */
import type { IHeaders, Kafka, Producer } from 'kafkajs';
import { DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC } from './topics';

/** A record that could not be processed, and why. */
export interface DeadLetterRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  /** Short, stable reason (a metric label): `undecodable`, `no_tenant`. */
  reason: string;
  /** Human-readable detail (the decoder's message); never payload bytes. */
  error?: string;
}

export class DeadLetterProducer {
  private readonly producer: Producer;
  private connected?: Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly opts: { timeoutMs?: number; now?: () => number } = {},
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Retries are the caller's (bounded backoff, offset held): fail fast here.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    });
  }

  /** Produces `rec` to the dead-letter topic; resolves once the broker acknowledged it. */
  async send(rec: DeadLetterRecord): Promise<void> {
    if (!this.connected) {
      this.connected = this.producer.connect().catch((err: unknown) => {
        this.connected = undefined;
        throw err;
      });
    }
    await this.connected;
    const headers: IHeaders = {
      ...rec.headers,
      [DEAD_LETTER_HEADERS.originalTopic]: rec.topic,
      [DEAD_LETTER_HEADERS.originalPartition]: String(rec.partition),
      [DEAD_LETTER_HEADERS.originalOffset]: rec.offset,
      [DEAD_LETTER_HEADERS.reason]: rec.reason,
      [DEAD_LETTER_HEADERS.deadLetteredAt]: String((this.opts.now ?? Date.now)()),
    };
    if (rec.error !== undefined) headers[DEAD_LETTER_HEADERS.error] = rec.error.slice(0, 500);
    await this.producer.send({
      topic: DEAD_LETTER_TOPIC,
      acks: -1,
      timeout: this.opts.timeoutMs ?? 10_000,
      messages: [{ key: rec.key, value: rec.value, headers }],
    });
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    await this.producer.disconnect().catch(() => undefined);
    this.connected = undefined;
  }
}
