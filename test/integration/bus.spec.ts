/**
 * Kafka plumbing against the real broker: the otlp.* topics exist with the configured partition
 * count, a record produced with the contract's headers comes back intact, and the readiness
 * probe tells a reachable cluster from an unreachable one.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import {
  CONTENT_VERSION,
  HEADERS,
  TOPICS,
  createKafka,
  ensureTopics,
  probeKafka,
} from '@custodian/bus';
import { freePort } from '../support/ports';

const logger = pino({ level: 'silent' });
const settings = {
  brokers: process.env.KAFKA_BROKERS!.split(','),
  clientId: 'custodian-test',
  topicPartitions: Number(process.env.KAFKA_PARTITIONS ?? '6'),
  replicationFactor: 1,
};

describe('Kafka topics and records', () => {
  const kafka = createKafka(settings, logger, 'test');
  const admin = kafka.admin();
  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());

  it('has the otlp.* topics with the configured partitions; ensureTopics is idempotent', async () => {
    expect(await ensureTopics(admin, settings)).toEqual([]);
    await probeKafka(admin);
    const meta = await admin.fetchTopicMetadata({ topics: Object.values(TOPICS) });
    for (const t of meta.topics) expect(t.partitions).toHaveLength(settings.topicPartitions);
  });

  it('round-trips a record with the contract headers through the real broker', async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const groupId = `test-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    await producer.connect();
    await consumer.connect();
    try {
      const value = Buffer.from(randomUUID());
      const headers = {
        [HEADERS.tenantId]: randomUUID(),
        [HEADERS.signal]: 'logs',
        [HEADERS.receivedAt]: String(Date.now()),
        [HEADERS.contentVersion]: CONTENT_VERSION,
        [HEADERS.gatewayId]: 'test',
      };
      const [ack] = await producer.send({
        topic: TOPICS.logs,
        acks: -1,
        messages: [{ value, headers, partition: 0 }],
      });
      // Start the reader at the record just produced, whatever the topic's history.
      await admin.setOffsets({
        groupId,
        topic: TOPICS.logs,
        partitions: [{ partition: 0, offset: ack.baseOffset! }],
      });
      await consumer.subscribe({ topic: TOPICS.logs, fromBeginning: true });
      const got = new Promise<{ value: Buffer; headers: Record<string, string> }>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            if (message.value?.equals(value)) {
              const h = Object.fromEntries(
                Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
              );
              resolve({ value: message.value, headers: h });
            }
          },
        });
      });
      expect(ack.errorCode).toBe(0);
      const record = await got;
      expect(record.headers).toEqual(headers);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  it('probe fails fast against an address with no broker', async () => {
    const dead = createKafka(
      { ...settings, brokers: [`127.0.0.1:${await freePort()}`] },
      logger,
      'dead',
    ).admin();
    await expect(dead.connect().then(() => probeKafka(dead))).rejects.toThrow();
    await dead.disconnect();
  });
});
