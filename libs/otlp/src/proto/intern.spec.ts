import fc from 'fast-check';
import * as arb from './arbitraries';
import { OtlpDecodeError } from './errors';
import { StringInterner } from './reader';
import { decodeTraces, encodeTraces } from './traces';
import { id, ld, rawSpan, rawTraces } from './wire-builder';

// The decoder's short-string interner (issue #5): it must change identities, never values.
describe('StringInterner in the decoder', () => {
  it('decodes exactly what the un-interned decoder does, also when slots collide', () => {
    // 2 slots: nearly every short string collides with another and evicts it.
    const tiny = new StringInterner(2);
    const shared = new StringInterner();
    fc.assert(
      fc.property(fc.array(arb.traces, { minLength: 1, maxLength: 4 }), (batch) => {
        for (const data of batch) {
          const bytes = encodeTraces(data);
          const plain = decodeTraces(bytes, { interner: null });
          expect(plain).toEqual(data);
          expect(decodeTraces(bytes, { interner: tiny })).toEqual(plain);
          expect(decodeTraces(bytes, { interner: shared })).toEqual(plain);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps keys and names in its table but never attribute values, and tells apart names of equal length', () => {
    const interner = new StringInterner(16);
    const data = {
      resourceSpans: [
        {
          resource: undefined,
          scopeSpans: [
            {
              scope: undefined,
              spans: [0, 1].map((i) => ({
                traceId: new Uint8Array(16).fill(1),
                spanId: new Uint8Array(8).fill(i + 1),
                traceState: '',
                parentSpanId: new Uint8Array(0),
                flags: 0,
                name: i ? 'chat' : 'chas',
                kind: 1,
                startTimeUnixNano: 1n,
                endTimeUnixNano: 2n,
                attributes: [
                  { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
                  { key: 'gen_ai.usage.output_tokens.total.x', value: { intValue: 3n } },
                ],
                droppedAttributesCount: 0,
                events: [],
                droppedEventsCount: 0,
                links: [],
                droppedLinksCount: 0,
                status: undefined,
              })),
              schemaUrl: '',
            },
          ],
          schemaUrl: '',
        },
      ],
    };
    const bytes = encodeTraces(data);
    const [a, b] = decodeTraces(bytes, { interner }).resourceSpans[0].scopeSpans[0].spans;
    const [c] = decodeTraces(bytes, { interner }).resourceSpans[0].scopeSpans[0].spans;
    expect([a.name, b.name]).toEqual(['chas', 'chat']);
    expect(interner.strings).toContain('gen_ai.request.model');
    expect(interner.strings).toContain('chat');
    // a short value (it could be a password) does not outlive its request in the table
    expect(interner.strings).not.toContain('gpt-4o');
    expect(interner.strings).toContain('gen_ai.usage.output_tokens.total.x');
    expect(c.name).toBe('chas');
  });

  it('still rejects invalid UTF-8 in a short string', () => {
    const bad = rawTraces(rawSpan(id(1), id(2, 8), ld(5, Uint8Array.of(0x61, 0xc3))));
    expect(() => decodeTraces(bad, { interner: new StringInterner() })).toThrow(OtlpDecodeError);
  });

  it('decodes strings of every length around the short/long boundary, ASCII or not', () => {
    const long = fc.oneof(
      fc.string({ minLength: 0, maxLength: 300 }),
      fc.string({ unit: 'binary', minLength: 0, maxLength: 300 }),
    );
    fc.assert(
      fc.property(arb.span, long, long, (span, name, value) => {
        span.name = name;
        span.attributes.push({ key: name, value: { stringValue: value } });
        const data = {
          resourceSpans: [
            {
              resource: undefined,
              scopeSpans: [{ scope: undefined, spans: [span], schemaUrl: value }],
              schemaUrl: '',
            },
          ],
        };
        const bytes = encodeTraces(data);
        expect(decodeTraces(bytes)).toEqual(data);
        expect(decodeTraces(bytes, { interner: null })).toEqual(data);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects invalid UTF-8 in a long string (the native ASCII check path)', () => {
    const name = [...Buffer.from('x'.repeat(40)), 0xc3, 0x28, ...Buffer.from('y'.repeat(40))];
    const bad = rawTraces(rawSpan(id(1), id(2, 8), ld(5, Uint8Array.from(name))));
    expect(() => decodeTraces(bad)).toThrow(/invalid UTF-8 in Span.name/);
  });

  it('refuses a table size that is not a power of two', () => {
    expect(() => new StringInterner(3)).toThrow(RangeError);
  });
});
