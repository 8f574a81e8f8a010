/**
 * Issue #5 "Proven by tests", first bullet: gateway → Kafka → worker → sinks with a policy that
 * redacts, keeps error and slow runs, samples the rest at 10%, and routes errors to a second
 * sink — what arrives in each sink is exactly what the policy says. Sink A is an OpenTelemetry
 * Collector (otlp receiver → file exporter; not our code), sink B the real Zipkin server.
 *
 * "Exactly": the set of traces in A equals errors ∪ slow ∪ the traces the policy's own
 * probabilistic evaluator (libs/policy, the Collector's FNV-1a hash of the trace id) keeps;
 * each kept trace arrives with all four spans; B holds the error runs and nothing else of this
 * tenant's; neither sink ever sees the email or the API key.
 */
import { randomUUID } from 'node:crypto';
import { TOPICS } from '@custodian/bus';
import { SinkRepository, createPrismaClient, type PrismaClient } from '@custodian/db';
import { hexToBytes, Verdict, createEvaluator } from '@custodian/policy';
import {
  SECRET_API_KEY,
  SECRET_EMAIL,
  agentRun,
  sendRuns,
  type AgentRun,
} from '../support/agent-runs';
import { CollectorSink, activatePolicy, collectorSink } from '../support/collector';
import type { CustodianProcess } from '../support/custodian-process';
import { startGateway, tenantWithKey, type GatewayPorts } from '../support/gateway-process';
import { waitFor } from '../support/ports';
import { groupAtEnd, testKafka } from '../support/worker-setup';

jest.setTimeout(180_000);

const ZIPKIN = process.env.ZIPKIN_URL!;
const GROUP = `e2e-policy-${randomUUID()}`;
const ERRORS = 30;
const SLOW = 30;
const REST = 340;

let db: PrismaClient;
let collector: CollectorSink;
let proc: CustodianProcess;
let ports: GatewayPorts;
let tenantId: string;
let key: string;

const POLICY = {
  version: 1,
  // Every built-in detector masks (the platform default, spelled out).
  redaction: { detectors: { enabled: 'all', action: { action: 'mask' } } },
  sampling: {
    tail: {
      decision_wait: '2s',
      num_traces: 20000,
      policies: [
        { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
        { name: 'slow-runs', type: 'latency', latency: { threshold_ms: 2000 } },
        { name: 'the-rest', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } },
      ],
    },
  },
  routes: [
    { sink: 'collector', select: 'all', restricted_fields: false },
    { sink: 'zipkin', select: 'errors', restricted_fields: false },
  ],
};

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  collector = await CollectorSink.start();
  ({ tenantId, key } = await tenantWithKey(db));
  await collectorSink(db, tenantId, 'collector', collector);
  await new SinkRepository(db).create(tenantId, {
    name: 'zipkin',
    kind: 'zipkin',
    config: { endpoint: ZIPKIN },
    clearedForRestricted: false,
  });
  await activatePolicy(db, tenantId, POLICY);
  await groupAtEnd(GROUP);
  ({ proc, ports } = await startGateway({ KAFKA_WORKER_GROUP: GROUP }, true, 'gateway,worker'));
  await proc.waitForLog('worker partitions assigned');
});

afterAll(async () => {
  if (proc) expect(await proc.stop()).toEqual({ code: 0, signal: null });
  await collector?.close();
  await db?.$disconnect();
});

