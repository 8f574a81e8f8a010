import { DeadLetterQueue } from './dead-letter-queue';
import type { PoisonRecord } from './ports';

const REC: PoisonRecord = {
  signal: 'traces',
  partition: 3,
  offset: '42',
  key: null,
  value: Buffer.from([0xff]),
  headers: { 'tenant-id': 't1' },
  tenantId: 't1',
  reason: 'undecodable',
};

describe('DeadLetterQueue', () => {
  it('retries a failing produce with capped exponential backoff until it is acknowledged', async () => {
    const waits: number[] = [];
    let calls = 0;
    const done: PoisonRecord[] = [];
    const q = new DeadLetterQueue({
      send: async () => {
        if (++calls < 8) throw new Error('NOT_LEADER_FOR_PARTITION');
      },
      initialBackoffMs: 100,
      maxBackoffMs: 1000,
      sleep: async (ms) => {
        waits.push(ms);
      },
      onDeadLettered: (r) => done.push(r),
    });
    await q.put(REC);
    expect(calls).toBe(8);
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(done).toEqual([REC]);
  });

  it('gives up only on close, and then rejects (the caller keeps the offset held)', async () => {
    let failures = 0;
    const q = new DeadLetterQueue({
      send: () => Promise.reject(new Error('broker down')),
      initialBackoffMs: 60_000,
      onRetry: () => failures++,
    });
    const put = q.put(REC);
    await new Promise((r) => setImmediate(r));
    expect(failures).toBe(1);
    q.close();
    await expect(put).rejects.toThrow(/closed/);
  });
});
