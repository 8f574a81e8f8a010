import fc from 'fast-check';
import { decodeTraces, type TracesData } from '@custodian/otlp';
import type { ExportBatch, SinkExporter } from '@custodian/exporters';
import { SinkBatcher, validateBatcherOptions, DEFAULT_BATCHER_OPTIONS } from './sink-batcher';
import type { DeliveryResult } from './sink-delivery';

const exporter = { kind: 'fake' } as unknown as SinkExporter;
const sink = { tenantId: 't1', sinkId: 's1', exporter };

function traces(n: number, tag: string): TracesData {
  return {
    resourceSpans: [
      {
        resource: { attributes: [], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeSpans: [
          {
            schemaUrl: '',
            spans: Array.from({ length: n }, (_, i) => ({
              traceId: new Uint8Array(16).fill(7),
              spanId: new Uint8Array(8).fill(i),
              traceState: '',
              parentSpanId: new Uint8Array(0),
              flags: 0,
              name: `${tag}-${i}`,
              kind: 1,
              startTimeUnixNano: 1n,
              endTimeUnixNano: 2n,
              attributes: [],
              droppedAttributesCount: 0,
              events: [],
              droppedEventsCount: 0,
              links: [],
              droppedLinksCount: 0,
            })),
          },
        ],
      },
    ],
  };
}

/** A delivery whose answers the test releases by hand. */
class ManualDelivery {
  readonly calls: {
    batch: ExportBatch;
    resolve: (r: DeliveryResult) => void;
    reject: (e: Error) => void;
  }[] = [];
  deliver(_sink: typeof sink, batch: ExportBatch): Promise<DeliveryResult> {
    return new Promise((resolve, reject) => this.calls.push({ batch, resolve, reject }));
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('SinkBatcher', () => {
  afterEach(() => jest.useRealTimers());

  it('flushes at maxItems, encoding one merged request, and calls onDone only after delivery', async () => {
    const delivery = new ManualDelivery();
    const b = new SinkBatcher(sink, 'traces', delivery, { maxItems: 5, maxDelayMs: 10_000 });
    const done: string[] = [];
    b.add({ data: traces(2, 'a'), items: 2, onDone: () => done.push('a') });
    b.add({ data: traces(2, 'b'), items: 2, onDone: () => done.push('b') });
    expect(delivery.calls).toHaveLength(0);
    b.add({ data: traces(1, 'c'), items: 1, onDone: () => done.push('c') });
    expect(delivery.calls).toHaveLength(1);
    const batch = delivery.calls[0].batch;
    expect(batch.items).toBe(5);
    const decoded = decodeTraces(batch.protobuf);
    expect(decoded.resourceSpans).toHaveLength(1);
    expect(decoded.resourceSpans[0].scopeSpans[0].spans.map((s) => s.name)).toEqual([
      'a-0',
      'a-1',
      'b-0',
      'b-1',
      'c-0',
    ]);
    expect(b.pendingItems).toBe(5);
    await tick();
    expect(done).toEqual([]);
    delivery.calls[0].resolve({ outcome: 'queued_retry', rejected: 0 });
    await tick();
    expect(done).toEqual(['a', 'b', 'c']);
    expect(b.pendingItems).toBe(0);
  });

  it('flushes at maxBytes and after maxDelayMs', async () => {
    jest.useFakeTimers();
    const delivery = new ManualDelivery();
    const b = new SinkBatcher(sink, 'traces', delivery, { maxBytes: 100, maxDelayMs: 200 });
    b.add({ data: traces(1, 'a'), items: 1, bytes: 60, onDone: () => undefined });
    b.add({ data: traces(1, 'b'), items: 1, bytes: 60, onDone: () => undefined });
    expect(delivery.calls).toHaveLength(1);
    b.add({ data: traces(1, 'c'), items: 1, onDone: () => undefined });
    jest.advanceTimersByTime(199);
    expect(delivery.calls).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(delivery.calls).toHaveLength(2);
    expect(delivery.calls[1].batch.items).toBe(1);
  });

  it('keeps a batch whose delivery failed and tries again; onDone still once', async () => {
    jest.useFakeTimers();
    const delivery = new ManualDelivery();
    const errors: unknown[] = [];
    const b = new SinkBatcher(
      sink,
      'traces',
      delivery,
      { maxItems: 1, redeliverBackoffMs: 100 },
      (e) => errors.push(e),
    );
    let done = 0;
    b.add({ data: traces(1, 'a'), items: 1, onDone: () => done++ });
    delivery.calls[0].reject(new Error('redis down'));
    await jest.advanceTimersByTimeAsync(100);
    expect(delivery.calls).toHaveLength(2);
    expect(done).toBe(0);
    expect(delivery.calls[1].batch.protobuf).toEqual(delivery.calls[0].batch.protobuf);
    delivery.calls[1].resolve({ outcome: 'exported', rejected: 0 });
    await jest.advanceTimersByTimeAsync(0);
    expect(done).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it('close() gives up on an undeliverable batch after its timeout without calling onDone', async () => {
    const b = new SinkBatcher(
      sink,
      'traces',
      { deliver: () => Promise.reject(new Error('redis down')) },
      { maxItems: 1, redeliverBackoffMs: 5 },
    );
    let done = 0;
    b.add({ data: traces(1, 'a'), items: 1, onDone: () => done++ });
    await b.close(50);
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(0);
    expect(() => b.add({ data: traces(1, 'b'), items: 1, onDone: () => done++ })).toThrow(/closed/);
  });

  it('limits batches in flight, and flush() waits for all of them', async () => {
    const delivery = new ManualDelivery();
    const b = new SinkBatcher(sink, 'traces', delivery, { maxItems: 1, maxInFlight: 2 });
    for (let i = 0; i < 4; i++)
      b.add({ data: traces(1, `x${i}`), items: 1, onDone: () => undefined });
    expect(delivery.calls).toHaveLength(2);
    let flushed = false;
    const f = b.flush().then(() => (flushed = true));
    delivery.calls[0].resolve({ outcome: 'exported', rejected: 0 });
    await tick();
    expect(delivery.calls).toHaveLength(3);
    for (const c of delivery.calls.slice(1)) c.resolve({ outcome: 'exported', rejected: 0 });
    await tick();
    delivery.calls[3].resolve({ outcome: 'exported', rejected: 0 });
    await f;
    expect(flushed).toBe(true);
  });

  it('calls every onDone exactly once, whatever the batch boundaries (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 20 }),
        async (sizes, maxItems) => {
          const delivered: number[] = [];
          const b = new SinkBatcher(
            sink,
            'traces',
            {
              deliver: async (_s, batch) => {
                delivered.push(batch.items);
                return { outcome: 'exported', rejected: 0 };
              },
            },
            { maxItems, maxDelayMs: 5 },
          );
          const counts = sizes.map(() => 0);
          sizes.forEach((n, i) =>
            b.add({ data: traces(n, `i${i}`), items: n, onDone: () => counts[i]++ }),
          );
          await b.close();
          expect(counts.every((c) => c === 1)).toBe(true);
          expect(delivered.reduce((a, x) => a + x, 0)).toBe(sizes.reduce((a, x) => a + x, 0));
          expect(() =>
            b.add({ data: traces(1, 'late'), items: 1, onDone: () => undefined }),
          ).toThrow(/closed/);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('validates its options, listing every problem', () => {
    expect(validateBatcherOptions(DEFAULT_BATCHER_OPTIONS)).toEqual([]);
    expect(
      validateBatcherOptions({ ...DEFAULT_BATCHER_OPTIONS, maxItems: 0, maxInFlight: 1.5 }).map(
        (p) => p.path,
      ),
    ).toEqual(['batcher.maxItems', 'batcher.maxInFlight']);
    expect(() => new SinkBatcher(sink, 'traces', new ManualDelivery(), { maxDelayMs: -1 })).toThrow(
      /batcher\.maxDelayMs/,
    );
  });
});
