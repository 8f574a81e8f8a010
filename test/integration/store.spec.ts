/**
 * The trace store against the real PostgreSQL (issue #5 item 4; issue #6 trace queries):
 * restricted values are encrypted in the raw row and revealed correctly, redelivered spans are
 * ignored and counted, spans land in their day's partition (or the default one), tenants cannot
 * find or read each other's traces, erasing a tenant's data key shreds its restricted values,
 * and the `store` sink classifies database errors.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { TenantRepository, createPrismaClient, type PrismaClient } from '@custodian/db';
import { StoreExporter } from '@custodian/exporters';
import { encodeTraces, type KeyValue, type TracesData } from '@custodian/otlp';
import { RESTRICTED_KEYS_ATTRIBUTE, RESTRICTED_PLACEHOLDER } from '@custodian/policy';
import {
  NoTenantKeyError,
  StoreKeyring,
  TraceStore,
  createStorePool,
  ensurePartitions,
  ensurePartitionsBetween,
  partitionName,
  utcDay,
} from '@custodian/store';
import { attr, batch, span } from '../../libs/policy/testdata/fixtures';

const MASTER = randomBytes(32);
const SECRET = `sk-proj-${randomBytes(8).toString('hex')}`;
let db: PrismaClient;
let pool: Pool;
let keyring: StoreKeyring;
let store: TraceStore;
let tenantA: string;
let tenantB: string;

const restricted = (...keys: string[]): KeyValue => ({
  key: RESTRICTED_KEYS_ATTRIBUTE,
  value: { arrayValue: { values: keys.map((k) => ({ stringValue: k })) } },
});
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** One agent run: a root span with the run id and a restricted prompt, and a tool call. */
function agentRun(runId: string, startMs = Date.now(), opts: { error?: boolean } = {}) {
  const traceId = randomBytes(16);
  const root = span({
    traceId,
    name: 'agent.run',
    startMs,
    durationMs: 900,
    attributes: [
      attr('run_id', runId),
      attr('gen_ai.prompt', `use key ${SECRET}`),
      restricted('gen_ai.prompt'),
    ],
  });
  const tool = span({
    traceId,
    name: 'execute_tool search',
    startMs: startMs + 100,
    durationMs: 300,
    status: opts.error ? 2 : undefined,
    attributes: [attr('gen_ai.tool.name', 'search'), attr('gen_ai.request.model', 'gpt-4o')],
  });
  tool.parentSpanId = root.spanId;
  return { traceId: hex(traceId), root, tool, data: batch([root, tool], 'support-agent') };
}

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  pool = createStorePool(process.env.DATABASE_URL!);
  keyring = new StoreKeyring(pool, MASTER);
  store = new TraceStore(pool, keyring);
  const tenants = new TenantRepository(db);
  tenantA = (await tenants.create({ slug: `st-a-${randomUUID().slice(0, 8)}`, name: 'A' })).id;
  tenantB = (await tenants.create({ slug: `st-b-${randomUUID().slice(0, 8)}`, name: 'B' })).id;
  await ensurePartitions(pool);
});

afterAll(async () => {
  await pool.end();
  await db.$disconnect();
});

