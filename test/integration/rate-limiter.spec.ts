/**
 * Per-tenant token buckets in the real Redis: consistent across gateways (two limiters, one
 * bucket), refusing with a retry hint once the burst is spent, refilling at the rate, and
 * falling back to a local bucket when Redis does not answer.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiter } from '../../apps/gateway/src/limits/rate-limiter';
import { freePort } from '../support/ports';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 1 });
});
afterAll(() => redis.quit());

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

  it('falls back to a local bucket when Redis is unreachable, and says so', async () => {
    const dead = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    let fallbacks = 0;
    const l = new RateLimiter(dead, () => fallbacks++);
    expect((await l.take('x', 8, 1, 10)).allowed).toBe(true);
    expect((await l.take('x', 8, 1, 10)).allowed).toBe(false);
    expect(fallbacks).toBe(2);
    dead.disconnect();
  });
});
