/**
 * Gateway → Kafka → worker → a real Zipkin server, in one process (--target=gateway,worker):
 * the tenant's policy (from PostgreSQL) redacts before anything leaves, tail sampling keeps
 * every failed agent run and drops the healthy ones, kept spans carry the policy hash, and the
 * worker's committed offsets reach the end of what it consumed.
 */
import { randomUUID } from 'node:crypto';
import { ExportResultCode } from '@opentelemetry/core';
import { TOPICS } from '@custodian/bus';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import { policyHash } from '@custodian/policy';
import type { CustodianProcess } from '../support/custodian-process';
import { startGateway, tenantWithKey, type GatewayPorts } from '../support/gateway-process';
import { sendWithOtelExporter } from '../support/otel-client';
import { waitFor } from '../support/ports';
import { groupAtEnd, testKafka, zipkinErrorsPolicy } from '../support/worker-setup';

const ZIPKIN = process.env.ZIPKIN_URL!;
const GROUP = `e2e-worker-${randomUUID()}`;

let db: PrismaClient;
let proc: CustodianProcess;
let ports: GatewayPorts;

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  // Earlier suites left other tenants' records on the topics: this worker starts after them.
  await groupAtEnd(GROUP);
  ({ proc, ports } = await startGateway({ KAFKA_WORKER_GROUP: GROUP }, true, 'gateway,worker'));
});

afterAll(async () => {
  expect(await proc.stop()).toEqual({ code: 0, signal: null });
  await db.$disconnect();
});

async function zipkinTrace(traceId: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${ZIPKIN}/api/v2/trace/${traceId}`);
  return res.status === 200 ? ((await res.json()) as Record<string, unknown>[]) : [];
}

it('redacts, tail-samples and delivers agent runs to the tenant’s Zipkin sink', async () => {
  const { tenantId, key } = await tenantWithKey(db);
  const policy = await zipkinErrorsPolicy(db, tenantId, '2s');
  // The worker reloads policies every 2 s; give it time to see this one.
  await new Promise((r) => setTimeout(r, 3000));

  const failed = await sendWithOtelExporter(
    'http-proto',
    `http://127.0.0.1:${ports.http}`,
    key,
    3,
    {
      failTool: true,
      service: 'agent-failing',
    },
  );
  const healthy = await sendWithOtelExporter(
    'http-proto',
    `http://127.0.0.1:${ports.http}`,
    key,
    3,
    {
      service: 'agent-healthy',
    },
  );
  expect([failed.code, healthy.code]).toEqual([ExportResultCode.SUCCESS, ExportResultCode.SUCCESS]);

  const failedTraces = [...new Set(failed.sent.map((s) => s.traceId))];
  expect(failedTraces).toHaveLength(3);
  for (const traceId of failedTraces) {
    const spans = await waitFor(`trace ${traceId} in Zipkin`, async () => {
      const got = await zipkinTrace(traceId);
      return got.length === 4 ? got : undefined;
    });
    const text = JSON.stringify(spans);
    // Redacted before it left: neither the email nor the key from the prompt reach the sink.
    expect(text).not.toContain('jane@example.com');
    expect(text).not.toContain('sk-proj-abc123');
    // The prompt is a GenAI content attribute: restricted by the default redaction, and this
    // sink is not cleared for restricted values, so it receives the marker, not the prompt.
    const llm = spans.find((s) => s.name === 'chat gpt-4o')!;
    const tags = llm.tags as Record<string, string>;
    expect(tags['gen_ai.input.messages']).toBe('[RESTRICTED]');
    expect(JSON.parse(tags['custodian.redaction.detections'])).toMatchObject({ 'email.mask': 1 });
    for (const s of spans) {
      expect((s.tags as Record<string, string>)['custodian.policy.hash']).toBe(policyHash(policy));
    }
  }
  // Healthy runs were decided (decision_wait 2 s) and dropped: never in Zipkin.
  await new Promise((r) => setTimeout(r, 4000));
  for (const traceId of new Set(healthy.sent.map((s) => s.traceId))) {
    expect(await zipkinTrace(traceId)).toEqual([]);
  }

  // Offsets: the worker's group committed up to the end of otlp.traces.
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await waitFor('worker offsets at the end of otlp.traces', async () => {
      const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPICS.traces] });
      const ends = await admin.fetchTopicOffsets(TOPICS.traces);
      const ok = ends.every(
        (e) => committed.partitions.find((p) => p.partition === e.partition)?.offset === e.high,
      );
      return ok ? true : undefined;
    });
  } finally {
    await admin.disconnect();
  }
});
