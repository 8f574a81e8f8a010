/**
 * Gateway → Kafka → worker → Custodian's own trace store, in one process
 * (--target=gateway,worker), with the platform default policy (everything to the sink named
 * "store", GenAI content restricted): agent runs sent by the real OpenTelemetry SDK are found
 * by run id through the TraceStore read API, their restricted prompt is masked in the stored
 * trace and stored only encrypted, a reveal returns it, the span metrics and usage rollups
 * are written, and another tenant finds nothing.
 */
import { randomUUID } from 'node:crypto';
import { ExportResultCode } from '@opentelemetry/core';
import type { Pool } from 'pg';
import { loadConfig } from '@custodian/config';
import { SinkRepository, createPrismaClient, type PrismaClient } from '@custodian/db';
import { RESTRICTED_PLACEHOLDER } from '@custodian/policy';
import { RollupRepository, StoreKeyring, TraceStore, createStorePool } from '@custodian/store';
import type { CustodianProcess } from '../support/custodian-process';
import { startGateway, tenantWithKey, type GatewayPorts } from '../support/gateway-process';
import { sendWithOtelExporter } from '../support/otel-client';
import { waitFor } from '../support/ports';
import { groupAtEnd } from '../support/worker-setup';

const GROUP = `e2e-store-${randomUUID()}`;
// The process's CUSTODIAN_ENCRYPTION_KEY (the development default every e2e process shares:
// other suites' tenants on the shared topics were keyed under it), to open what it stored.
const ENCRYPTION_KEY = loadConfig({
  CUSTODIAN_ENCRYPTION_KEY: process.env.CUSTODIAN_ENCRYPTION_KEY,
}).encryptionKey;

let db: PrismaClient;
let pool: Pool;
let proc: CustodianProcess;
let ports: GatewayPorts;

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  pool = createStorePool(process.env.DATABASE_URL!);
  await groupAtEnd(GROUP);
  ({ proc, ports } = await startGateway({ KAFKA_WORKER_GROUP: GROUP }, true, 'gateway,worker'));
});

afterAll(async () => {
  expect(await proc.stop()).toEqual({ code: 0, signal: null });
  await pool.end();
  await db.$disconnect();
});

it('stores agent runs sent through the gateway; they are found by run id, masked and revealable', async () => {
  const { tenantId, key } = await tenantWithKey(db);
  const other = await tenantWithKey(db);
  await new SinkRepository(db).create(tenantId, {
    name: 'store',
    kind: 'store',
    clearedForRestricted: true,
  });

  const sent = await sendWithOtelExporter('http-proto', `http://127.0.0.1:${ports.http}`, key, 2, {
    failTool: true,
    service: 'store-e2e-agent',
  });
  expect(sent.code).toBe(ExportResultCode.SUCCESS);
  const traceIds = [...new Set(sent.sent.map((s) => s.traceId))];
  expect(traceIds).toHaveLength(2);

  const store = new TraceStore(pool, new StoreKeyring(pool, ENCRYPTION_KEY));
  const window = { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) };
  const found = await waitFor('run-0 in the trace store', async () => {
    const page = await store.search(tenantId, { ...window, runId: 'run-0' });
    return page.traces.length === 1 && page.traces[0].spanCount === 4 ? page : undefined;
  });
  const summary = found.traces[0];
  expect(traceIds).toContain(summary.traceId);
  expect(summary).toMatchObject({
    rootSpanName: 'agent.run',
    service: 'store-e2e-agent',
    runId: 'run-0',
    error: true,
  });

  const spans = await store.getTrace(tenantId, summary.traceId);
  expect(spans.map((s) => s.name).sort()).toEqual(
    ['agent.run', 'chat gpt-4o', 'execute_tool search', 'retrieve'].sort(),
  );
  const chat = spans.find((s) => s.name === 'chat gpt-4o')!;
  expect(chat.model).toBe('gpt-4o');
  expect(spans.find((s) => s.name === 'execute_tool search')!.toolName).toBe('search');
  // The prompt is GenAI content: restricted by the default policy, masked in the clear copy.
  expect(chat.restrictedKeys).toContain('gen_ai.input.messages');
  expect(chat.attributes.span['gen_ai.input.messages']).toBe(RESTRICTED_PLACEHOLDER);
  const raw = await pool.query<{ attributes: unknown; restricted: Buffer }>(
    `SELECT attributes, restricted FROM stored_spans
      WHERE tenant_id = $1 AND span_id = decode($2, 'hex')`,
    [tenantId, chat.spanId],
  );
  expect(JSON.stringify(raw.rows[0].attributes)).not.toContain('role');
  expect(raw.rows[0].restricted.toString('latin1')).not.toContain('role');
  const revealed = await store.revealValue(
    tenantId,
    summary.traceId,
    chat.spanId,
    'gen_ai.input.messages',
  );
  expect(revealed.found).toBe(true);
  expect(String((revealed as { value: unknown }).value)).toContain('"role":"user"');
  // Redaction ran before the store: the email in the prompt is masked even in the secret copy.
  expect(String((revealed as { value: unknown }).value)).not.toContain('jane@example.com');

  // Another tenant finds nothing, not even by the trace id.
  expect((await store.search(other.tenantId, { ...window, runId: 'run-0' })).traces).toEqual([]);
  expect(await store.getTrace(other.tenantId, summary.traceId)).toEqual([]);

  // Span metrics (before sampling) and usage reach their rollups within a flush interval.
  const rollups = new RollupRepository(pool);
  const metrics = await waitFor(
    'span metrics rollups',
    async () => {
      const rows = await rollups.spanMetrics(tenantId, { ...window, service: 'store-e2e-agent' });
      const tool = rows.filter((r) => r.toolName === 'search');
      return tool.reduce((n, r) => n + r.calls, 0) === 2 ? tool : undefined;
    },
    45_000,
  );
  expect(metrics.reduce((n, r) => n + r.errors, 0)).toBe(2);
  expect(metrics.flatMap((r) => r.exemplarTraceIds).every((t) => traceIds.includes(t))).toBe(true);
  await waitFor(
    'usage rollups',
    async () => {
      const usage = await rollups.usage(tenantId, window.from, window.to);
      const accepted = usage
        .filter((u) => u.signal === 'traces')
        .reduce((n, u) => n + u.accepted, 0);
      const exported = usage.reduce(
        (n, u) => n + Object.values(u.exported).reduce((a, b) => a + b, 0),
        0,
      );
      return accepted === 8 && exported === 8 ? true : undefined;
    },
    30_000,
  );
});
