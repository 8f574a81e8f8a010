/**
 * Issue #5 "Proven by tests": a sink outage. The sink is an OpenTelemetry Collector that the
 * test stops and starts again on the same port.
 *
 * 1. Down 30 s, then back: with a retry budget that outlasts the outage
 *    (CUSTODIAN_DELIVERY_* settings), every span the gateway acknowledged is delivered once
 *    the sink is back — counted exactly, duplicates counted — and nothing is dead-lettered.
 * 2. Down beyond the retry budget (2 attempts): the batches land in the sink's dead letters;
 *    redriven through SinkDelivery's API (as the admin calls it), they are delivered.
 *
 * The two parts run one after the other, each with its own worker process (the budget is a
 * process setting), tenant and Collector.
 */
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import { OtlpHttpExporter } from '@custodian/exporters';
import { SinkDelivery } from '@custodian/delivery';
import { agentRun, sendRuns, type AgentRun } from '../support/agent-runs';
import {
  CollectorSink,
  activatePolicy,
  collectorSink,
  type ReceivedSpan,
} from '../support/collector';
import type { CustodianProcess } from '../support/custodian-process';
import { startGateway, tenantWithKey } from '../support/gateway-process';
import { waitFor } from '../support/ports';
import { groupAtEnd } from '../support/worker-setup';

jest.setTimeout(180_000);

/**
 * This suite's own delivery queues in the shared Redis: a worker of another suite started
 * meanwhile picks up every queue under the default prefix, and would retry these batches on
 * its own (default, 30 s) backoff.
 */
const KEY_PREFIX = `e2e-outage-${randomUUID().slice(0, 8)}`;

let db: PrismaClient;
const collectors: CollectorSink[] = [];
const running: CustodianProcess[] = [];

beforeAll(() => {
  db = createPrismaClient(process.env.DATABASE_URL!);
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  await Promise.all(collectors.map((c) => c.close()));
  await db.$disconnect();
});

/** A tenant whose policy sends everything to one Collector, and a worker for it. */
async function setup(budget: Record<string, string>) {
  const collector = await CollectorSink.start();
  collectors.push(collector);
  const { tenantId, key } = await tenantWithKey(db);
  const sinkId = await collectorSink(db, tenantId, 'collector', collector);
  await activatePolicy(db, tenantId, {
    version: 1,
    routes: [{ sink: 'collector', select: 'all', restricted_fields: false }],
  });
  const group = `e2e-outage-${randomUUID()}`;
  await groupAtEnd(group);
  const { proc, ports } = await startGateway(
    { KAFKA_WORKER_GROUP: group, CUSTODIAN_DELIVERY_KEY_PREFIX: KEY_PREFIX, ...budget },
    true,
    'gateway,worker',
  );
  running.push(proc);
  await proc.waitForLog('worker partitions assigned');
  return { collector, tenantId, key, sinkId, proc, ports };
}

function tally(received: ReceivedSpan[], runs: AgentRun[]) {
  const wanted = new Set(runs.flatMap((r) => r.spanIds));
  const mine = received.filter((s) => wanted.has(s.spanId));
  const unique = new Set(mine.map((s) => s.spanId));
  return { wanted: wanted.size, unique: unique.size, duplicates: mine.length - unique.size };
}

async function metric(opsPort: number, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.split(' ').pop());
  }
  return sum;
}

