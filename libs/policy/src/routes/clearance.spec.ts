import type { TracesData } from '@custodian/otlp';
import { RESTRICTED_KEYS_ATTRIBUTE } from '../redaction';
import { applySinkClearance, sinkClearedForRestricted } from './clearance';

function data(): TracesData {
  return {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId: new Uint8Array(16).fill(1),
                spanId: new Uint8Array(8).fill(2),
                traceState: '',
                parentSpanId: new Uint8Array(0),
                flags: 0,
                name: 'llm',
                kind: 1,
                startTimeUnixNano: 1n,
                endTimeUnixNano: 2n,
                attributes: [
                  { key: 'gen_ai.prompt', value: { stringValue: 'secret prompt' } },
                  {
                    key: RESTRICTED_KEYS_ATTRIBUTE,
                    value: { arrayValue: { values: [{ stringValue: 'gen_ai.prompt' }] } },
                  },
                ],
                droppedAttributesCount: 0,
                events: [],
                droppedEventsCount: 0,
                links: [],
                droppedLinksCount: 0,
              },
            ],
            schemaUrl: '',
          },
        ],
        schemaUrl: '',
      },
    ],
  };
}

const prompt = (d: TracesData) =>
  d.resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.stringValue;

describe('sink clearance', () => {
  it('clears the store by nature and other kinds only by their flag', () => {
    expect(sinkClearedForRestricted({ kind: 'store', clearedForRestricted: false })).toBe(true);
    expect(sinkClearedForRestricted({ kind: 'kafka', clearedForRestricted: false })).toBe(false);
    expect(sinkClearedForRestricted({ kind: 'kafka', clearedForRestricted: true })).toBe(true);
  });

  it('replaces restricted values for an uncleared sink even when the route allows them', () => {
    const input = data();
    const out = applySinkClearance(
      { restrictedFields: true, data: input },
      { kind: 'otlphttp', clearedForRestricted: false },
    );
    expect(out.withheld).toBe(true);
    expect(out.restrictedFields).toBe(false);
    expect(prompt(out.data)).toBe('[RESTRICTED]');
    // Copy-on-write: the same batch may go to a cleared sink too.
    expect(prompt(input)).toBe('secret prompt');
  });

  it('keeps them when route and sink both allow, and leaves a stripped share alone', () => {
    const input = data();
    const both = applySinkClearance(
      { restrictedFields: true, data: input },
      { kind: 'otlphttp', clearedForRestricted: true },
    );
    expect(both).toEqual({ restrictedFields: true, data: input, withheld: false });
    const routeSaysNo = applySinkClearance(
      { restrictedFields: false, data: input },
      { kind: 'otlphttp', clearedForRestricted: false },
    );
    expect(routeSaysNo).toEqual({ restrictedFields: false, data: input, withheld: false });
  });
});
