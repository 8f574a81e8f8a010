/**
 * Two worker correctness fixes, proven across processes with the real stack:
 *
 * 1. Restricted values reach a sink only when the route (`restricted_fields: true`) AND the
 *    sink row (`cleared_for_restricted`) allow it. Two OpenTelemetry Collectors (not our code)
 *    are sinks of one tenant, both routed with `restricted_fields: true`; only one is cleared.
 *    The cleared one receives the GenAI prompt (restricted by the platform's redaction), the
 *    other receives `[RESTRICTED]` in its place, and the withheld items are counted.
 * 2. A tenant whose HMAC key cannot be decrypted (its tenant_keys row sealed under another
 *    CUSTODIAN_ENCRYPTION_KEY) does not stall its partition: its record goes to the
 *    dead-letter topic with reason `tenant_key_unavailable`, counted, and a record of another
 *    tenant produced right after it on the same partition reaches that tenant's sink.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { encryptSecret, tenantHmacAad } from '@custodian/auth';
import {
  CONTENT_VERSION,
  DEAD_LETTER_HEADERS,
  DEAD_LETTER_TOPIC,
  HEADERS,
  TOPICS,
} from '@custodian/bus';
import {
  SinkRepository,
  TenantKeyRepository,
  createPrismaClient,
  type PrismaClient,
} from '@custodian/db';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { agentRun, tracesRequest } from '../support/agent-runs';
import { CollectorSink, activatePolicy, collectorSink } from '../support/collector';
import type { CustodianProcess } from '../support/custodian-process';
import { startGateway, tenantWithKey, type GatewayPorts } from '../support/gateway-process';
import { waitFor } from '../support/ports';
import { groupAtEnd, testKafka } from '../support/worker-setup';

jest.setTimeout(120_000);

const GROUP = `e2e-clearance-${randomUUID()}`;
const KEY_PREFIX = `e2e-clearance-${randomUUID().slice(0, 8)}`;

let db: PrismaClient;
let plain: CollectorSink;
let cleared: CollectorSink;
let worker: CustodianProcess;
let ports: GatewayPorts;

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  [plain, cleared] = await Promise.all([CollectorSink.start(), CollectorSink.start()]);
  await groupAtEnd(GROUP);
  ({ proc: worker, ports } = await startGateway(
    { KAFKA_WORKER_GROUP: GROUP, CUSTODIAN_DELIVERY_KEY_PREFIX: KEY_PREFIX },
    true,
    'worker',
  ));
  await worker.waitForLog('worker partitions assigned');
});

afterAll(async () => {
  if (worker) expect(await worker.stop()).toEqual({ code: 0, signal: null });
  await Promise.all([plain?.close(), cleared?.close()]);
  await db?.$disconnect();
});

function headersOf(tenantId: string): IHeaders {
  return {
    [HEADERS.tenantId]: tenantId,
    [HEADERS.signal]: 'traces',
    [HEADERS.receivedAt]: String(Date.now()),
    [HEADERS.contentVersion]: CONTENT_VERSION,
    [HEADERS.gatewayId]: 'e2e-clearance',
  };
}

async function metrics(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${ports.ops}/metrics`)).text();
}

it('sends restricted values only to the sink that is cleared for them', async () => {
  const { tenantId } = await tenantWithKey(db);
  await collectorSink(db, tenantId, 'plain', plain);
  await new SinkRepository(db).create(tenantId, {
    name: 'cleared',
    kind: 'otlphttp',
    config: { endpoint: cleared.httpEndpoint, timeoutMs: 3000 },
    clearedForRestricted: true,
  });
  // Platform redaction (GenAI content restricted); both routes ask for restricted values.
  await activatePolicy(db, tenantId, {
    version: 1,
    routes: [
      { sink: 'plain', select: 'all', restricted_fields: true },
      { sink: 'cleared', select: 'all', restricted_fields: true },
    ],
  });
  await new Promise((r) => setTimeout(r, 3000));

  const kafka = testKafka();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const { run, spans } = agentRun();
  try {
    await producer.send({
      topic: TOPICS.traces,
      acks: -1,
      messages: [
        { key: null, value: Buffer.from(tracesRequest(spans)), headers: headersOf(tenantId) },
      ],
    });
  } finally {
    await producer.disconnect();
  }
  const chatOf = async (sink: CollectorSink) =>
    sink.waitForSpans(`the run's chat span in ${sink === plain ? 'plain' : 'cleared'}`, (got) =>
      got.find((s) => s.traceId === run.traceId && s.name === 'chat gpt-4o'),
    );
  const [inPlain, inCleared] = await Promise.all([chatOf(plain), chatOf(cleared)]);
  // The cleared sink gets the (detector-masked) prompt; the other only the placeholder.
  expect(inCleared.attributes['gen_ai.input.messages']).toEqual(expect.stringContaining('"role"'));
  expect(inPlain.attributes['gen_ai.input.messages']).toBe('[RESTRICTED]');
  expect(plain.rawText()).not.toContain('"role\\":\\"user\\"');

  const m = await metrics();
  const withheld = new RegExp(
    `^custodian_worker_restricted_withheld_items_total\\{tenant="${tenantId}",signal="traces",sink="plain"[^}]*\\} (\\d+)$`,
    'm',
  ).exec(m)?.[1];
  expect(withheld).toBe('4');
  expect(m).not.toMatch(
    new RegExp(
      `restricted_withheld_items_total\\{tenant="${tenantId}",signal="traces",sink="cleared"`,
    ),
  );
});

it('dead-letters the records of a tenant whose key cannot be decrypted and keeps the partition flowing', async () => {
  const bad = await tenantWithKey(db);
  const good = await tenantWithKey(db);
  // The bad tenant's HMAC key, sealed under a key this worker does not have.
  await new TenantKeyRepository(db).getOrCreate(bad.tenantId, () =>
    encryptSecret(randomBytes(32), randomBytes(32), tenantHmacAad(bad.tenantId)),
  );
  await collectorSink(db, good.tenantId, 'collector', plain);
  for (const t of [bad.tenantId, good.tenantId])
    await activatePolicy(db, t, {
      version: 1,
      routes: [{ sink: 'collector', select: 'all', restricted_fields: false }],
    });
  await new Promise((r) => setTimeout(r, 3000));

  const kafka = testKafka();
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const reader = kafka.consumer({ groupId: `e2e-clearance-dlq-${randomUUID()}` });
  await Promise.all([admin.connect(), producer.connect()]);
  try {
    const dlqStart = await admin.fetchTopicOffsets(DEAD_LETTER_TOPIC);
    const partition = 3;
    const badRun = agentRun();
    const goodRun = agentRun();
    const send = async (tenantId: string, spans: typeof badRun.spans) =>
      (
        await producer.send({
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
        })
      )[0].baseOffset!;
    const badOffset = await send(bad.tenantId, badRun.spans);
    const secondRun = agentRun();
    const badAgain = await send(bad.tenantId, secondRun.spans);
    const goodOffset = await send(good.tenantId, goodRun.spans);

    // The other tenant's record behind it is delivered: the partition flows.
    await plain.waitForSpans(
      'the good tenant run in the Collector',
      (got) =>
        got.filter((s) => s.traceId === goodRun.run.traceId).length === 4 ? true : undefined,
      60_000,
    );
    // Nothing of the bad tenant left the worker.
    expect(plain.spans().some((s) => s.traceId === badRun.run.traceId)).toBe(false);

    const letters: KafkaMessage[] = [];
    await reader.connect();
    await reader.subscribe({ topic: DEAD_LETTER_TOPIC, fromBeginning: true });
    let joined = false;
    reader.on(reader.events.GROUP_JOIN, () => (joined = true));
    await reader.run({
      eachMessage: async ({ message }) => {
        if (message.headers?.[HEADERS.tenantId]?.toString() === bad.tenantId) letters.push(message);
      },
    });
    await waitFor('dead-letter reader assignment', () => (joined ? true : undefined));
    for (const p of dlqStart)
      reader.seek({ topic: DEAD_LETTER_TOPIC, partition: p.partition, offset: p.high });
    await waitFor('both records on otlp.deadletter', () =>
      letters.length >= 2 ? letters : undefined,
    );
    const h = (l: KafkaMessage, name: string) => l.headers?.[name]?.toString();
    expect(letters.map((l) => h(l, DEAD_LETTER_HEADERS.originalOffset)).sort()).toEqual(
      [badOffset, badAgain].sort(),
    );
    for (const l of letters) {
      expect(h(l, DEAD_LETTER_HEADERS.reason)).toBe('tenant_key_unavailable');
      expect(h(l, DEAD_LETTER_HEADERS.originalPartition)).toBe(String(partition));
    }
    // Whole and byte for byte, for a redrive once the key is fixed.
    const byOffset = new Map(letters.map((l) => [h(l, DEAD_LETTER_HEADERS.originalOffset), l]));
    expect(byOffset.get(badOffset)!.value).toEqual(Buffer.from(tracesRequest(badRun.spans)));
    expect(byOffset.get(badAgain)!.value).toEqual(Buffer.from(tracesRequest(secondRun.spans)));

    const m = await metrics();
    const sample = (name: string) =>
      new RegExp(
        `^${name}\\{tenant="${bad.tenantId}",signal="traces",reason="tenant_key_unavailable"[^}]*\\} (\\d+)$`,
        'm',
      ).exec(m)?.[1];
    expect(sample('custodian_worker_dead_lettered_records_total')).toBe('2');
    expect(sample('custodian_worker_discarded_items_total')).toBe('2');
    // Logged once for the tenant, however many records it had.
    const told = worker.logs.filter(
      (l) => l.tenantId === bad.tenantId && l.reason === 'tenant_key_unavailable',
    );
    expect(told).toHaveLength(1);
    expect(told[0].level).toBe('error');

    // The group's commit passes all three records.
    await waitFor('commit past the good record', async () => {
      const [c] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPICS.traces] });
      const o = c.partitions.find((p) => p.partition === partition)?.offset;
      return o !== undefined && BigInt(o) > BigInt(goodOffset) ? true : undefined;
    });
  } finally {
    await reader.disconnect().catch(() => undefined);
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  }
});
