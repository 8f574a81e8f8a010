import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { OffsetTracker } from './offset-tracker';
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

type EachBatch = (p: Record<string, unknown>) => Promise<void>;

/** A kafkajs stand-in that hands back the eachBatch handler the consumer runs with. */
function batchKafka() {
  let handler: EachBatch | undefined;
  const kafka = {
    consumer: () => ({
      events: { GROUP_JOIN: 'consumer.group_join' },
      on: () => undefined,
      connect: async () => undefined,
      subscribe: async () => undefined,
      run: async (o: { eachBatch: EachBatch }) => {
        handler = o.eachBatch;
      },
      stop: async () => undefined,
      disconnect: async () => undefined,
    }),
    admin: () => ({ connect: async () => undefined, disconnect: async () => undefined }),
  } as unknown as Kafka;
  return { kafka, eachBatch: () => handler! };
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

  it('reads no further record while the sinks are over their bound, heartbeating meanwhile', async () => {
    const { kafka, eachBatch } = batchKafka();
    let pending = 0;
    const handled: string[] = [];
    let paused = 0;
    const c = new WorkerConsumer(
      kafka,
      {
        groupId: 'g',
        tickMs: 60_000,
        drainTimeoutMs: 100,
        lagIntervalMs: 0,
        overloaded: () => pending >= 2,
        onPaused: (s) => (paused += s),
      },
      () =>
        ({
          handle: async (r: { offset: string }) => {
            handled.push(r.offset);
            pending++; // each record hands one item to a sink that has not answered yet
          },
          flushAll: async () => undefined,
          close: () => undefined,
          trackers: Object.fromEntries(
            ['traces', 'logs', 'metrics'].map((sig) => [
              sig,
              { pendingRecords: 0, committable: () => undefined, seen: () => false },
            ]),
          ),
        }) as never,
      pino({ level: 'silent' }),
    );
    await c.start();
    let beats = 0;
    const batch = eachBatch()({
      batch: {
        topic: 'otlp.traces',
        partition: 0,
        messages: ['0', '1', '2', '3'].map((offset) => ({
          offset,
          value: Buffer.from('x'),
          key: null,
          headers: {},
        })),
      },
      resolveOffset: () => undefined,
      heartbeat: async () => {
        beats++;
      },
      isRunning: () => true,
      isStale: () => false,
    });
    await new Promise((r) => setTimeout(r, 1300));
    expect(handled).toEqual(['0', '1']); // held at the bound
    expect(beats).toBeGreaterThanOrEqual(1); // the group keeps the partition meanwhile
    pending = 0; // the sinks caught up
    await batch;
    expect(handled).toEqual(['0', '1', '2', '3']);
    expect(paused).toBeGreaterThan(1);
    await c.stop();
  });

  it('after a rebalance kept the partition, skips records kafkajs fetches again instead of crash-looping', async () => {
    const { kafka, eachBatch } = batchKafka();
    const handled: string[] = [];
    const trackers = {
      traces: new OffsetTracker(),
      logs: new OffsetTracker(),
      metrics: new OffsetTracker(),
    };
    const c = new WorkerConsumer(
      kafka,
      { groupId: 'g', tickMs: 60_000, drainTimeoutMs: 100, lagIntervalMs: 0 },
      () =>
        ({
          // like PartitionProcessor: every record goes to the tracker, held until delivered
          handle: async (r: { offset: string }) => {
            trackers.traces.add(r.offset, 1);
            handled.push(r.offset);
          },
          flushAll: async () => undefined,
          close: () => undefined,
          trackers,
        }) as never,
      pino({ level: 'silent' }),
    );
    await c.start();
    const resolved: string[] = [];
    const run = (offsets: string[]) =>
      eachBatch()({
        batch: {
          topic: 'otlp.traces',
          partition: 0,
          messages: offsets.map((offset) => ({
            offset,
            value: Buffer.from('x'),
            key: null,
            headers: {},
          })),
        },
        resolveOffset: (o: string) => resolved.push(o),
        heartbeat: async () => undefined,
        isRunning: () => true,
        isStale: () => false,
      });
    await run(['10', '11', '12', '13']);
    // The group rebalanced and gave partition 0 back to this worker; nothing was committed, so
    // kafkajs fetches again from offset 10.
    await run(['10', '11', '12', '13', '14', '15']);
    expect(handled).toEqual(['10', '11', '12', '13', '14', '15']);
    expect(resolved).toEqual(['10', '11', '12', '13', '10', '11', '12', '13', '14', '15']);
    expect(trackers.traces.pendingRecords).toBe(6);
    await c.stop();
  });
});
