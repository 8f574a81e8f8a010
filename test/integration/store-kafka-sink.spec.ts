/**
 * The `kafka` sink against the real Kafka (issue #5 item 4): a batch lands on the tenant's own
 * topic as one record whose value is the batch's OTLP protobuf and whose headers follow the
 * record contract; a topic outside the tenant's prefix never gets an exporter; a missing topic
 * is a retryable failure.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { CONTENT_VERSION, HEADERS, createKafka } from '@custodian/bus';
import {
  ExportError,
  KafkaExporter,
  KafkaSinkConfigError,
  createSinkExporterFactory,
} from '@custodian/exporters';
import { decodeTraces, encodeTraces } from '@custodian/otlp';
import { batch, span } from '../../libs/policy/testdata/fixtures';
import { waitFor } from '../support/ports';

const tenantId = randomUUID();
const topic = `tenant.${tenantId}.spans`;
const settings = {
  brokers: process.env.KAFKA_BROKERS!.split(','),
  clientId: 'it-kafka-sink',
  topicPartitions: 1,
  replicationFactor: 1,
};
const kafka = () => createKafka(settings, pino({ level: 'silent' }), 'sink');
const exporters: KafkaExporter[] = [];

afterAll(async () => {
  await Promise.all(exporters.map((e) => e.close()));
  const admin = kafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

function exporter(config: unknown): KafkaExporter {
  const e = new KafkaExporter(config, {
    tenantId,
    kafka: () => kafka(),
    producerId: 'worker-it',
    clock: () => 1_764_000_000_000,
  });
  exporters.push(e);
  return e;
}

it('produces the batch to the tenant topic with the record contract’s headers', async () => {
  const admin = kafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();

  const traceId = randomBytes(16);
  const data = batch([span({ traceId, name: 'agent.run' })], 'kafka-sink-svc');
  const protobuf = encodeTraces(data);
  // Built as the worker builds it, from a sink row's kind and config.
  const factory = createSinkExporterFactory({
    kafka: { kafka: () => kafka(), producerId: 'worker-it', clock: () => 1_764_000_000_000 },
  });
  const e = factory('kafka', { topic }, { tenantId, sinkId: 's1' }) as KafkaExporter;
  exporters.push(e);
  expect(e.kind).toBe('kafka');
  expect(await e.export({ signal: 'traces', protobuf, data, items: 1 })).toEqual({ rejected: 0 });

  const consumer = kafka().consumer({ groupId: `it-kafka-sink-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: { value: Buffer; headers: Record<string, string> }[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      got.push({ value: message.value!, headers });
    },
  });
  await waitFor('the record on the tenant topic', async () => (got.length > 0 ? true : undefined));
  await consumer.disconnect();

  expect(got).toHaveLength(1);
  expect(Buffer.compare(got[0].value, Buffer.from(protobuf))).toBe(0);
  expect(decodeTraces(got[0].value).resourceSpans[0].scopeSpans[0].spans[0].name).toBe('agent.run');
  expect(got[0].headers).toEqual({
    [HEADERS.tenantId]: tenantId,
    [HEADERS.signal]: 'traces',
    [HEADERS.receivedAt]: '1764000000000',
    [HEADERS.contentVersion]: CONTENT_VERSION,
    [HEADERS.gatewayId]: 'worker-it',
  });
});

it('never builds an exporter for the platform topics or another tenant’s topic', () => {
  expect(() => exporter({ topic: 'otlp.traces' })).toThrow(KafkaSinkConfigError);
  expect(() => exporter({ topic: `tenant.${randomUUID()}.spans` })).toThrow(KafkaSinkConfigError);
});

it('a topic that does not exist is a retryable failure', async () => {
  const e = exporter({ topic: `tenant.${tenantId}.missing-${randomUUID()}` });
  const err = await e
    .export({ signal: 'traces', protobuf: encodeTraces(batch([])), items: 0 })
    .catch((x: unknown) => x);
  expect(err).toBeInstanceOf(ExportError);
  expect((err as ExportError).retryable).toBe(true);
});
