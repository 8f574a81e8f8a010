/**
 * A bounded dead-letter queue per sink, in plain Redis (issue #5 item 5): batches that cannot
 * be delivered (permanent errors, exhausted retries, a full retry queue, a deleted sink) wait
 * here until an operator lists, redrives or purges them. Each sink has a sorted index (score =
 * a per-sink sequence, so listing is oldest first and the cursor is stable), a metadata hash and
 * a payload hash; adding and trimming is one Lua script, so a full queue drops exactly its
 * oldest entries and counts them. Every key carries the tenant id: a caller can only ever
 * address its own tenant's entries. Metadata never includes the payload.
 */
import type { Redis } from 'ioredis';
import type { ExportSignal } from '@custodian/exporters';

export type DeadLetterReason =
  'permanent_error' | 'max_attempts' | 'retry_queue_full' | 'sink_deleted' | 'unsupported_signal';

/** What is kept about a dead batch, and all that listing shows. */
export interface DeadLetterInfo {
  id: string;
  signal: ExportSignal;
  /** Spans, log records or data points in the batch. */
  items: number;
  reason: DeadLetterReason;
  /** The last export error (truncated); never payload data. */
  error: string;
  /** Unix ms of the batch's first failed export. */
  firstFailedAt: number;
  /** Unix ms it entered the dead-letter queue. */
  deadLetteredAt: number;
  /** Export attempts made. */
  attempts: number;
}

export interface DeadLetter extends DeadLetterInfo {
  payload: Buffer;
}

export interface DeadLetterPage {
  entries: DeadLetterInfo[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

const ADD_SCRIPT = `
local id = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[2], id, ARGV[1])
redis.call('HSET', KEYS[3], id, ARGV[2])
redis.call('ZADD', KEYS[1], id, id)
local max = tonumber(ARGV[3])
local dropped = 0
while redis.call('ZCARD', KEYS[1]) > max do
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  redis.call('ZREM', KEYS[1], oldest)
  redis.call('HDEL', KEYS[2], oldest)
  redis.call('HDEL', KEYS[3], oldest)
  dropped = dropped + 1
end
if dropped > 0 then redis.call('INCRBY', KEYS[5], dropped) end
return {id, dropped}
`;

const MAX_ERROR_CHARS = 500;

export class DeadLetterStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly maxEntries: number,
  ) {}

  private keys(tenantId: string, sinkId: string) {
    const base = `${this.prefix}:dl:${encodeURIComponent(tenantId)}:${encodeURIComponent(sinkId)}`;
    return {
      index: `${base}:index`,
      meta: `${base}:meta`,
      data: `${base}:data`,
      seq: `${base}:seq`,
      dropped: `${base}:dropped`,
    };
  }

  /** Stores a dead batch; returns its id and how many old entries were dropped to make room. */
  async add(
    tenantId: string,
    sinkId: string,
    entry: Omit<DeadLetter, 'id' | 'deadLetteredAt'>,
  ): Promise<{ id: string; dropped: number }> {
    const k = this.keys(tenantId, sinkId);
    const meta: Omit<DeadLetterInfo, 'id'> = {
      signal: entry.signal,
      items: entry.items,
      reason: entry.reason,
      error:
        entry.error.length > MAX_ERROR_CHARS ? entry.error.slice(0, MAX_ERROR_CHARS) : entry.error,
      firstFailedAt: entry.firstFailedAt,
      deadLetteredAt: Date.now(),
      attempts: entry.attempts,
    };
    const [id, dropped] = (await this.redis.eval(
      ADD_SCRIPT,
      5,
      k.index,
      k.meta,
      k.data,
      k.seq,
      k.dropped,
      JSON.stringify(meta),
      entry.payload,
      String(this.maxEntries),
    )) as [number, number];
    return { id: String(id), dropped };
  }

  /** Oldest first; `cursor` is the last id of the previous page. */
  async list(
    tenantId: string,
    sinkId: string,
    opts: { limit?: number; cursor?: string } = {},
  ): Promise<DeadLetterPage> {
    const k = this.keys(tenantId, sinkId);
    const limit = Math.max(1, Math.min(opts.limit ?? 100, 1000));
    const min = opts.cursor && /^\d+$/.test(opts.cursor) ? `(${opts.cursor}` : '-inf';
    const ids = await this.redis.zrangebyscore(k.index, min, '+inf', 'LIMIT', 0, limit + 1);
    const page = ids.slice(0, limit);
    const entries = await this.metaOf(k.meta, page);
    return {
      entries,
      nextCursor: ids.length > limit ? page[page.length - 1] : undefined,
    };
  }

  /** Full entries (payload included) for `ids`, or every entry when ids is absent. */
  async get(tenantId: string, sinkId: string, ids?: readonly string[]): Promise<DeadLetter[]> {
    const k = this.keys(tenantId, sinkId);
    const wanted = ids ? [...ids] : await this.redis.zrange(k.index, 0, -1);
    if (wanted.length === 0) return [];
    const infos = await this.metaOf(k.meta, wanted);
    if (infos.length === 0) return [];
    const payloads = await this.redis.hmgetBuffer(k.data, ...infos.map((i) => i.id));
    const out: DeadLetter[] = [];
    infos.forEach((info, i) => {
      const payload = payloads[i];
      if (payload) out.push({ ...info, payload });
    });
    return out;
  }

  /** Removes `ids` (or everything); returns how many entries were removed. */
  async remove(tenantId: string, sinkId: string, ids?: readonly string[]): Promise<number> {
    const k = this.keys(tenantId, sinkId);
    if (!ids) {
      const n = await this.redis.zcard(k.index);
      await this.redis.del(k.index, k.meta, k.data);
      return n;
    }
    if (ids.length === 0) return 0;
    const [[, removed]] = (await this.redis
      .multi()
      .zrem(k.index, ...ids)
      .hdel(k.meta, ...ids)
      .hdel(k.data, ...ids)
      .exec()) as [[Error | null, number], ...unknown[]];
    return removed;
  }

  count(tenantId: string, sinkId: string): Promise<number> {
    return this.redis.zcard(this.keys(tenantId, sinkId).index);
  }

  /** Entries dropped because the queue was full, over its lifetime. */
  async dropped(tenantId: string, sinkId: string): Promise<number> {
    return Number((await this.redis.get(this.keys(tenantId, sinkId).dropped)) ?? 0);
  }

  private async metaOf(metaKey: string, ids: readonly string[]): Promise<DeadLetterInfo[]> {
    if (ids.length === 0) return [];
    const raw = await this.redis.hmget(metaKey, ...ids);
    const out: DeadLetterInfo[] = [];
    raw.forEach((json, i) => {
      if (json) out.push({ id: ids[i], ...(JSON.parse(json) as Omit<DeadLetterInfo, 'id'>) });
    });
    return out;
  }
}
