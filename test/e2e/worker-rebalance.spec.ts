/**
 * Issue #5 item 3: at-least-once holds through rebalances. While a steady stream of agent runs
 * flows through the gateway, a second worker joins the group and later leaves it (SIGTERM);
 * then a worker is killed with SIGKILL and its partitions are taken over after the session
 * timeout (KAFKA_WORKER_SESSION_TIMEOUT_MS). Every span the gateway acknowledged reaches the
 * sink — an OpenTelemetry Collector — duplicates allowed and counted, none lost. Tail sampling
 * keeps every trace but holds each for decision_wait, so buffers are full when partitions move.
 */
import { randomUUID } from 'node:crypto';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import { agentRun, sendRuns, type AgentRun } from '../support/agent-runs';
import { CollectorSink, activatePolicy, collectorSink } from '../support/collector';
import type { CustodianProcess } from '../support/custodian-process';
import { startGateway, tenantWithKey } from '../support/gateway-process';
import { waitFor } from '../support/ports';
import { groupAtEnd } from '../support/worker-setup';

jest.setTimeout(240_000);

let db: PrismaClient;
let collector: CollectorSink;
const running: CustodianProcess[] = [];

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  collector = await CollectorSink.start();
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await collector?.close();
  await db?.$disconnect();
});

/** Sends 4 runs every `everyMs` until stopped; collects what the gateway acknowledged. */
function stream(httpPort: number, key: string, everyMs = 250) {
  const acked: AgentRun[] = [];
  let refused = 0;
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const r = await sendRuns(
        httpPort,
        key,
        Array.from({ length: 4 }, () => agentRun()),
        4,
      );
      acked.push(...r.acked);
      refused += r.refused.length;
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return {
    acked,
    refused: () => refused,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

async function setup() {
  const { tenantId, key } = await tenantWithKey(db);
  await collectorSink(db, tenantId, 'collector', collector);
  await activatePolicy(db, tenantId, {
    version: 1,
    sampling: {
      tail: {
        decision_wait: '3s',
        policies: [{ name: 'keep-all', type: 'always_sample' }],
      },
    },
    routes: [{ sink: 'collector', select: 'all', restricted_fields: false }],
  });
  const group = `e2e-rebalance-${randomUUID()}`;
  await groupAtEnd(group);
  const gateway = await startGateway();
  running.push(gateway.proc);
  const worker = async () => {
    const w = await startGateway({ KAFKA_WORKER_GROUP: group }, true, 'worker');
    running.push(w.proc);
    return w.proc;
  };
  return { key, gateway, worker };
}

/** Waits until every acknowledged span is in the Collector; returns the tally. */
async function allDelivered(acked: AgentRun[], timeoutMs: number) {
  const wanted = new Set(acked.flatMap((r) => r.spanIds));
  return collector.waitForSpans(
    `all ${wanted.size} acknowledged spans in the Collector`,
    (got) => {
      const mine = got.filter((s) => wanted.has(s.spanId));
      const unique = new Set(mine.map((s) => s.spanId)).size;
      if (unique === wanted.size)
        return { unique, duplicates: mine.length - unique, wanted: wanted.size };
      // Not an assertion: thrown so that a time-out says how far delivery got and whether the
      // Collector was still up (waitFor reports the last error it saw).
      throw new Error(
        `${unique} of ${wanted.size} delivered; Collector running: ${collector.running}`,
      );
    },
    timeoutMs,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('loses nothing when a second worker joins and then leaves', async () => {
  const { key, gateway, worker } = await setup();
  const a = await worker();
  await a.waitForLog('worker partitions assigned');

  const s = stream(gateway.ports.http, key);
  await sleep(5000);
  const b = await worker();
  // Joining rebalances the group: both workers get (new) assignments.
  await b.waitForLog('worker partitions assigned');
  await sleep(6000);
  expect(await b.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  await sleep(5000);
  await s.stop();
  expect(s.refused()).toBe(0);
  expect(s.acked.length).toBeGreaterThan(100);

  const t = await allDelivered(s.acked, 60_000);
  expect(t.unique).toBe(t.wanted);
  console.log(
    `rebalance (join, leave): ${s.acked.length} runs, ${t.unique} spans delivered, ` +
      `${t.duplicates} duplicates`,
  );
  await a.stop();
});

it('after kill -9 the partitions are taken over within the session timeout and nothing is lost', async () => {
  const { key, gateway, worker } = await setup();
  const a = await worker();
  const b = await worker();
  await b.waitForLog('worker partitions assigned');
  await waitFor('both workers hold partitions', () =>
    a.logs.filter((l) => l.msg === 'worker partitions assigned').length >= 2 ? true : undefined,
  );

  const s = stream(gateway.ports.http, key);
  await sleep(5000);
  expect(await b.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
  const killedAt = Date.now();
  const before = s.acked.length;
  // The survivor is told to rebalance once the session of the killed one times out.
  await a.waitForLog('worker partitions assigned', 60_000).then(() => undefined);
  await waitFor(
    'the survivor to take over every partition',
    () => {
      const joins = a.logs.filter((l) => l.msg === 'worker partitions assigned');
      const last = joins[joins.length - 1] as { partitions?: number[] };
      return joins.length >= 3 && last.partitions?.length === 6 ? true : undefined;
    },
    60_000,
    100,
  );
  const takeoverMs = Date.now() - killedAt;
  await sleep(3000);
  await s.stop();
  expect(s.refused()).toBe(0);

  const t = await allDelivered(s.acked, 60_000);
  expect(t.unique).toBe(t.wanted);
  console.log(
    `kill -9: takeover after ${takeoverMs} ms; ${s.acked.length} runs (${before} before the ` +
      `kill), ${t.unique} spans delivered, ${t.duplicates} duplicates`,
  );
});
