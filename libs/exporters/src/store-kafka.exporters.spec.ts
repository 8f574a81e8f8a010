import type { Kafka } from 'kafkajs';
import { encodeTraces, type TracesData } from '@custodian/otlp';
import { ExportError } from './export-error';
import { KafkaExporter, KafkaSinkConfigError, validateKafkaSinkConfig } from './kafka.exporter';
import { StoreExporter, classifyStoreError } from './store.exporter';

const T = '11111111-1111-4111-8111-111111111111';
const EMPTY: TracesData = { resourceSpans: [] };

describe('StoreExporter', () => {
  it('writes traces for its tenant, decoding the protobuf when no decoded form is at hand', async () => {
    const calls: [string, TracesData][] = [];
    const reports: unknown[] = [];
    const exp = new StoreExporter(
      T,
      {
        write: async (tenantId, data) => {
          calls.push([tenantId, data]);
          return { inserted: 2, duplicates: 1, invalid: 0 };
        },
      },
      { onWritten: (r) => reports.push(r) },
    );
    const out = await exp.export({ signal: 'traces', protobuf: encodeTraces(EMPTY), items: 3 });
    expect(out).toEqual({ rejected: 0 });
    expect(calls).toEqual([[T, EMPTY]]);
    expect(reports).toEqual([{ tenantId: T, inserted: 2, duplicates: 1, invalid: 0 }]);
  });

  it('answers logs and metrics with every item rejected instead of failing', async () => {
    const exp = new StoreExporter(T, { write: () => Promise.reject(new Error('not called')) });
    const out = await exp.export({ signal: 'logs', protobuf: new Uint8Array(), items: 4 });
    expect(out.rejected).toBe(4);
  });

  it('classifies PostgreSQL errors: data and integrity permanent, connection and others retryable', () => {
    const pg = (code: string) => Object.assign(new Error('x'), { code });
    expect(classifyStoreError(pg('23503')).retryable).toBe(false);
    expect(classifyStoreError(pg('22P02')).retryable).toBe(false);
    expect(classifyStoreError(pg('08006')).retryable).toBe(true);
    expect(classifyStoreError(pg('57P01')).retryable).toBe(true);
    expect(classifyStoreError(pg('ECONNREFUSED')).retryable).toBe(true);
    expect(
      classifyStoreError(Object.assign(new Error('bad key'), { name: 'SecretDecryptionError' }))
        .retryable,
    ).toBe(false);
    expect(classifyStoreError(new Error('x'))).toBeInstanceOf(ExportError);
  });
});

describe('kafka sink config', () => {
  it('accepts a topic under the tenant prefix', () => {
    expect(validateKafkaSinkConfig({ topic: `tenant.${T}.spans` }, T)).toEqual([]);
  });

  it('refuses the platform topics, other tenants’ topics and bad settings, all at once', () => {
    expect(validateKafkaSinkConfig({ topic: 'otlp.traces' }, T)).toEqual([
      `topic: must start with "tenant.${T}." and name a topic after it`,
    ]);
    expect(
      validateKafkaSinkConfig(
        {
          topic: 'tenant.22222222-2222-4222-8222-222222222222.spans',
          brokers: ['ok:9092', 'nope'],
          compression: 'zstd',
        },
        T,
      ),
    ).toEqual([
      `topic: must start with "tenant.${T}." and name a topic after it`,
      'brokers[1]: expected host:port',
      'compression: gzip or none',
    ]);
    expect(validateKafkaSinkConfig({ topic: `tenant.${T}.` }, T)).toHaveLength(1);
    expect(validateKafkaSinkConfig({ topic: `tenant.${T}.a b` }, T)).toHaveLength(1);
  });

  it('refuses to build an exporter from an invalid config', () => {
    expect(
      () =>
        new KafkaExporter(
          { topic: 'otlp.logs' },
          {
            tenantId: T,
            kafka: () => ({}) as Kafka,
            producerId: 'w',
          },
        ),
    ).toThrow(KafkaSinkConfigError);
  });
});