async function zipkinTrace(traceId: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${ZIPKIN}/api/v2/trace/${traceId}`);
  return res.status === 200 ? ((await res.json()) as Record<string, unknown>[]) : [];
}

/** The traces the policy's probabilistic evaluator keeps, computed with libs/policy. */
function keptByTheRest(runs: AgentRun[]): Set<string> {
  const cfg = POLICY.sampling.tail.policies[2];
  const ev = createEvaluator(cfg as Parameters<typeof createEvaluator>[0]);
  return new Set(
    runs
      .filter(
        (r) =>
          ev.evaluate({ traceId: hexToBytes(r.traceId), spanCount: 4, batches: [] }, 0) ===
          Verdict.Sampled,
      )
      .map((r) => r.traceId),
  );
}

it('delivers to each sink exactly what the policy says, redacted', async () => {
  const made = [
    ...Array.from({ length: ERRORS }, () => agentRun({ error: true })),
    ...Array.from({ length: SLOW }, () => agentRun({ slow: true, slowMs: 3000 })),
    ...Array.from({ length: REST }, () => agentRun()),
  ].sort(() => Math.random() - 0.5);
  const { acked, refused } = await sendRuns(ports.http, key, made, 20);
  expect(refused).toEqual([]);
  expect(acked).toHaveLength(ERRORS + SLOW + REST);

  const errors = acked.filter((r) => r.error);
  const slow = acked.filter((r) => r.slow);
  const rest = acked.filter((r) => !r.error && !r.slow);
  const sampled = keptByTheRest(rest);
  const expectedA = new Set([...errors, ...slow].map((r) => r.traceId).concat([...sampled]));

  // Every decision is due 2 s after a trace's last span; wait until the worker's group has
  // committed to the end of otlp.traces: everything was decided and delivered (or queued).
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await waitFor(
      'worker offsets at the end of otlp.traces',
      async () => {
        const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPICS.traces] });
        const ends = await admin.fetchTopicOffsets(TOPICS.traces);
        const ok = ends.every(
          (e) => committed.partitions.find((p) => p.partition === e.partition)?.offset === e.high,
        );
        return ok ? true : undefined;
      },
      90_000,
      500,
    );
  } finally {
    await admin.disconnect();
  }
  const received = await collector.waitForSpans(
    `all ${expectedA.size} kept traces in the Collector`,
    (spans) => (new Set(spans.map((s) => s.traceId)).size >= expectedA.size ? spans : undefined),
    30_000,
  );

  // Sink A: exactly the expected traces, each complete.
  const byTrace = new Map<string, Set<string>>();
  for (const s of received) {
    if (!byTrace.has(s.traceId)) byTrace.set(s.traceId, new Set());
    byTrace.get(s.traceId)!.add(s.spanId);
  }
  expect([...byTrace.keys()].sort()).toEqual([...expectedA].sort());
  for (const r of acked.filter((a) => expectedA.has(a.traceId))) {
    expect([...byTrace.get(r.traceId)!].sort()).toEqual([...r.spanIds].sort());
  }
  const duplicates = received.length - [...byTrace.values()].reduce((n, s) => n + s.size, 0);
  // The rest's kept fraction: binomial(REST, 0.1), within 4 standard deviations.
  const sd = Math.sqrt(REST * 0.1 * 0.9);
  expect(Math.abs(sampled.size - REST * 0.1)).toBeLessThanOrEqual(4 * sd);
  console.log(
    `policy e2e: ${acked.length} runs sent; A kept ${byTrace.size} traces ` +
      `(${errors.length} errors, ${slow.length} slow, ${sampled.size}/${rest.length} sampled), ` +
      `${received.length} spans, ${duplicates} duplicates`,
  );

  // Redaction: neither the email nor the key anywhere in what the Collector received; the
  // detectors replaced them in the attributes that are not GenAI content.
  const raw = collector.rawText();
  expect(raw).not.toContain(SECRET_EMAIL);
  expect(raw).not.toContain(SECRET_API_KEY);
  const chat = received.find((s) => s.name === 'chat gpt-4o')!;
  expect(chat.attributes['gen_ai.request.user']).toBe('[REDACTED:email]');
  expect(chat.attributes['gen_ai.agent.description']).toBe(
    'escalates to [REDACTED:email] using [REDACTED:openai_api_key]',
  );
  expect(chat.attributes['gen_ai.input.messages']).toBe('[RESTRICTED]');

  // Sink B (Zipkin): every error run, complete; none of the other kept runs.
  for (const r of errors) {
    const spans = await waitFor(
      `error trace ${r.traceId} in Zipkin`,
      async () => {
        const got = await zipkinTrace(r.traceId);
        return got.length >= 4 ? got : undefined;
      },
      30_000,
      250,
    );
    expect(new Set(spans.map((s) => s.id as string))).toEqual(new Set(r.spanIds));
    const text = JSON.stringify(spans);
    expect(text).not.toContain(SECRET_EMAIL);
    expect(text).not.toContain(SECRET_API_KEY);
  }
  for (const r of acked.filter((a) => expectedA.has(a.traceId) && !a.error)) {
    expect(await zipkinTrace(r.traceId)).toEqual([]);
  }
});
