/**
 * Trace store retention against the real PostgreSQL and Redis (issue #5 item 8): a day
 * partition whose every span is past retain_until is dropped whole, a partition mixing expired
 * and live spans loses exactly the expired ones, the default partition is purged row by row,
 * the job reports what it deleted (summary and metric), and the BullMQ repeatable schedule is
 * registered once however many workers start it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { TenantRepository, createPrismaClient, type PrismaClient } from '@custodian/db';
import {
  StoreKeyring,
  TraceStore,
  createStorePool,
  ensurePartitionsBetween,
  listDayPartitions,
  partitionName,
} from '@custodian/store';
import { attr, batch, span } from '../../libs/policy/testdata/fixtures';
import { RetentionJob } from '../../apps/worker/src/retention/retention-job';

const DAY = 86_400_000;
let db: PrismaClient;
let pool: Pool;
let tenant: string;
const jobs: RetentionJob[] = [];

/** A store whose clock says `receivedAt`: retain_until = receivedAt + the class's days. */
const storeAt = (receivedAt: number) =>
  new TraceStore(pool, new StoreKeyring(pool, randomBytes(32)), { clock: () => receivedAt });

/** One span starting at `startMs` with a retention of `days`. */
function oneSpan(startMs: number, days: number) {
  const s = span({
    traceId: randomBytes(16),
    startMs,
    attributes: [
      attr('custodian.retention.class', days === 1 ? 'short' : 'long'),
      attr('custodian.retention.days', BigInt(days)),
    ],
  });
  return { traceId: Buffer.from(s.traceId).toString('hex'), data: batch([s]) };
}

async function exists(traceHex: string): Promise<boolean> {
  const r = await pool.query(
    "SELECT 1 FROM stored_spans WHERE tenant_id = $1 AND trace_id = decode($2, 'hex')",
    [tenant, traceHex],
  );
  return r.rows.length > 0;
}

function job(prefix: string, registry = new Registry()): RetentionJob {
  const j = new RetentionJob({
    redisUrl: process.env.REDIS_URL!,
    pool,
    intervalMs: 3_600_000,
    registry,
    prefix,
    log: () => undefined,
  });
  jobs.push(j);
  return j;
}

beforeAll(async () => {
  db = createPrismaClient(process.env.DATABASE_URL!);
  pool = createStorePool(process.env.DATABASE_URL!);
  tenant = (
    await new TenantRepository(db).create({ slug: `ret-${randomUUID().slice(0, 8)}`, name: 'R' })
  ).id;
});

afterAll(async () => {
  await Promise.all(jobs.map((j) => j.close()));
  await pool.end();
  await db.$disconnect();
});

it('drops an expired day partition whole and deletes exactly the expired rows elsewhere', async () => {
  const now = Date.now();
  // Two days long past (unique to this run), each with its own partition.
  const base = Date.UTC(1995, 0, 1) + Math.floor(Math.random() * 1500) * 2 * DAY;
  const expiredDay = base;
  const mixedDay = base + DAY;
  await ensurePartitionsBetween(pool, new Date(expiredDay), new Date(mixedDay));

  const longAgo = now - 10 * DAY;
  // Expired day: everything received 10 days ago with 1 day retention.
  const e1 = oneSpan(expiredDay + 1000, 1);
  const e2 = oneSpan(expiredDay + 2000, 1);
  await storeAt(longAgo).write(tenant, e1.data);
  await storeAt(longAgo).write(tenant, e2.data);
  // Mixed day: one expired span, one kept for 30 days from now.
  const mixedExpired = oneSpan(mixedDay + 1000, 1);
  const mixedLive = oneSpan(mixedDay + 2000, 30);
  await storeAt(longAgo).write(tenant, mixedExpired.data);
  await storeAt(now).write(tenant, mixedLive.data);
  // Default partition (a day without a partition): one expired, one live.
  const defaultDay = Date.UTC(1980, 5, 1) + Math.floor(Math.random() * 1000) * DAY;
  const defExpired = oneSpan(defaultDay, 1);
  const defLive = oneSpan(defaultDay + 1000, 30);
  await storeAt(longAgo).write(tenant, defExpired.data);
  await storeAt(now).write(tenant, defLive.data);
  // Today's span, live.
  const today = oneSpan(now, 30);
  await storeAt(now).write(tenant, today.data);

  const registry = new Registry();
  const summary = await job(`ret-${randomUUID()}`, registry).run(new Date(now));

  expect(summary.droppedPartitions).toContainEqual({
    name: partitionName(new Date(expiredDay)),
    spans: 2,
  });
  expect(summary.droppedPartitions.map((p) => p.name)).not.toContain(
    partitionName(new Date(mixedDay)),
  );
  const parts = (await listDayPartitions(pool)).map((p) => p.name);
  expect(parts).not.toContain(partitionName(new Date(expiredDay)));
  expect(parts).toContain(partitionName(new Date(mixedDay)));

  expect(await exists(e1.traceId)).toBe(false);
  expect(await exists(e2.traceId)).toBe(false);
  expect(await exists(mixedExpired.traceId)).toBe(false);
  expect(await exists(defExpired.traceId)).toBe(false);
  expect(await exists(mixedLive.traceId)).toBe(true);
  expect(await exists(defLive.traceId)).toBe(true);
  expect(await exists(today.traceId)).toBe(true);
  // Other suites' expired rows may be deleted in the same run: at least ours are counted.
  expect(summary.deletedInBatches).toBeGreaterThanOrEqual(2);
  expect(summary.deletedSpans).toBe(
    summary.deletedInBatches + summary.droppedPartitions.reduce((n, p) => n + p.spans, 0),
  );

  const metric = await registry
    .getSingleMetric('custodian_store_retention_deleted_spans_total')!
    .get();
  const total = metric.values.reduce((n, v) => n + v.value, 0);
  expect(total).toBe(summary.deletedSpans);

  // Nothing left to do: a second run deletes none of ours.
  await job(`ret-${randomUUID()}`).run(new Date(now));
  expect(await exists(mixedLive.traceId)).toBe(true);
  await pool.query(`DROP TABLE IF EXISTS "${partitionName(new Date(mixedDay))}"`);
});

it('deletes in bounded batches and says when more is due', async () => {
  const now = Date.now();
  const day = Date.UTC(1970, 1, 1) + Math.floor(Math.random() * 1000) * DAY;
  const spans = [0, 1, 2, 3, 4].map((i) => oneSpan(day + i * 1000, 1));
  for (const s of spans) await storeAt(now - 5 * DAY).write(tenant, s.data);
  const { purgeExpiredSpans } = await import('@custodian/store');
  const first = await purgeExpiredSpans(pool, new Date(now), { batchSize: 2, maxBatches: 1 });
  expect(first.deletedInBatches).toBe(2);
  expect(first.more).toBe(true);
  await purgeExpiredSpans(pool, new Date(now), { batchSize: 1000 });
  for (const s of spans) expect(await exists(s.traceId)).toBe(false);
});

it('registers one repeatable schedule, however many workers start the job', async () => {
  const prefix = `ret-${randomUUID()}`;
  const a = job(prefix);
  const b = job(prefix);
  await a.start();
  await b.start();
  expect(await a.schedule()).toMatchObject({ id: 'store-retention', every: 3_600_000 });
  const { Queue } = await import('bullmq');
  const q = new Queue('custodian-retention', {
    connection: { url: process.env.REDIS_URL! },
    prefix,
  });
  try {
    expect(await q.getJobSchedulersCount()).toBe(1);
    await q.removeJobScheduler('store-retention');
    await q.obliterate({ force: true });
  } finally {
    await q.close();
  }
});
