/**
 * Token buckets per tenant and signal, kept in Redis so every gateway draws from the same
 * bucket. One Lua script per decision (atomic, one round trip); the script reads Redis's own
 * clock so gateways with skewed clocks agree. A request larger than the whole bucket is let
 * through when the bucket is full and leaves it in debt, so a tenant can always send its
 * largest allowed request, at the configured rate on average.
 *
 * Leases: at a tenant's rate a round trip per request is most of what limiting costs (ioredis
 * was 3.3% of the gateway+worker process in bench/compare's profile), so a decision that is
 * allowed also takes up to LEASE_SECONDS of the rate (at most LEASE_FRACTION of the burst) from
 * the shared bucket, and this gateway spends it on the next requests of that bucket without
 * asking Redis. What a lease has not spent after LEASE_TTL_MS is dropped, never returned: a
 * lease can make a gateway refuse a little early (by at most one lease), never admit more than
 * the shared bucket gave out. Rates too low for a lease worth one request's cost go to Redis
 * every time, as before.
 *
 * When Redis is unreachable the gateway keeps serving from a local bucket per process
 * (counted in custodian_gateway_ratelimit_fallback_total): rate limiting degrades to
 * per-gateway, ingest does not stop.
 */
import type { Redis } from 'ioredis';

export interface RateDecision {
  allowed: boolean;
  /** When refused: how long until the request would fit. */
  retryAfterMs: number;
}

const SCRIPT = `
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local extra = tonumber(ARGV[4]) or 0
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
local need = math.min(cost, burst)
local allowed = 0
local retry = 0
local leased = 0
if tokens >= need then
  tokens = tokens - cost
  allowed = 1
  if extra > 0 and tokens >= 1 then
    leased = math.min(extra, math.floor(tokens))
    tokens = tokens - leased
  end
else
  retry = math.ceil((need - tokens) * 1000 / rate)
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', key, math.ceil(burst * 1000 / rate) + 60000)
return {allowed, retry, leased}
`;

/** A lease holds up to this many seconds of the bucket's rate... */
export const LEASE_SECONDS = 0.05;
/** ...and at most this fraction of its burst... */
export const LEASE_FRACTION = 0.1;
/** ...for this long; then what is left of it is dropped. */
export const LEASE_TTL_MS = 100;

interface Lease {
  tokens: number;
  expiresAt: number;
}

interface LocalBucket {
  tokens: number;
  ts: number;
}

export class RateLimiter {
  private readonly local = new Map<string, LocalBucket>();
  private readonly leases = new Map<string, Lease>();
  private scriptSha?: string;

  constructor(
    private readonly redis: Redis,
    private readonly onFallback: (err: unknown) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async take(bucket: string, cost: number, rate: number, burst: number): Promise<RateDecision> {
    if (cost <= 0) return { allowed: true, retryAfterMs: 0 };
    const key = `custodian:ratelimit:${bucket}`;
    const lease = this.leases.get(key);
    if (lease !== undefined) {
      if (lease.expiresAt > this.now() && lease.tokens >= cost) {
        lease.tokens -= cost;
        return { allowed: true, retryAfterMs: 0 };
      }
      this.leases.delete(key);
    }
    const size = Math.floor(Math.min(rate * LEASE_SECONDS, burst * LEASE_FRACTION));
    const extra = size >= 2 * cost ? size : 0;
    try {
      const [allowed, retry, leased] = (await this.eval(key, rate, burst, cost, extra)) as [
        number,
        number,
        number | undefined,
      ];
      if (allowed === 1 && leased) {
        const held = this.leases.get(key); // another request's lease came back meanwhile
        const expiresAt = this.now() + LEASE_TTL_MS;
        if (held && held.expiresAt > this.now()) {
          held.tokens += leased;
          held.expiresAt = expiresAt;
        } else this.leases.set(key, { tokens: leased, expiresAt });
      }
      return { allowed: allowed === 1, retryAfterMs: retry };
    } catch (err) {
      this.onFallback(err);
      return this.takeLocal(key, cost, rate, burst);
    }
  }

  private async eval(
    key: string,
    rate: number,
    burst: number,
    cost: number,
    extra: number,
  ): Promise<unknown> {
    if (this.scriptSha) {
      try {
        return await this.redis.evalsha(this.scriptSha, 1, key, rate, burst, cost, extra);
      } catch (err) {
        if (!String(err).includes('NOSCRIPT')) throw err;
      }
    }
    this.scriptSha = (await this.redis.script('LOAD', SCRIPT)) as string;
    return this.redis.evalsha(this.scriptSha, 1, key, rate, burst, cost, extra);
  }

  private takeLocal(key: string, cost: number, rate: number, burst: number): RateDecision {
    const now = this.now();
    const b = this.local.get(key) ?? { tokens: burst, ts: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.ts) * rate) / 1000);
    b.ts = now;
    this.local.set(key, b);
    const need = Math.min(cost, burst);
    if (b.tokens >= need) {
      b.tokens -= cost;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((need - b.tokens) * 1000) / rate) };
  }
}
