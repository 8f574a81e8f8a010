/**
 * Every KAFKA_COMPRESSION codec against the real broker (issue #3: LZ4 replaced gzip as the
 * gateway's default to cut its CPU per span). The gateway's OtlpProducer writes with each codec;
 * the broker accepts the batches only if it can decompress them (Kafka validates every record
 * of a compressed batch), and a consumer built the way the worker builds its own (createKafka,
 * a client of its own, a fresh group) reads back every value byte for byte — values large
 * enough to span several LZ4 blocks included.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { HEADERS, OtlpProducer, TOPICS, createKafka, type KafkaCompression } from '@custodian/bus';

const logger = pino({ level: 'silent' });
const settings = {
  brokers: process.env.KAFKA_BROKERS!.split(','),
  clientId: 'custodian-test',
  topicPartitions: 6,
  replicationFactor: 1,
};

/** Compressible like OTLP (repeated keys and names) with random ids mixed in. */
function otlpLike(bytes: number): Buffer {
  const parts: Buffer[] = [];
  let n = 0;
  while (n < bytes) {
    const p = Buffer.concat([
      Buffer.from('gen_ai.request.model\x12\x06gpt-4o server.address api.openai.com '),
      randomBytes(24),
    ]);
    parts.push(p);
    n += p.length;
  }
  return Buffer.concat(parts).subarray(0, bytes);
}

describe.each<KafkaCompression>(['lz4', 'gzip', 'none'])('KAFKA_COMPRESSION=%s', (codec) => {
  it('the broker accepts what the gateway produces and a worker-side consumer reads it back', async () => {
    const gatewayKafka = createKafka(settings, logger, `gateway-${codec}`);
    const producer = new OtlpProducer(
      gatewayKafka,
      { gatewayId: 'gw-codec', compression: codec, timeoutMs: 15000, maxInflightBytes: 8 << 20 },
      logger,
    );
    const workerKafka = createKafka(settings, logger, `worker-${codec}`);
    const admin = workerKafka.admin();
    await admin.connect();
    const tenantId = randomUUID();
    const values = [otlpLike(200), otlpLike(60_000), otlpLike(300_000)];
    try {
      const before = await admin.fetchTopicOffsets(TOPICS.logs);
      await producer.produce({
        tenantId,
        signal: 'logs',
        receivedAt: Date.now(),
        records: values.map((value, partition) => ({ partition, value })),
      });
      const groupId = `codec-${codec}-${randomUUID()}`;
      await admin.setOffsets({
        groupId,
        topic: TOPICS.logs,
        partitions: before.map((o) => ({ partition: o.partition, offset: o.high })),
      });
      const consumer = workerKafka.consumer({ groupId });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: TOPICS.logs, fromBeginning: true });
        const seen = new Map<number, Buffer>();
        await new Promise<void>((resolve) => {
          void consumer.run({
            eachMessage: async ({ message, partition }) => {
              if (String(message.headers?.[HEADERS.tenantId]) !== tenantId) return;
              seen.set(partition, message.value!);
              if (seen.size === values.length) resolve();
            },
          });
        });
        values.forEach((v, partition) => expect(seen.get(partition)?.equals(v)).toBe(true));
      } finally {
        await consumer.disconnect();
      }
    } finally {
      await admin.disconnect();
      await producer.disconnect();
    }
  });
});
