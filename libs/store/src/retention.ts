/**
 * Retention of the trace store (issue #5 item 8): deletes spans past `retain_until`.
 *
 * Whole day partitions first: a partition whose every row is past retention (max(retain_until)
 * < now), or that is empty and whose day ended before yesterday, is dropped — one catalog
 * operation instead of millions of row deletes and no table bloat. What is left (a partition
 * mixing retention classes, and the default partition) is deleted in bounded batches
 * (`batchSize` rows per statement, at most `maxBatches` statements per run) so one run never
 * holds long locks or a huge transaction; whatever remains is due at the next run.
 *
 * Partitions for the coming days are (re)created at each run too, so a worker that runs for
 * weeks always writes into day partitions.
 */
import type { Pool } from 'pg';
import { ensurePartitions, listDayPartitions } from './partitions';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  /** Rows per DELETE statement; default 10 000. */
  batchSize?: number;
  /** DELETE statements per run at most; default 100. */
  maxBatches?: number;
  /** Day partitions to keep ready ahead of today; default 3. */
  daysAhead?: number;
}

export interface RetentionSummary {
  /** Spans deleted in total (dropped partitions' rows included). */
  deletedSpans: number;
  /** Partitions dropped whole, and the spans they held. */
  droppedPartitions: { name: string; spans: number }[];
  /** Spans deleted row by row. */
  deletedInBatches: number;
  /** True when the batch budget ran out with rows still due. */
  more: boolean;
  /** Partitions created ahead. */
  createdPartitions: string[];
}

export async function purgeExpiredSpans(
  pool: Pool,
  now: Date = new Date(),
  opts: RetentionOptions = {},
): Promise<RetentionSummary> {
  const batchSize = opts.batchSize ?? 10_000;
  const maxBatches = opts.maxBatches ?? 100;
  const summary: RetentionSummary = {
    deletedSpans: 0,
    droppedPartitions: [],
    deletedInBatches: 0,
    more: false,
    createdPartitions: [],
  };
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  for (const part of await listDayPartitions(pool)) {
    // Never today's or a future partition: spans for them keep arriving.
    if (part.to.getTime() > today) continue;
    const r = await pool.query<{ max: Date | null; n: string }>(
      `SELECT max(retain_until) AS max, count(*)::text AS n FROM "${part.name}"`,
    );
    const { max, n } = r.rows[0];
    const emptyAndOld = max === null && part.to.getTime() <= today - DAY_MS;
    if (!emptyAndOld && (max === null || max.getTime() >= now.getTime())) continue;
    if (await dropIfStillExpired(pool, part.name, now)) {
      summary.droppedPartitions.push({ name: part.name, spans: Number(n) });
      summary.deletedSpans += Number(n);
    }
  }
  for (let i = 0; i < maxBatches; i++) {
    const r = await pool.query(
      // A ctid is unique only within one partition: always paired with the tableoid.
      `DELETE FROM stored_spans WHERE retain_until < $1 AND (tableoid, ctid) IN (
         SELECT tableoid, ctid FROM stored_spans WHERE retain_until < $1 LIMIT $2)`,
      [now.toISOString(), batchSize],
    );
    const deleted = r.rowCount ?? 0;
    summary.deletedInBatches += deleted;
    if (deleted < batchSize) break;
    if (i === maxBatches - 1) summary.more = true;
  }
  summary.deletedSpans += summary.deletedInBatches;
  summary.createdPartitions = await ensurePartitions(pool, now.getTime(), opts.daysAhead ?? 3);
  return summary;
}

/**
 * Drops the partition if, under a lock that stops new rows, it still holds no live row (an
 * indexed probe, so the exclusive lock is held for moments). True when it was dropped.
 */
async function dropIfStillExpired(pool: Pool, name: string, now: Date): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // DROP of a partition locks the parent; take it first so inserts wait instead of deadlocking.
    await client.query('LOCK TABLE stored_spans IN ACCESS EXCLUSIVE MODE');
    const live = await client.query(`SELECT 1 FROM "${name}" WHERE retain_until >= $1 LIMIT 1`, [
      now.toISOString(),
    ]);
    if (live.rows.length > 0) {
      await client.query('ROLLBACK');
      return false;
    }
    await client.query(`DROP TABLE "${name}"`);
    await client.query('COMMIT');
    return true;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
