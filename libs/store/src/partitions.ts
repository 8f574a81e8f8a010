/**
 * Day partitions of `stored_spans` (one per UTC day of the span's start time, named
 * stored_spans_pYYYYMMDD), created ahead of time by the worker on start and by each retention
 * run. Spans of a day without a partition land in stored_spans_default, so an insert is never
 * refused; when a day's partition is created later, that day's rows are moved out of the
 * default partition in the same transaction (PostgreSQL refuses to attach a range the default
 * partition already holds rows for).
 */
import type { Pool } from 'pg';

const DAY_MS = 86_400_000;

export interface DayPartition {
  name: string;
  /** UTC midnight the partition starts at (inclusive). */
  from: Date;
  /** The next UTC midnight (exclusive). */
  to: Date;
}

export function utcDay(t: Date | number): Date {
  const ms = typeof t === 'number' ? t : t.getTime();
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS);
}

export function partitionName(day: Date): string {
  return `stored_spans_p${day.toISOString().slice(0, 10).replace(/-/g, '')}`;
}

const PARTITION_NAME = /^stored_spans_p(\d{4})(\d{2})(\d{2})$/;

/** The day a partition name stands for; undefined for the default partition or others. */
export function dayOfPartition(name: string): DayPartition | undefined {
  const m = PARTITION_NAME.exec(name);
  if (!m) return undefined;
  const from = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return { name, from, to: new Date(from.getTime() + DAY_MS) };
}

/** The day partitions that exist, oldest first. */
export async function listDayPartitions(pool: Pool): Promise<DayPartition[]> {
  const r = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = 'stored_spans'`,
  );
  return r.rows
    .map((row) => dayOfPartition(row.name))
    .filter((d): d is DayPartition => d !== undefined)
    .sort((a, b) => a.from.getTime() - b.from.getTime());
}

/**
 * Creates the partition of each day from `from` to `to` (inclusive, UTC days) that does not
 * exist yet. Returns the names created.
 */
export async function ensurePartitionsBetween(pool: Pool, from: Date, to: Date): Promise<string[]> {
  const existing = new Set((await listDayPartitions(pool)).map((p) => p.name));
  const created: string[] = [];
  for (let day = utcDay(from); day.getTime() <= utcDay(to).getTime();) {
    const name = partitionName(day);
    const next = new Date(day.getTime() + DAY_MS);
    if (!existing.has(name) && (await createDayPartition(pool, name, day, next))) {
      created.push(name);
    }
    day = next;
  }
  return created;
}

/** Yesterday, today and `daysAhead` days after today (UTC). */
export function ensurePartitions(pool: Pool, now = Date.now(), daysAhead = 3): Promise<string[]> {
  return ensurePartitionsBetween(pool, new Date(now - DAY_MS), new Date(now + daysAhead * DAY_MS));
}

async function createDayPartition(
  pool: Pool,
  name: string,
  from: Date,
  to: Date,
): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Serializes creators (several workers start at once); the loser sees the table exist.
    await client.query('LOCK TABLE stored_spans IN SHARE ROW EXCLUSIVE MODE');
    const exists = await client.query('SELECT 1 FROM pg_class WHERE relname = $1', [name]);
    if (exists.rows.length > 0) {
      await client.query('ROLLBACK');
      return false;
    }
    await client.query('CREATE TEMP TABLE _moving (LIKE stored_spans) ON COMMIT DROP');
    await client.query(
      `WITH m AS (DELETE FROM stored_spans_default WHERE start_time >= $1 AND start_time < $2 RETURNING *)
       INSERT INTO _moving SELECT * FROM m`,
      [from.toISOString(), to.toISOString()],
    );
    // Identifiers cannot be parameters; `name` is built from a date by partitionName only.
    await client.query(
      `CREATE TABLE "${name}" PARTITION OF stored_spans FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
    );
    await client.query('INSERT INTO stored_spans SELECT * FROM _moving');
    await client.query('COMMIT');
    return true;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