it('a sink down for 30 s gets everything once it is back', async () => {
  const s = await setup({
    CUSTODIAN_DELIVERY_MAX_ATTEMPTS: '40',
    CUSTODIAN_DELIVERY_INITIAL_BACKOFF_MS: '1000',
    CUSTODIAN_DELIVERY_MAX_BACKOFF_MS: '4000',
  });
  // The path works before the outage.
  const before = await sendRuns(s.ports.http, s.key, [agentRun(), agentRun()]);
  expect(before.acked).toHaveLength(2);
  await s.collector.waitForSpans('the runs before the outage', (got) =>
    tally(got, before.acked).unique === 8 ? true : undefined,
  );

  await s.collector.pause();
  const during = await sendRuns(
    s.ports.http,
    s.key,
    Array.from({ length: 50 }, () => agentRun()),
    10,
  );
  expect(during.refused).toEqual([]);
  // Failed exports went to the sink's retry queue (Redis), not to dead letters.
  await waitFor('batches queued for retry', async () =>
    (await metric(s.ports.ops, 'custodian_delivery_batches_total', 'outcome="queued_retry"')) > 0
      ? true
      : undefined,
  );
  await new Promise((r) => setTimeout(r, 30_000));
  expect(tally(s.collector.spans(), during.acked).unique).toBe(0);
  await s.collector.resume();

  const t = await s.collector
    .waitForSpans(
      'every span sent during the outage',
      (got) => {
        const c = tally(got, during.acked);
        return c.unique === c.wanted ? c : undefined;
      },
      60_000,
    )
    .catch(async (err: unknown) => {
      const m = await (await fetch(`http://127.0.0.1:${s.ports.ops}/metrics`)).text();
      console.log(
        JSON.stringify(tally(s.collector.spans(), during.acked)),
        m
          .split('\n')
          .filter((l) => l.startsWith('custodian_delivery') || l.startsWith('custodian_worker'))
          .join('\n'),
        s.proc.logs
          .filter((l) => l.level !== 'info' && l.level !== 'raw')
          .slice(-20)
          .map((l) => JSON.stringify(l))
          .join('\n'),
      );
      throw err;
    });
  expect(t.unique).toBe(200);
  expect(
    await metric(s.ports.ops, 'custodian_delivery_batches_total', 'outcome="dead_lettered"'),
  ).toBe(0);
  console.log(
    `outage 30 s: ${t.unique} of ${t.wanted} spans delivered after the sink came back, ` +
      `${t.duplicates} duplicates; retried batches exported: ${await metric(
        s.ports.ops,
        'custodian_delivery_batches_total',
        'outcome="retried_exported"',
      )}`,
  );
});

it('beyond the retry budget batches are dead-lettered, and a redrive delivers them', async () => {
  // Stop the first part's worker: only this part's worker should handle this tenant.
  await Promise.all(running.splice(0).map((p) => p.stop()));
  const s = await setup({
    CUSTODIAN_DELIVERY_MAX_ATTEMPTS: '2',
    CUSTODIAN_DELIVERY_INITIAL_BACKOFF_MS: '200',
    CUSTODIAN_DELIVERY_MAX_BACKOFF_MS: '400',
  });
  // The admin's view of delivery: the same Redis queues, SinkDelivery's API.
  const admin = new SinkDelivery({
    redisUrl: process.env.REDIS_URL!,
    registry: new Registry(),
    resolveSink: async (tenantId, sinkId) =>
      tenantId === s.tenantId && sinkId === s.sinkId
        ? new OtlpHttpExporter({ endpoint: s.collector.httpEndpoint, timeoutMs: 3000 })
        : undefined,
    config: { keyPrefix: KEY_PREFIX, initialBackoffMs: 200, maxBackoffMs: 400 },
  });
  try {
    await s.collector.pause();
    const sent = await sendRuns(
      s.ports.http,
      s.key,
      Array.from({ length: 10 }, () => agentRun()),
      5,
    );
    expect(sent.acked).toHaveLength(10);
    const letters = await waitFor(
      'all 40 spans in dead letters',
      async () => {
        const page = await admin.listDeadLetters(s.tenantId, s.sinkId, { limit: 100 });
        const items = page.entries.reduce((n, e) => n + e.items, 0);
        return items >= 40 ? page.entries : undefined;
      },
      60_000,
      250,
    );
    expect(letters.every((e) => e.reason === 'max_attempts' && e.attempts === 2)).toBe(true);
    expect(tally(s.collector.spans(), sent.acked).unique).toBe(0);

    await s.collector.resume();
    expect(await admin.redrive(s.tenantId, s.sinkId)).toBe(letters.length);
    const t = await s.collector.waitForSpans('the redriven spans', (got) => {
      const c = tally(got, sent.acked);
      return c.unique === c.wanted ? c : undefined;
    });
    expect(t.unique).toBe(40);
    expect((await admin.listDeadLetters(s.tenantId, s.sinkId)).entries).toEqual([]);
    console.log(
      `beyond budget: ${letters.length} batches dead-lettered, redriven, ${t.unique} spans ` +
        `delivered, ${t.duplicates} duplicates`,
    );
  } finally {
    await admin.close();
  }
});
