import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { WorkerConsumer } from './worker-consumer';

/** A kafkajs stand-in: the consumer's join event is fired by hand, the admin answers offsets. */
function fakeKafka(committed: Record<string, Record<number, string>>) {
  let onJoin: ((e: unknown) => void) | undefined;
  const consumerOpts: Record<string, unknown>[] = [];
  const kafka = {
    consumer: (opts: Record<string, unknown>) => {
      consumerOpts.push(opts);
      return {
        events: { GROUP_JOIN: 'consumer.group_join' },
        on: (_event: string, cb: (e: unknown) => void) => (onJoin = cb),
      };
    },
    admin: () => ({
      connect: async () => undefined,
      disconnect: async () => undefined,
      fetchOffsets: async ({ topics }: { topics: string[] }) =>
        topics.map((topic) => ({
          topic,
          partitions: Object.entries(committed[topic] ?? {}).map(([p, offset]) => ({
            partition: Number(p),
            offset,
          })),
        })),
      fetchTopicOffsets: async () =>
        [0, 1, 2, 3].map((partition) => ({
          partition,
          low: '5',
          high: String(100 + partition),
          offset: String(100 + partition),
        })),
    }),
  } as unknown as Kafka;
  const join = (memberAssignment: Record<string, number[]>) =>
    onJoin!({ payload: { memberAssignment } });
  return { kafka, join, consumerOpts };
}

describe('WorkerConsumer', () => {
  it('measures committed lag of the partitions it owns only, from the low watermark when nothing is committed', async () => {
    const f = fakeKafka({ 'otlp.traces': { 1: '90', 3: '-1' }, 'otlp.logs': { 1: '101' } });
    const c = new WorkerConsumer(
      f.kafka,
      { groupId: 'g', tickMs: 100, drainTimeoutMs: 100 },
      () => {
        throw new Error('no records in this test');
      },
      pino({ level: 'silent' }),
    );
    expect(await c.measureLag()).toEqual([]);
    f.join({ 'otlp.traces': [1, 3], 'otlp.logs': [1], 'otlp.metrics': [] });
    const lag = await c.measureLag();
    expect(lag).toEqual([
      { topic: 'otlp.traces', partition: 1, lag: 11 },
      { topic: 'otlp.traces', partition: 3, lag: 98 },
      { topic: 'otlp.logs', partition: 1, lag: 0 },
    ]);
    expect(c.consumerLag).toBe(lag);
  });

  it('joins with the configured session timeout and heartbeat', () => {
    const f = fakeKafka({});
    new WorkerConsumer(
      f.kafka,
      {
        groupId: 'g',
        tickMs: 100,
        drainTimeoutMs: 100,
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 1_000,
      },
      () => {
        throw new Error('unused');
      },
      pino({ level: 'silent' }),
    );
    expect(f.consumerOpts[0]).toMatchObject({ sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  });
});
