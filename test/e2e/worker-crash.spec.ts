/**
 * At-least-once with tail sampling (issue #5 item 3): a worker killed with SIGKILL in the
 * middle of decision_wait loses nothing the gateway acknowledged. Its offsets were never
 * committed past the buffered traces, so the worker that takes over reads those records again,
 * decides them and delivers every span to the tenant's sink (a real Zipkin server).
 */
import { randomUUID } from 'node:crypto';
import { ExportResultCode } from '@opentelemetry/core';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import type { CustodianProcess } from '../support/custodian-process';
import { startGateway, tenantWithKey } from '../support/gateway-process';
import { sendWithOtelExporter } from '../support/otel-client';
import { waitFor } from '../support/ports';
import { groupAtEnd, zipkinErrorsPolicy } from '../support/worker-setup';

const ZIPKIN = process.env.ZIPKIN_URL!;
const GROUP = `e2e-crash-${randomUUID()}`;
const running: CustodianProcess[] = [];
let db: PrismaClient;

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  await groupAtEnd(GROUP);
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await db.$disconnect();
});

async function zipkinSpans(traceId: string): Promise<number> {
  const res = await fetch(`${ZIPKIN}/api/v2/trace/${traceId}`);
  return res.status === 200 ? ((await res.json()) as unknown[]).length : 0;
}

it('a worker killed during decision_wait loses no acknowledged span', async () => {
  const { tenantId, key } = await tenantWithKey(db);
  await zipkinErrorsPolicy(db, tenantId, '6s');

  const gateway = await startGateway();
  running.push(gateway.proc);
  const first = await startGateway({ KAFKA_WORKER_GROUP: GROUP }, true, 'worker');
  running.push(first.proc);
  await first.proc.waitForLog('worker partitions assigned');

  const sent = await sendWithOtelExporter(
    'http-proto',
    `http://127.0.0.1:${gateway.ports.http}`,
    key,
    3,
    {
      failTool: true,
      service: 'crash-agent',
    },
  );
  expect(sent.code).toBe(ExportResultCode.SUCCESS);
  const traceIds = [...new Set(sent.sent.map((s) => s.traceId))];

  // The first worker has the records and is holding the traces for decision_wait: kill it.
  await waitFor('the first worker to hold the 3 traces in decision_wait', async () => {
    const m = await (await fetch(`http://127.0.0.1:${first.ports.ops}/metrics`)).text();
    const held = /^custodian_worker_buffered_traces(?:\{[^}]*\})? (\d+)/m.exec(m);
    return held && Number(held[1]) >= 3 ? true : undefined;
  });
  expect(await first.proc.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
  for (const t of traceIds) expect(await zipkinSpans(t)).toBe(0);

  // A new worker in the same group reads the uncommitted records again and delivers them all.
  const second = await startGateway({ KAFKA_WORKER_GROUP: GROUP }, true, 'worker');
  running.push(second.proc);
  for (const t of traceIds) {
    await waitFor(
      `trace ${t} complete in Zipkin`,
      async () => ((await zipkinSpans(t)) === 4 ? true : undefined),
      45000,
      500,
    );
  }
});
