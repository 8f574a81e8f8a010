/**
 * Issue #5 "Proven by tests": a poison record — on otlp.traces with valid headers but a value
 * that is not an ExportTraceServiceRequest — goes to the dead-letter topic (otlp.deadletter)
 * byte for byte, with its headers and where it came from; it is counted; and the partition
 * keeps flowing: a valid record produced right after it on the same partition reaches the sink
 * (an OpenTelemetry Collector), and the group's commit passes both.
 */
import { randomUUID } from 'node:crypto';
import {
  CONTENT_VERSION,
  DEAD_LETTER_HEADERS,
  DEAD_LETTER_TOPIC,
  HEADERS,
  TOPICS,
} from '@custodian/bus';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { agentRun, tracesRequest } from '../support/agent-runs';
import { CollectorSink, activatePolicy, collectorSink } from '../support/collector';
import type { CustodianProcess } from '../support/custodian-process';
import { startGateway, tenantWithKey, type GatewayPorts } from '../support/gateway-process';
import { waitFor } from '../support/ports';
import { groupAtEnd, testKafka } from '../support/worker-setup';

const GROUP = `e2e-poison-${randomUUID()}`;
/** A LEN field whose length runs past the end of the value: no OTLP decoder accepts it. */
const GARBAGE = Buffer.from([0x0a, 0xff, 0xff, 0x03, 0xde, 0xad, 0xbe, 0xef]);

let db: PrismaClient;
let collector: CollectorSink;
let worker: CustodianProcess;
let ports: GatewayPorts;

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  collector = await CollectorSink.start();
  await groupAtEnd(GROUP);
  ({ proc: worker, ports } = await startGateway({ KAFKA_WORKER_GROUP: GROUP }, true, 'worker'));
  await worker.waitForLog('worker partitions assigned');
});

afterAll(async () => {
  if (worker) expect(await worker.stop()).toEqual({ code: 0, signal: null });
  await collector?.close();
  await db?.$disconnect();
});

function headersOf(tenantId: string): IHeaders {
  return {
    [HEADERS.tenantId]: tenantId,
    [HEADERS.signal]: 'traces',
    [HEADERS.receivedAt]: String(Date.now()),
    [HEADERS.contentVersion]: CONTENT_VERSION,
    [HEADERS.gatewayId]: 'e2e-poison',
  };
}

it('dead-letters an undecodable record and keeps the partition flowing', async () => {
  const { tenantId } = await tenantWithKey(db);
  await collectorSink(db, tenantId, 'collector', collector);
  await activatePolicy(db, tenantId, {
    version: 1,
    routes: [{ sink: 'collector', select: 'all', restricted_fields: false }],
  });
  // The worker reloads policies and sinks every few seconds: let it see this tenant's.
  await new Promise((r) => setTimeout(r, 3000));

  const kafka = testKafka();
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const reader = kafka.consumer({ groupId: `e2e-dlq-read-${randomUUID()}` });
  await Promise.all([admin.connect(), producer.connect()]);
  try {
    const dlqStart = await admin.fetchTopicOffsets(DEAD_LETTER_TOPIC);
    const partition = 4;
    const { run, spans } = agentRun();
    const [poison] = await producer.send({
      topic: TOPICS.traces,
      acks: -1,
      messages: [{ partition, key: 'poison', value: GARBAGE, headers: headersOf(tenantId) }],
    });
    const [valid] = await producer.send({
      topic: TOPICS.traces,
      acks: -1,
      messages: [
        {
          partition,
          key: null,
          value: Buffer.from(tracesRequest(spans)),
          headers: headersOf(tenantId),
        },
      ],
    });
    const poisonOffset = poison.baseOffset!;
    expect(BigInt(valid.baseOffset!)).toBe(BigInt(poisonOffset) + 1n);

    // The valid record after the poison one is delivered: the partition flows.
    await collector.waitForSpans('the valid run in the Collector', (got) =>
      got.filter((s) => s.traceId === run.traceId).length === 4 ? true : undefined,
    );

    // The poison record is on the dead-letter topic, byte for byte, with its provenance.
    const letters: KafkaMessage[] = [];
    await reader.connect();
    await reader.subscribe({ topic: DEAD_LETTER_TOPIC, fromBeginning: true });
    let joined = false;
    reader.on(reader.events.GROUP_JOIN, () => (joined = true));
    await reader.run({
      eachMessage: async ({ message }) => {
        if (message.headers?.[HEADERS.tenantId]?.toString() === tenantId) letters.push(message);
      },
    });
    await waitFor('dead-letter reader assignment', () => (joined ? true : undefined));
    for (const p of dlqStart)
      reader.seek({ topic: DEAD_LETTER_TOPIC, partition: p.partition, offset: p.high });
    const [letter] = await waitFor('the poison record on otlp.deadletter', () =>
      letters.length > 0 ? letters : undefined,
    );
    const h = (name: string) => letter.headers?.[name]?.toString();
    expect(letter.value).toEqual(GARBAGE);
    expect(letter.key?.toString()).toBe('poison');
    expect(h(HEADERS.gatewayId)).toBe('e2e-poison');
    expect(h(HEADERS.contentVersion)).toBe(CONTENT_VERSION);
    expect(h(DEAD_LETTER_HEADERS.originalTopic)).toBe(TOPICS.traces);
    expect(h(DEAD_LETTER_HEADERS.originalPartition)).toBe(String(partition));
    expect(h(DEAD_LETTER_HEADERS.originalOffset)).toBe(poisonOffset);
    expect(h(DEAD_LETTER_HEADERS.reason)).toBe('undecodable');
    expect(h(DEAD_LETTER_HEADERS.error)).toBeTruthy();

    // Counted, with tenant and reason.
    const metrics = await (await fetch(`http://127.0.0.1:${ports.ops}/metrics`)).text();
    const sample = (name: string) =>
      new RegExp(
        `^${name}\\{tenant="${tenantId}",signal="traces",reason="undecodable"[^}]*\\} (\\d+)$`,
        'm',
      ).exec(metrics)?.[1];
    expect(sample('custodian_worker_dead_lettered_records_total')).toBe('1');
    expect(sample('custodian_worker_discarded_items_total')).toBe('1');

    // The group's commit on that partition passed both records.
    await waitFor('commit past the valid record', async () => {
      const [c] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPICS.traces] });
      const o = c.partitions.find((p) => p.partition === partition)?.offset;
      return o !== undefined && BigInt(o) >= BigInt(valid.baseOffset!) + 1n ? true : undefined;
    });
    // And the worker's lag gauge for that partition, measured from Kafka, comes down to 0.
    await waitFor('consumer lag 0 on the partition', async () => {
      const m = await (await fetch(`http://127.0.0.1:${ports.ops}/metrics`)).text();
      const lag = new RegExp(
        `^custodian_worker_consumer_lag\\{topic="otlp.traces",partition="${partition}"[^}]*\\} (\\d+)$`,
        'm',
      ).exec(m)?.[1];
      return lag === '0' ? true : undefined;
    });
  } finally {
    await reader.disconnect().catch(() => undefined);
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  }
});