it('stores restricted values only encrypted, masks them on read and reveals them exactly', async () => {
  const run = agentRun(`run-${randomUUID()}`);
  expect(await store.write(tenantA, run.data)).toEqual({ inserted: 2, duplicates: 0, invalid: 0 });

  const raw = await pool.query<{ attributes: unknown; restricted: Buffer | null; keys: string[] }>(
    `SELECT attributes, restricted, restricted_keys AS keys FROM stored_spans
      WHERE tenant_id = $1 AND span_id = $2`,
    [tenantA, Buffer.from(run.root.spanId)],
  );
  expect(raw.rows).toHaveLength(1);
  expect(raw.rows[0].keys).toEqual(['gen_ai.prompt']);
  expect(JSON.stringify(raw.rows[0].attributes)).not.toContain(SECRET);
  expect(raw.rows[0].restricted).not.toBeNull();
  expect(raw.rows[0].restricted!.toString('latin1')).not.toContain(SECRET);
  // The data key is stored only under the master key.
  const dek = await pool.query<{ key_ciphertext: Buffer }>(
    'SELECT key_ciphertext FROM store_tenant_keys WHERE tenant_id = $1',
    [tenantA],
  );
  expect(dek.rows).toHaveLength(1);

  const spans = await store.getTrace(tenantA, run.traceId);
  expect(spans.map((s) => s.name)).toEqual(['agent.run', 'execute_tool search']);
  const root = spans[0];
  expect(root.attributes.span['gen_ai.prompt']).toBe(RESTRICTED_PLACEHOLDER);
  expect(root.restrictedKeys).toEqual(['gen_ai.prompt']);
  expect(root.runId).toMatch(/^run-/);
  expect(root.retentionClass).toBe('standard');
  expect(spans[1]).toMatchObject({ toolName: 'search', model: 'gpt-4o', service: 'support-agent' });
  expect(spans[1].parentSpanId).toBe(hex(run.root.spanId));

  expect(
    await store.revealValue(tenantA, run.traceId, hex(run.root.spanId), 'gen_ai.prompt'),
  ).toEqual({
    found: true,
    value: `use key ${SECRET}`,
  });
  // A key that is not restricted is not revealed through this path.
  expect(await store.revealValue(tenantA, run.traceId, hex(run.root.spanId), 'run_id')).toEqual({
    found: false,
  });
});

it('ignores and counts redelivered spans', async () => {
  const run = agentRun(`run-${randomUUID()}`);
  expect(await store.write(tenantA, run.data)).toMatchObject({ inserted: 2, duplicates: 0 });
  expect(await store.write(tenantA, run.data)).toMatchObject({ inserted: 0, duplicates: 2 });
  expect(await store.getTrace(tenantA, run.traceId)).toHaveLength(2);
});

it('routes spans to their day partition, and the default partition when the day has none', async () => {
  const today = agentRun(`run-${randomUUID()}`);
  // A day far in the past no partition exists for, unique to this run.
  const oldDay = Date.UTC(1990, 0, 1) + Math.floor(Math.random() * 3000) * 86_400_000;
  const old = agentRun(`run-${randomUUID()}`, oldDay + 3_600_000);
  await store.write(tenantA, today.data);
  await store.write(tenantA, old.data);
  const where = async (traceHex: string) =>
    (
      await pool.query<{ part: string }>(
        `SELECT DISTINCT tableoid::regclass::text AS part FROM stored_spans
          WHERE tenant_id = $1 AND trace_id = decode($2, 'hex')`,
        [tenantA, traceHex],
      )
    ).rows.map((r) => r.part);
  expect(await where(today.traceId)).toEqual([partitionName(utcDay(Date.now()))]);
  expect(await where(old.traceId)).toEqual(['stored_spans_default']);

  // Creating the old day's partition later moves its rows out of the default partition.
  expect(await ensurePartitionsBetween(pool, new Date(oldDay), new Date(oldDay))).toEqual([
    partitionName(new Date(oldDay)),
  ]);
  expect(await where(old.traceId)).toEqual([partitionName(new Date(oldDay))]);
  expect(await store.getTrace(tenantA, old.traceId)).toHaveLength(2);
  await pool.query(`DROP TABLE "${partitionName(new Date(oldDay))}"`);
});

it('finds traces by run id, tool, error and duration, newest first, page by page', async () => {
  const runId = `run-${randomUUID()}`;
  const t = Date.now() - 60_000;
  const runs = [
    agentRun(runId, t),
    agentRun(runId, t + 1000, { error: true }),
    agentRun(runId, t + 2000),
  ];
  for (const r of runs) await store.write(tenantA, r.data);
  const window = { from: new Date(t - 1000), to: new Date(t + 10_000) };

  const all = await store.search(tenantA, { ...window, runId });
  expect(all.traces.map((x) => x.traceId)).toEqual(
    [runs[2], runs[1], runs[0]].map((r) => r.traceId),
  );
  expect(all.traces[0]).toMatchObject({
    rootSpanName: 'agent.run',
    service: 'support-agent',
    spanCount: 2,
    error: false,
    runId,
    durationMs: 900,
  });
  expect(all.nextCursor).toBeUndefined();

  const errors = await store.search(tenantA, { ...window, runId, error: true });
  expect(errors.traces.map((x) => x.traceId)).toEqual([runs[1].traceId]);
  const healthy = await store.search(tenantA, { ...window, runId, error: false });
  expect(healthy.traces).toHaveLength(2);
  expect(
    (await store.search(tenantA, { ...window, runId, toolName: 'search', minDurationMs: 800 }))
      .traces,
  ).toHaveLength(3);
  expect(
    (await store.search(tenantA, { ...window, runId, minDurationMs: 901 })).traces,
  ).toHaveLength(0);

  const page1 = await store.search(tenantA, { ...window, runId, limit: 2 });
  expect(page1.traces).toHaveLength(2);
  const page2 = await store.search(tenantA, {
    ...window,
    runId,
    limit: 2,
    cursor: page1.nextCursor,
  });
  expect(page2.traces.map((x) => x.traceId)).toEqual([runs[0].traceId]);
  expect(page2.nextCursor).toBeUndefined();
});

