import type { TenantChange } from '@custodian/db';
import { ChangePoller } from './change-poller';

const silent = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };

describe('ChangePoller', () => {
  it('reads everything first, then only an overlap window behind the newest stamp', async () => {
    const asked: number[] = [];
    const feed: TenantChange[] = [
      { tenantId: 'a', changedAt: new Date(10_000) },
      { tenantId: 'b', changedAt: new Date(50_000) },
    ];
    const applied: TenantChange[][] = [];
    const p = new ChangePoller({
      name: 't',
      fetch: async (after) => {
        asked.push(after.getTime());
        return feed.filter((c) => c.changedAt > after);
      },
      apply: async (c) => {
        applied.push(c);
      },
      intervalMs: 1000,
      overlapMs: 5000,
      logger: silent,
    });
    await p.poll();
    await p.poll();
    expect(asked).toEqual([0, 45_000]);
    expect(applied[0].map((c) => c.tenantId)).toEqual(['a', 'b']);
    expect(applied[1].map((c) => c.tenantId)).toEqual(['b']);
  });

  it('never throws: a failed poll is logged, counted and retried on the next tick', async () => {
    jest.useFakeTimers();
    try {
      let calls = 0;
      const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
      const p = new ChangePoller({
        name: 't',
        fetch: async () => {
          calls++;
          if (calls === 1) throw new Error('connection refused');
          return [];
        },
        apply: async () => undefined,
        intervalMs: 100,
        overlapMs: 0,
        logger,
      });
      p.start();
      await jest.advanceTimersByTimeAsync(100);
      expect(p.failures).toBe(1);
      expect(logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ err: 'connection refused' }),
        expect.stringContaining('poll failed'),
      );
      await jest.advanceTimersByTimeAsync(100);
      expect(calls).toBe(2);
      await p.stop();
      await jest.advanceTimersByTimeAsync(1000);
      expect(calls).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('shares one poll among concurrent callers', async () => {
    let calls = 0;
    const p = new ChangePoller({
      name: 't',
      fetch: async () => {
        calls++;
        return [];
      },
      apply: async () => undefined,
      intervalMs: 100,
      overlapMs: 0,
      logger: silent,
    });
    await Promise.all([p.poll(), p.poll(), p.poll()]);
    expect(calls).toBe(1);
  });
});
