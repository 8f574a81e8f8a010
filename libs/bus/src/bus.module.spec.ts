import pino from 'pino';
import type { Admin } from 'kafkajs';
import type { CustodianConfig } from '@custodian/config';
import { KafkaAdmin } from './bus.module';

type Metadata = Awaited<ReturnType<Admin['fetchTopicMetadata']>>;

function meta(partitions: number): Metadata {
  return {
    topics: [
      {
        name: 'otlp.traces',
        partitions: Array.from({ length: partitions }, (_, i) => ({
          partitionErrorCode: 0,
          partitionId: i,
          leader: 1,
          replicas: [1],
          isr: [1],
          offlineReplicas: [],
        })),
      },
    ],
  };
}

/** A KafkaAdmin whose cluster metadata answers come from the test. */
function admin() {
  const config = {
    kafkaBrokers: ['127.0.0.1:1'],
    kafkaClientId: 'test',
    kafkaTopicPartitions: 6,
    kafkaReplicationFactor: 1,
    kafkaMaxMessageBytes: 1 << 20,
    kafkaCreateTopics: false,
  } as unknown as CustodianConfig;
  const ka = new KafkaAdmin(config, pino({ level: 'silent' }));
  const answers: { resolve: (m: Metadata) => void; reject: (e: Error) => void }[] = [];
  const fetch = jest.fn(
    () => new Promise<Metadata>((resolve, reject) => answers.push({ resolve, reject })),
  );
  jest.spyOn(ka, 'probe').mockResolvedValue(undefined);
  (ka as unknown as { admin: Pick<Admin, 'fetchTopicMetadata'> }).admin = {
    fetchTopicMetadata: fetch,
  };
  return { ka, fetch, answers };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('KafkaAdmin.partitionCount', () => {
  let now = 1_000_000;
  beforeEach(() => {
    now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });
  afterEach(() => jest.restoreAllMocks());

  it('makes one metadata request for all the callers of a first lookup', async () => {
    const { ka, fetch, answers } = admin();
    const counts = Array.from({ length: 20 }, () => ka.partitionCount('otlp.traces'));
    await flush();
    expect(fetch).toHaveBeenCalledTimes(1);
    answers[0].resolve(meta(6));
    expect(await Promise.all(counts)).toEqual(Array(20).fill(6));
  });

  it('answers a stale count at once while one background refresh runs, then the new count', async () => {
    const { ka, fetch, answers } = admin();
    const first = ka.partitionCount('otlp.traces');
    await flush();
    answers[0].resolve(meta(6));
    await first;
    now += 61_000;
    // The refresh is pending (answers[1] unresolved), yet every caller is answered.
    const during = await Promise.all(
      Array.from({ length: 20 }, () => ka.partitionCount('otlp.traces')),
    );
    expect(during).toEqual(Array(20).fill(6));
    await flush();
    expect(fetch).toHaveBeenCalledTimes(2);
    answers[1].resolve(meta(12));
    await flush();
    expect(await ka.partitionCount('otlp.traces')).toBe(12);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('keeps the last count when a refresh fails, and retries the refresh later', async () => {
    const { ka, fetch, answers } = admin();
    const first = ka.partitionCount('otlp.traces');
    await flush();
    answers[0].resolve(meta(6));
    await first;
    now += 61_000;
    expect(await ka.partitionCount('otlp.traces')).toBe(6);
    await flush();
    answers[1].reject(new Error('broker down'));
    await flush();
    expect(await ka.partitionCount('otlp.traces')).toBe(6);
    await flush();
    expect(fetch).toHaveBeenCalledTimes(3);
  });

  it('fails the callers of a first lookup when there is no metadata', async () => {
    const { ka, answers } = admin();
    const a = ka.partitionCount('otlp.traces');
    const b = ka.partitionCount('otlp.traces');
    await flush();
    answers[0].reject(new Error('broker down'));
    await expect(a).rejects.toThrow('broker down');
    await expect(b).rejects.toThrow('broker down');
    // The next caller tries again rather than inheriting the failure.
    const c = ka.partitionCount('otlp.traces');
    await flush();
    answers[1].resolve(meta(3));
    expect(await c).toBe(3);
  });
});