it('keeps tenants apart: B can neither find nor read nor reveal A’s trace', async () => {
  const runId = `run-${randomUUID()}`;
  const run = agentRun(runId);
  await store.write(tenantA, run.data);
  const window = { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 3_600_000) };
  expect((await store.search(tenantA, { ...window, runId })).traces).toHaveLength(1);
  expect((await store.search(tenantB, { ...window, runId })).traces).toHaveLength(0);
  expect(await store.getTrace(tenantB, run.traceId)).toEqual([]);
  expect(
    await store.revealValue(tenantB, run.traceId, hex(run.root.spanId), 'gen_ai.prompt'),
  ).toEqual({ found: false });

  // A's ciphertext copied into a row of B's does not open under B's key and row binding.
  await store.write(tenantB, agentRun(runId).data);
  const copy = agentRun(`run-${randomUUID()}`);
  await store.write(tenantB, copy.data);
  await pool.query(
    `UPDATE stored_spans SET restricted = (SELECT restricted FROM stored_spans
        WHERE tenant_id = $1 AND span_id = $2)
      WHERE tenant_id = $3 AND span_id = $4`,
    [tenantA, Buffer.from(run.root.spanId), tenantB, Buffer.from(copy.root.spanId)],
  );
  await expect(
    store.revealValue(tenantB, copy.traceId, hex(copy.root.spanId), 'gen_ai.prompt'),
  ).rejects.toThrow(/failed authentication/);
});

it('crypto-shreds: after the tenant key is erased, restricted values cannot be revealed', async () => {
  const tenants = new TenantRepository(db);
  const t = (await tenants.create({ slug: `st-c-${randomUUID().slice(0, 8)}`, name: 'C' })).id;
  const run = agentRun(`run-${randomUUID()}`);
  await store.write(t, run.data);
  const args = [t, run.traceId, hex(run.root.spanId), 'gen_ai.prompt'] as const;
  expect(await store.revealValue(...args)).toMatchObject({ found: true });
  expect(await keyring.erase(t)).toBe(true);
  // A fresh keyring (another process) has nothing cached either.
  const other = new TraceStore(pool, new StoreKeyring(pool, MASTER));
  await expect(other.revealValue(...args)).rejects.toBeInstanceOf(NoTenantKeyError);
  await expect(store.revealValue(...args)).rejects.toBeInstanceOf(NoTenantKeyError);
  // The masked trace is still there.
  expect(await other.getTrace(t, run.traceId)).toHaveLength(2);
});

it('the store sink writes through the real store and dead-letters what cannot be stored', async () => {
  const exporter = new StoreExporter(tenantA, store);
  const run = agentRun(`run-${randomUUID()}`);
  const data: TracesData = run.data;
  expect(
    await exporter.export({ signal: 'traces', protobuf: encodeTraces(data), items: 2 }),
  ).toEqual({ rejected: 0 });
  expect(await store.getTrace(tenantA, run.traceId)).toHaveLength(2);
  // A tenant that does not exist cannot get a data key (foreign key): permanent, not retried.
  const ghost = new StoreExporter(randomUUID(), store);
  await expect(
    ghost.export({ signal: 'traces', protobuf: encodeTraces(agentRun('x').data), items: 2 }),
  ).rejects.toMatchObject({ name: 'ExportError', retryable: false });
});
