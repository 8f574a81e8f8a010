import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { HEADERS, TOPICS, createKafka, type Signal } from '@custodian/bus';
import { decodeTraces, partitionOfTraceId } from '@custodian/otlp';
import { waitFor } from './ports';

const logger = pino({ level: 'silent' });
const kafka = () =>
  createKafka(
    {
      brokers: process.env.KAFKA_BROKERS!.split(','),
      clientId: 'e2e-read',
      topicPartitions: 6,
      replicationFactor: 1,
    },
    logger,
    'read',
  );

/** The current end offsets of a signal's topic, to read from later. */
export async function endOffsets(signal: Signal): Promise<Map<number, string>> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(TOPICS[signal]);
    return new Map(offsets.map((o) => [o.partition, o.high]));
  } finally {
    await admin.disconnect();
  }
}

export interface SpanInKafka {
  traceId: string;
  spanId: string;
  name: string;
  partition: number;
}

/**
 * Every span of `tenantId` on otlp.traces from `from` up to the end, read with a fresh
 * consumer: what Kafka durably has, independent of any earlier reader.
 */
export async function tracesInKafka(
  tenantId: string,
  from: Map<number, string>,
  until: (spans: SpanInKafka[]) => boolean,
): Promise<SpanInKafka[]> {
  const k = kafka();
  const consumer = k.consumer({ groupId: `e2e-read-${randomUUID()}` });
  const spans: SpanInKafka[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPICS.traces, fromBeginning: true });
    let assigned = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (assigned = true));
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (String(message.headers?.[HEADERS.tenantId]) !== tenantId) return;
        for (const rs of decodeTraces(message.value!).resourceSpans) {
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              spans.push({
                traceId: Buffer.from(s.traceId).toString('hex'),
                spanId: Buffer.from(s.spanId).toString('hex'),
                name: s.name,
                partition,
              });
            }
          }
        }
      },
    });
    await waitFor('reader assignment', () => (assigned ? true : undefined));
    for (const [partition, offset] of from)
      consumer.seek({ topic: TOPICS.traces, partition, offset });
    await waitFor('spans in Kafka', () => (until(spans) ? true : undefined), 30000, 200);
    return spans;
  } finally {
    await consumer.disconnect();
  }
}

export function inTraceIdPartition(s: SpanInKafka, partitions: number): boolean {
  return s.partition === partitionOfTraceId(Buffer.from(s.traceId, 'hex'), partitions);
}
