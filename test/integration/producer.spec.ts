/**
 * The gateway's producer against the real broker: every record of a request is acknowledged
 * before produce() resolves, the contract headers are on each record, and when Kafka does not
 * answer the caller gets a retryable error within the deadline while the bytes in flight stay
 * bounded (further requests are refused at once, not queued).
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import {
  HEADERS,
  OtlpProducer,
  PRODUCER_LANES,
  ProduceFailedError,
  ProducerOverloadedError,
  TOPICS,
  createKafka,
} from '@custodian/bus';
import type { Kafka, Producer } from 'kafkajs';
import { freePort } from '../support/ports';

const logger = pino({ level: 'silent' });
const settings = {
  brokers: process.env.KAFKA_BROKERS!.split(','),
  clientId: 'custodian-test',
  topicPartitions: 6,
  replicationFactor: 1,
};

describe('OtlpProducer', () => {
  it('resolves only when Kafka has every record, with the contract headers on each', async () => {
    const kafka = createKafka(settings, logger, 'producer-test');
    const producer = new OtlpProducer(
      kafka,
      { gatewayId: 'gw-test', compression: 'gzip', timeoutMs: 10000, maxInflightBytes: 1 << 20 },
      logger,
    );
    const admin = kafka.admin();
    await admin.connect();
    try {
      const before = await admin.fetchTopicOffsets(TOPICS.traces);
      const tenantId = randomUUID();
      const values = [0, 1, 2].map(() => Buffer.from(randomUUID()));
      await producer.produce({
        tenantId,
        signal: 'traces',
        receivedAt: 1700000000000,
        records: values.map((value, partition) => ({ partition, value })),
      });
      // Already durable: the high watermarks moved by one on each partition written.
      const after = await admin.fetchTopicOffsets(TOPICS.traces);
      for (const p of [0, 1, 2]) {
        const b = Number(before.find((o) => o.partition === p)!.high);
        const a = Number(after.find((o) => o.partition === p)!.high);
        expect(a - b).toBe(1);
      }
      // Read from where the topic ended before producing, not from its beginning: the topic's
      // history (other suites, benchmarks) must not decide how long this test takes.
      const groupId = `t-${randomUUID()}`;
      await admin.setOffsets({
        groupId,
        topic: TOPICS.traces,
        partitions: before.map((o) => ({ partition: o.partition, offset: o.high })),
      });
      const consumer = kafka.consumer({ groupId });
      await consumer.connect();
      await consumer.subscribe({ topic: TOPICS.traces, fromBeginning: true });
      const seen = new Map<string, Record<string, string>>();
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message, partition }) => {
            const h = Object.fromEntries(
              Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
            );
            if (h[HEADERS.tenantId] === tenantId) seen.set(`${partition}:${message.value}`, h);
            if (seen.size === 3) resolve();
          },
        });
      });
      await consumer.disconnect();
      expect([...seen.keys()].sort()).toEqual(values.map((v, p) => `${p}:${v}`).sort());
      for (const h of seen.values()) {
        expect(h).toEqual({
          [HEADERS.tenantId]: tenantId,
          [HEADERS.signal]: 'traces',
          [HEADERS.receivedAt]: '1700000000000',
          [HEADERS.contentVersion]: '1',
          [HEADERS.gatewayId]: 'gw-test',
        });
      }
    } finally {
      await admin.disconnect();
      await producer.disconnect();
    }
  });

  it('fails retryably within the deadline when Kafka is down, and bounds the bytes in flight', async () => {
    const dead = { ...settings, brokers: [`127.0.0.1:${await freePort()}`] };
    const producer = new OtlpProducer(
      createKafka(dead, logger, 'dead'),
      { gatewayId: 'gw', compression: 'none', timeoutMs: 800, maxInflightBytes: 1500 },
      logger,
    );
    const record = { partition: 0, value: new Uint8Array(1000) };
    const req = { tenantId: 't', signal: 'traces' as const, receivedAt: 0, records: [record] };
    const t0 = Date.now();
    const first = producer.produce(req);
    // While the first request's bytes are still in flight, a second one does not fit: refused now.
    await expect(producer.produce(req)).rejects.toBeInstanceOf(ProducerOverloadedError);
    await expect(first).rejects.toBeInstanceOf(ProduceFailedError);
    expect(Date.now() - t0).toBeLessThan(3000);
    await producer.disconnect().catch(() => undefined);
  });

  it('sends through several idempotent producers at once, one batch each, and Kafka has every record', async () => {
    const kafka = createKafka(settings, logger, 'producer-lanes');
    // Each kafkajs producer's sends, watched: how many are in flight, per producer and together.
    const busy = new Map<Producer, number>();
    let mostPerProducer = 0;
    let mostProducers = 0;
    const producerOf = kafka.producer.bind(kafka);
    (kafka as { producer: Kafka['producer'] }).producer = (config) => {
      const p = producerOf(config);
      const send = p.sendBatch.bind(p);
      p.sendBatch = async (batch) => {
        busy.set(p, (busy.get(p) ?? 0) + 1);
        mostPerProducer = Math.max(mostPerProducer, busy.get(p)!);
        mostProducers = Math.max(mostProducers, [...busy.values()].filter((n) => n > 0).length);
        try {
          return await send(batch);
        } finally {
          busy.set(p, busy.get(p)! - 1);
        }
      };
      return p;
    };
    const producer = new OtlpProducer(
      kafka,
      { gatewayId: 'gw-lanes', compression: 'lz4', timeoutMs: 10000, maxInflightBytes: 1 << 24 },
      logger,
    );
    const admin = kafka.admin();
    await admin.connect();
    try {
      await producer.connect();
      const before = await admin.fetchTopicOffsets(TOPICS.traces);
      // a uuid, as a gateway writes: workers on this stack read these records too
      const tenantId = randomUUID();
      const requests = 60;
      await Promise.all(
        Array.from({ length: requests }, (_, i) =>
          producer.produce({
            tenantId,
            signal: 'traces',
            receivedAt: 0,
            records: [0, 1].map((k) => ({
              partition: (i + k) % 6,
              value: Buffer.from(randomUUID()),
            })),
          }),
        ),
      );
      const after = await admin.fetchTopicOffsets(TOPICS.traces);
      let added = 0;
      for (const a of after)
        added += Number(a.high) - Number(before.find((b) => b.partition === a.partition)!.high);
      expect(added).toBe(requests * 2);
      expect(PRODUCER_LANES).toBeGreaterThan(1);
      expect(mostProducers).toBe(PRODUCER_LANES);
      // kafkajs serializes an idempotent producer's requests per broker: a second send on the
      // same producer would only wait for the first.
      expect(mostPerProducer).toBe(1);
    } finally {
      await admin.disconnect();
      await producer.disconnect();
    }
  });
});
