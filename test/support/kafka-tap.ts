import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Consumer } from 'kafkajs';
import { HEADERS, TOPICS, createKafka, type Signal } from '@custodian/bus';
import { waitFor } from './ports';

export interface TappedRecord {
  topic: string;
  partition: number;
  headers: Record<string, string>;
  value: Buffer;
}

/**
 * Reads what reaches Kafka's otlp.* topics from the moment it starts, keeping the records of
 * one tenant: the end-to-end view of what the gateway acknowledged.
 */
export class KafkaTap {
  readonly records: TappedRecord[] = [];
  private consumer?: Consumer;

  constructor(private readonly tenantId: () => string | undefined) {}

  async start(signals: Signal[] = ['traces', 'logs', 'metrics']): Promise<void> {
    const kafka = createKafka(
      {
        brokers: process.env.KAFKA_BROKERS!.split(','),
        clientId: 'e2e-tap',
        topicPartitions: 6,
        replicationFactor: 1,
      },
      pino({ level: 'silent' }),
      'tap',
    );
    const admin = kafka.admin();
    await admin.connect();
    const starts = new Map<string, Map<number, string>>();
    for (const s of signals) {
      const offsets = await admin.fetchTopicOffsets(TOPICS[s]);
      starts.set(TOPICS[s], new Map(offsets.map((o) => [o.partition, o.high])));
    }
    await admin.disconnect();
    this.consumer = kafka.consumer({ groupId: `e2e-tap-${randomUUID()}` });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: signals.map((s) => TOPICS[s]), fromBeginning: false });
    let assigned = false;
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => (assigned = true));
    await this.consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
        );
        if (headers[HEADERS.tenantId] === this.tenantId()) {
          this.records.push({ topic, partition, headers, value: message.value! });
        }
      },
    });
    await waitFor('tap consumer assignment', () => (assigned ? true : undefined), 30000);
    for (const [topic, parts] of starts) {
      for (const [partition, offset] of parts) this.consumer.seek({ topic, partition, offset });
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  async waitForRecords(
    predicate: (r: TappedRecord[]) => boolean,
    what: string,
  ): Promise<TappedRecord[]> {
    return waitFor(what, () => (predicate(this.records) ? this.records : undefined), 20000, 100);
  }
}
