/**
 * Token buckets per tenant and signal, kept in Redis so every gateway draws from the same
 * bucket. One Lua script per decision (atomic, one round trip); the script reads Redis's own
 * clock so gateways with skewed clocks agree. A request larger than the whole bucket is let
 * through when the bucket is full and leaves it in debt, so a tenant can always send its
 * largest allowed request, at the configured rate on average.
 *
 * Leases: at a tenant's rate a round trip per request is most of what limiting costs (ioredis
 * was 3.3% of the gateway+worker process in bench/compare's profile), so a decision that is
 * allowed also takes a lease from the shared bucket, and this gateway spends it on the next
 * requests of that bucket without asking Redis. A lease is sized to what this gateway spent of
 * its previous one (twice that; doubled when it ran out early; at most LEASE_SECONDS of the rate
 * and LEASE_FRACTION of the burst), so a gateway takes about what it uses, not a slice of the
 * tenant's rate. What a lease has not spent after LEASE_TTL_MS is given back to the shared
 * bucket with the next call for it (no extra round trip). While one request of a bucket is
 * fetching a lease, the others wait for it rather than each taking a lease of their own: those
 * concurrent leases drained the bucket and refused a tenant far under its rate (bench/gateway's
 * closed loop saw 429s at 0.2% of the rate). A lease can make a gateway refuse a little early
 * (by at most one lease), never admit more than the shared bucket gave out. Rates too low for a
 * lease worth two requests go to Redis every time.
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
local refund = tonumber(ARGV[5]) or 0
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + (now - ts) * rate / 1000 + refund)
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
/** ...for this long; then what is left of it goes back to the shared bucket. */
export const LEASE_TTL_MS = 100;

interface Lease {
  /** Tokens left to spend. */
  tokens: number;
  expiresAt: number;
  /** Tokens admitted with it: the request that fetched it and those it paid for. */
  spent: number;
  /** What it held when granted. */
  size: number;
}

interface LocalBucket {
  tokens: number;
  ts: number;
}

export class RateLimiter {
  private readonly local = new Map<string, LocalBucket>();
  private readonly leases = new Map<string, Lease>();
  /** The size of the next lease per bucket, from what the last one spent. */
  private readonly leaseSize = new Map<string, number>();
  /** Unspent tokens of retired leases, given back with the bucket's next call. */
  private readonly refunds = new Map<string, number>();
  /**
   * A call fetching a lease, per bucket: the bucket's other requests wait for it. It settles
   * with the error when Redis failed, and the waiters then fall back at once instead of each
   * waiting for Redis in turn.
   */
  private readonly fetching = new Map<string, Promise<{ err?: unknown }>>();
  private scriptSha?: string;

  constructor(
    private readonly redis: Redis,
    private readonly onFallback: (err: unknown) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async take(bucket: string, cost: number, rate: number, burst: number): Promise<RateDecision> {
    if (cost <= 0) return { allowed: true, retryAfterMs: 0 };
    const key = `custodian:ratelimit:${bucket}`;
    const cap = Math.floor(Math.min(rate * LEASE_SECONDS, burst * LEASE_FRACTION));
    const leasing = cap >= 2 * cost;
    for (;;) {
      const lease = this.leases.get(key);
      if (lease !== undefined) {
        const now = this.now();
        if (lease.expiresAt > now && lease.tokens >= cost) {
          lease.tokens -= cost;
          lease.spent += cost;
          return { allowed: true, retryAfterMs: 0 };
        }
        this.retire(key, lease, lease.expiresAt > now, cap);
      }
      // Another request is fetching this bucket's lease: wait for it (one round trip at most),
      // then spend from it, rather than draining the bucket with a lease of our own.
      const pending = leasing ? this.fetching.get(key) : undefined;
      if (pending === undefined) break;
      const { err } = await pending;
      if (err !== undefined) {
        this.onFallback(err);
        return this.takeLocal(key, cost, rate, burst);
      }
    }
    const extra = leasing ? Math.min(cap, Math.max(2 * cost, this.leaseSize.get(key) ?? cap)) : 0;
    const refund = this.refunds.get(key) ?? 0;
    this.refunds.delete(key);
    const call = this.eval(key, rate, burst, cost, extra, refund);
    if (extra > 0) {
      const settled = call.then(
        () => ({}),
        (err: unknown) => ({ err }),
      );
      this.fetching.set(key, settled);
      void settled.then(() => {
        if (this.fetching.get(key) === settled) this.fetching.delete(key);
      });
    }
    try {
      const [allowed, retry, leased] = (await call) as [number, number, number | undefined];
      // Lease fetches are one at a time per bucket, and this one began with no lease held.
      if (allowed === 1 && leased) {
        this.leases.set(key, {
          tokens: leased,
          expiresAt: this.now() + LEASE_TTL_MS,
          spent: cost,
          size: leased,
        });
      }
      return { allowed: allowed === 1, retryAfterMs: retry };
    } catch (err) {
      this.onFallback(err);
      return this.takeLocal(key, cost, rate, burst);
    }
  }

  /**
   * Ends a lease: its unspent tokens go back with the bucket's next call, and the next lease
   * is sized to its use, twice what it admitted if it expired, twice its size if it ran out
   * first.
   */
  private retire(key: string, lease: Lease, ranOut: boolean, cap: number): void {
    this.leases.delete(key);
    if (lease.tokens > 0) this.refunds.set(key, (this.refunds.get(key) ?? 0) + lease.tokens);
    this.leaseSize.set(key, Math.min(cap, 2 * (ranOut ? lease.size : lease.spent)));
  }

  private async eval(
    key: string,
    rate: number,
    burst: number,
    cost: number,
    extra: number,
    refund: number,
  ): Promise<unknown> {
    if (this.scriptSha) {
      try {
        return await this.redis.evalsha(this.scriptSha, 1, key, rate, burst, cost, extra, refund);
      } catch (err) {
        if (!String(err).includes('NOSCRIPT')) throw err;
      }
    }
    this.scriptSha = (await this.redis.script('LOAD', SCRIPT)) as string;
    return this.redis.evalsha(this.scriptSha, 1, key, rate, burst, cost, extra, refund);
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
