/**
 * Per-tenant token buckets in the real Redis: consistent across gateways (two limiters, one
 * bucket), refusing with a retry hint once the burst is spent, refilling at the rate, leasing a
 * share of the rate sized to each gateway's use (given back when unspent, one fetch at a time) so
 * most requests need no round trip without ever admitting more than the bucket gives out, and falling back to a local bucket when Redis does not answer.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { LEASE_TTL_MS, RateLimiter } from '../../apps/gateway/src/limits/rate-limiter';
import { freePort } from '../support/ports';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1 });
});
afterAll(() => redis.quit());

/** A client of a port nobody listens on, failing every command at once. */
async function unreachableRedis(): Promise<Redis> {
  return new Redis(`redis://127.0.0.1:${await freePort()}`, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
    retryStrategy: () => null,
  });
}

describe('RateLimiter on Redis', () => {
  it('shares one bucket between gateways and refuses past the burst with a retry hint', async () => {
    const bucket = `test:${randomUUID()}`;
    const a = new RateLimiter(redis);
    const b = new RateLimiter(redis);
    // rate 10/s, burst 100: 60 + 40 fit, the next 20 do not.
    expect(await a.take(bucket, 60, 10, 100)).toEqual({ allowed: true, retryAfterMs: 0 });
    expect(await b.take(bucket, 40, 10, 100)).toEqual({ allowed: true, retryAfterMs: 0 });
    const refused = await a.take(bucket, 20, 10, 100);
    expect(refused.allowed).toBe(false);
    // 20 tokens at 10/s: about 2 s, less whatever refilled since.
    expect(refused.retryAfterMs).toBeGreaterThan(1500);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(2000);
  });

  it('refills at the configured rate', async () => {
    const bucket = `test:${randomUUID()}`;
    const l = new RateLimiter(redis);
    expect((await l.take(bucket, 50, 100, 50)).allowed).toBe(true);
    expect((await l.take(bucket, 20, 100, 50)).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 250)); // +25 tokens
    expect((await l.take(bucket, 20, 100, 50)).allowed).toBe(true);
  });

  it('lets a request larger than the whole bucket through when full, leaving a debt', async () => {
    const bucket = `test:${randomUUID()}`;
    const l = new RateLimiter(redis);
    expect((await l.take(bucket, 500, 100, 200)).allowed).toBe(true);
    const next = await l.take(bucket, 1, 100, 200);
    expect(next.allowed).toBe(false);
    expect(next.retryAfterMs).toBeGreaterThan(2900); // 300 tokens of debt + 1 at 100/s
  });

  it('survives a script flush (NOSCRIPT) by reloading the script', async () => {
    const bucket = `test:${randomUUID()}`;
    const l = new RateLimiter(redis);
    await l.take(bucket, 1, 10, 10);
    await redis.script('FLUSH');
    expect((await l.take(bucket, 1, 10, 10)).allowed).toBe(true);
  });

  /** A limiter whose Redis round trips are counted. */
  function counted(clock?: () => number): { limiter: RateLimiter; calls: () => number } {
    let n = 0;
    const client = new Proxy(redis, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop === 'evalsha' && typeof v === 'function')
          return (...args: unknown[]) => {
            n++;
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    return { limiter: new RateLimiter(client, undefined, clock), calls: () => n };
  }

  it('spends a lease of the rate locally: one round trip for many requests', async () => {
    const bucket = `test:${randomUUID()}`;
    const { limiter, calls } = counted();
    // rate 10,000/s, burst 50,000: a lease is 50 ms of the rate, 500 tokens
    for (let i = 0; i < 40; i++)
      expect((await limiter.take(bucket, 10, 10_000, 50_000)).allowed).toBe(true);
    // 10 for the first request + 500 leased cover 51 requests of 10
    expect(calls()).toBe(1);
    const [tokens] = await redis.hmget(`custodian:ratelimit:${bucket}`, 'tokens', 'ts');
    expect(Number(tokens)).toBeLessThanOrEqual(50_000 - 510 + 5); // + what refilled meanwhile
  });

  it('drops what a lease did not spend in time, and asks Redis again', async () => {
    const bucket = `test:${randomUUID()}`;
    let now = 1_000_000;
    const { limiter, calls } = counted(() => now);
    await limiter.take(bucket, 10, 10_000, 50_000);
    await limiter.take(bucket, 10, 10_000, 50_000);
    expect(calls()).toBe(1);
    now += LEASE_TTL_MS + 1;
    await limiter.take(bucket, 10, 10_000, 50_000);
    expect(calls()).toBe(2);
  });

  it('gives back what an expired lease did not spend, and sizes the next lease to its use', async () => {
    const bucket = `test:${randomUUID()}`;
    let now = 1_000_000;
    const { limiter, calls } = counted(() => now);
    // rate 10,000/s, burst 50,000: the first lease is the most one may be, 500 tokens
    await limiter.take(bucket, 10, 10_000, 50_000);
    now += LEASE_TTL_MS + 1;
    // the lease spent only its first request's 10: its 500 go back, the next lease is 20
    await limiter.take(bucket, 10, 10_000, 50_000);
    expect(calls()).toBe(2);
    const [tokens] = await redis.hmget(`custodian:ratelimit:${bucket}`, 'tokens', 'ts');
    // 50,000 - (10 + 500) + 500 - (10 + 20), plus what refilled in real time meanwhile; without
    // the refund and the sizing it would be 50,000 - 1,020
    expect(Number(tokens)).toBeGreaterThanOrEqual(49_960);
    expect(Number(tokens)).toBeLessThanOrEqual(50_000);
  });

  it('lets concurrent requests wait for one lease instead of each taking one', async () => {
    const bucket = `test:${randomUUID()}`;
    const { limiter, calls } = counted();
    // rate 1,000,000/s, burst 5,000,000: a lease of 50,000 covers all 64 requests of 100
    const decisions = await Promise.all(
      Array.from({ length: 64 }, () => limiter.take(bucket, 100, 1_000_000, 5_000_000)),
    );
    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(calls()).toBe(1);
    const [tokens] = await redis.hmget(`custodian:ratelimit:${bucket}`, 'tokens', 'ts');
    // one lease of 50,000 and the first request's 100 left the bucket, not 64 leases
    expect(Number(tokens)).toBeGreaterThanOrEqual(5_000_000 - 50_100);
  });

  it('never refuses gateways that together send half the rate', async () => {
    const bucket = `test:${randomUUID()}`;
    // rate 10,000/s, burst 10,000 (leases of at most 500); five gateways each sending 10 tokens
    // every 10 ms, 5,000/s together. Leases sized to the rate, not the use, took 500 per
    // gateway every 100 ms (25,000/s) and refused within a second.
    const gateways = Array.from({ length: 5 }, () => new RateLimiter(redis));
    const started = Date.now();
    let admitted = 0;
    let refused = 0;
    await Promise.all(
      gateways.map(async (g) => {
        while (Date.now() - started < 1500) {
          const d = await g.take(bucket, 10, 10_000, 10_000);
          if (d.allowed) admitted += 10;
          else refused++;
          await new Promise((r) => setTimeout(r, 10));
        }
      }),
    );
    expect(refused).toBe(0);
    expect(admitted).toBeGreaterThan(1000);
  });

  it('never admits more than the shared bucket gives out, with two gateways leasing', async () => {
    const bucket = `test:${randomUUID()}`;
    const a = new RateLimiter(redis);
    const b = new RateLimiter(redis);
    // rate 2,000/s, burst 1,000: leases of 100 tokens; requests of 20
    const started = Date.now();
    let admitted = 0;
    let refused = 0;
    while (Date.now() - started < 600) {
      const [x, y] = await Promise.all([
        a.take(bucket, 20, 2000, 1000),
        b.take(bucket, 20, 2000, 1000),
      ]);
      for (const d of [x, y]) {
        if (d.allowed) admitted += 20;
        else refused++;
      }
    }
    const elapsed = (Date.now() - started) / 1000;
    expect(refused).toBeGreaterThan(0); // the bucket ran dry: the bound below is what mattered
    expect(admitted).toBeLessThanOrEqual(1000 + 2000 * elapsed);
    // and leases cost at most one unspent lease per gateway at a time
    expect(admitted).toBeGreaterThanOrEqual(1000 + 2000 * (elapsed - 0.05) - 2 * 100 - 2 * 20);
  });

  it('falls back to a local bucket when Redis is unreachable, and says so', async () => {
    const dead = await unreachableRedis();
    let fallbacks = 0;
    const l = new RateLimiter(dead, () => fallbacks++);
    expect((await l.take('x', 8, 1, 10)).allowed).toBe(true);
    expect((await l.take('x', 8, 1, 10)).allowed).toBe(false);
    expect(fallbacks).toBe(2);
    dead.disconnect();
  });

  it('falls back at once for requests waiting on a lease fetch that Redis failed', async () => {
    const dead = await unreachableRedis();
    let fallbacks = 0;
    const l = new RateLimiter(dead, () => fallbacks++);
    // leasing rates: the first request fetches, the other nine wait for it and then fall back
    const decisions = await Promise.all(
      Array.from({ length: 10 }, () => l.take('y', 100, 1_000_000, 5_000_000)),
    );
    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(fallbacks).toBe(10);
    dead.disconnect();
  });
});
