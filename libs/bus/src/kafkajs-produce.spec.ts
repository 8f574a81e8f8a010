import { createRequire } from 'node:module';
import fc from 'fast-check';
import { registerKafkaCodecs } from './codecs';
import { encodeProduceBody, nativeCrc32c, patchKafkajsProduce } from './kafkajs-produce';

const kafkajs = createRequire(__filename);
const produceV3 = kafkajs('kafkajs/src/protocol/requests/produce/v3/request') as (
  args: unknown,
) => { encode(): Promise<{ buffer: Buffer }> };
const produceModule = kafkajs('kafkajs/src/protocol/requests/produce') as {
  protocol(v: { version: number }): (args: unknown) => {
    request: { apiVersion: number; encode(): Promise<{ buffer: Buffer }> };
  };
};
const compression = kafkajs('kafkajs/src/protocol/message/compression');
const crc32C = kafkajs('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
const Long = kafkajs('kafkajs/src/utils/long') as { fromValue(v: unknown): { value: bigint } };
const LZ4 = 3;
const internals = { compression, crc32C, Long };

registerKafkaCodecs();

/** kafkajs's own bytes for the same request (its v3 encoder, which v4–v7 reuse). */
async function kafkajsBytes(args: unknown): Promise<Buffer> {
  return (await produceV3(args).encode()).buffer;
}

const headerValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
);
const message = fc.record({
  key: fc.option(
    fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a)),
    { nil: null },
  ),
  value: fc.oneof(
    { weight: 5, arbitrary: fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: fc.constant(null) },
  ),
  headers: fc.option(fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), headerValue), {
    nil: undefined,
  }),
});
const request = fc.record({
  acks: fc.constantFrom(-1, 0, 1),
  timeout: fc.integer({ min: 0, max: 60_000 }),
  transactionalId: fc.option(fc.string({ maxLength: 20 }), { nil: null }),
  // as kafkajs's producer passes it (the broker's id as a string), or as a Long, or absent
  producerId: fc.oneof(
    fc.bigInt({ min: -1n, max: (1n << 62n) - 1n }).map((v) => String(v)),
    fc.bigInt({ min: -1n, max: (1n << 62n) - 1n }).map((v) => Long.fromValue(v)),
    fc.constant(undefined),
  ),
  producerEpoch: fc.integer({ min: 0, max: 32_767 }),
  compression: fc.constantFrom(0, LZ4),
  topicData: fc.array(
    fc.record({
      topic: fc.constantFrom('otlp.traces', 'otlp.logs', 'tópico'),
      partitions: fc.array(
        fc.record({
          partition: fc.integer({ min: 0, max: 63 }),
          firstSequence: fc.option(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { nil: undefined }),
          messages: fc.array(message, { minLength: 1, maxLength: 12 }),
        }),
        { minLength: 1, maxLength: 6 },
      ),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

describe('Produce request bodies written in one pass (kafkajs-produce.ts)', () => {
  let now: jest.SpyInstance;
  beforeEach(() => {
    now = jest.spyOn(Date, 'now').mockReturnValue(1_765_000_000_123);
  });
  afterEach(() => now.mockRestore());

  it('applies to the kafkajs version installed (fails on an upgrade that moved its modules)', () => {
    expect(patchKafkajsProduce()).toBe(true);
  });

  it("checksums with the native CRC-32C here, equal to kafkajs's own on any bytes", () => {
    const native = nativeCrc32c();
    expect(native).toBeDefined();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (a) => {
        const b = Buffer.from(a);
        expect(native!(b)).toBe(crc32C(b));
      }),
      { numRuns: 500 },
    );
  });

  it("writes kafkajs's bytes exactly, for any request of the shape Custodian sends", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (args) => {
        const ours = await encodeProduceBody(args, internals);
        expect(ours).not.toBeNull();
        expect(ours!.equals(await kafkajsBytes(args))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("the gateway's shape: shared headers on many records, LZ4, an idempotent producer", async () => {
    const headers = {
      'custodian-tenant-id': 'tenant-1',
      'custodian-signal': 'traces',
      'custodian-received-at': '1765000000123',
      'custodian-content-version': '1',
      'custodian-gateway-id': 'gw-0',
    };
    const args = {
      acks: -1,
      timeout: 5000,
      producerId: Long.fromValue(4242n),
      producerEpoch: 3,
      compression: LZ4,
      topicData: [
        {
          topic: 'otlp.traces',
          partitions: Array.from({ length: 6 }, (_, p) => ({
            partition: p,
            firstSequence: 100 * p,
            messages: Array.from({ length: 4 }, (_, i) => ({
              key: Buffer.from(`k${p}-${i}`),
              value: Buffer.alloc(9000 + i, p + i),
              headers,
            })),
          })),
        },
      ],
    };
    const ours = await encodeProduceBody(args, internals);
    expect(ours!.equals(await kafkajsBytes(args))).toBe(true);
    // the patched protocol answers the same bytes under every version that shares the layout
    patchKafkajsProduce();
    for (const version of [3, 4, 5, 6, 7]) {
      const { request: req } = produceModule.protocol({ version })(args);
      expect(req.apiVersion).toBe(version);
      expect((await req.encode()).buffer.equals(ours!)).toBe(true);
    }
  });

  it("leaves other shapes to kafkajs's encoder: same bytes through the fallback", async () => {
    patchKafkajsProduce();
    const args = {
      acks: 1,
      timeout: 1000,
      compression: 0,
      topicData: [
        {
          topic: 't',
          partitions: [
            {
              partition: 0,
              messages: [
                { key: 'a string key', value: 'a string value', timestamp: '1765000000000' },
                { value: Buffer.from('x'), headers: { h: ['one', 'two'] } },
              ],
            },
          ],
        },
      ],
    };
    expect(await encodeProduceBody(args as never, internals)).toBeNull();
    const { request: req } = produceModule.protocol({ version: 7 })(args);
    expect((await req.encode()).buffer.equals(await kafkajsBytes(args))).toBe(true);
  });
});
