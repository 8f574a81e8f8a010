import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  DEFAULT_DELIVERY_CONFIG,
  resolveDeliveryConfig,
  retryDelayMs,
  validateDeliveryConfig,
  type DeliveryConfig,
} from './delivery-config';

const load = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, 'testdata', name), 'utf8')) as DeliveryConfig;

describe('delivery config', () => {
  it('the example document is valid and equals the defaults', () => {
    const config = load('delivery-config.json');
    expect(validateDeliveryConfig(config)).toEqual([]);
    expect(config).toEqual(DEFAULT_DELIVERY_CONFIG);
  });

  it('reports every problem at once, each with its path', () => {
    expect(validateDeliveryConfig(load('delivery-config.invalid.json')).map((p) => p.path)).toEqual(
      [
        'delivery.keyPrefix',
        'delivery.firstAttemptTimeoutMs',
        'delivery.maxAttempts',
        'delivery.maxRetryQueueBatches',
        'delivery.maxDeadLetters',
        'delivery.retryConcurrency',
        'delivery.laneScanMs',
        'delivery.laneIdleMs',
        'delivery.jitter',
        'delivery.maxBackoffMs',
      ],
    );
  });

  it('resolveDeliveryConfig overlays defaults and throws listing the problems', () => {
    expect(resolveDeliveryConfig({ maxAttempts: 3 }).maxAttempts).toBe(3);
    expect(resolveDeliveryConfig().maxDeadLetters).toBe(1000);
    expect(() => resolveDeliveryConfig({ maxAttempts: 0, jitter: 2 })).toThrow(
      /delivery\.maxAttempts.*delivery\.jitter/,
    );
  });
});

describe('retryDelayMs', () => {
  const cfg = { initialBackoffMs: 1000, maxBackoffMs: 60_000, jitter: 0 };

  it('doubles per retry and stops at the cap', () => {
    expect([1, 2, 3, 4, 7, 8, 50].map((n) => retryDelayMs(cfg, n, undefined))).toEqual([
      1000, 2000, 4000, 8000, 60_000, 60_000, 60_000,
    ]);
  });

  it('the default schedule spans most of an hour over 10 attempts (9 waits, capped at 5 min)', () => {
    const c = { ...DEFAULT_DELIVERY_CONFIG, jitter: 0 };
    let total = 0;
    for (let retry = 1; retry < c.maxAttempts; retry++) total += retryDelayMs(c, retry, undefined);
    expect(total).toBe((30 + 60 + 120 + 240 + 5 * 300) * 1000);
  });

  it('jitter stays within [exp*(1-jitter), exp], and Retry-After is a floor', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 10_000_000 }), { nil: undefined }),
        (retry, jitter, rnd, retryAfter) => {
          const c = { initialBackoffMs: 500, maxBackoffMs: 300_000, jitter };
          const exp = Math.min(300_000, 500 * 2 ** (retry - 1));
          const d = retryDelayMs(c, retry, retryAfter, () => rnd);
          const base = retryDelayMs(c, retry, undefined, () => rnd);
          expect(base).toBeGreaterThanOrEqual(Math.floor(exp * (1 - jitter)));
          expect(base).toBeLessThanOrEqual(exp);
          if (retryAfter !== undefined) expect(d).toBeGreaterThanOrEqual(retryAfter);
          expect(d).toBe(Math.max(base, retryAfter ?? 0));
        },
      ),
    );
  });
});
