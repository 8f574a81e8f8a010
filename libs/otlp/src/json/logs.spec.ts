// Specs read their golden files; the no-I/O rule guards the library's runtime code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { hexToSpanId, hexToTraceId } from './hex';
import { decodeLogsJson, encodeLogsJson } from './logs';
import { logsArb } from './model-arbitraries';

const testdata = (name: string) =>
  readFileSync(join(__dirname, '../../testdata/json', name), 'utf8');

describe('OTLP/JSON logs', () => {
  it('decodes every field of the example document', () => {
    const data = decodeLogsJson(testdata('logs.json'));
    const sl = data.resourceLogs[0].scopeLogs[0];
    expect(data.resourceLogs[0].resource?.attributes).toEqual([
      { key: 'service.name', value: { stringValue: 'agent-runner' } },
    ]);
    expect(sl.scope).toMatchObject({ name: 'custodian.agent.logger', version: '1.0.0' });
    expect(sl.schemaUrl).toBe('https://opentelemetry.io/schemas/1.26.0');
    expect(sl.logRecords[0]).toEqual({
      timeUnixNano: 1544712660300000000n,
      observedTimeUnixNano: 1544712660300000001n,
      severityNumber: 10,
      severityText: 'Information',
      traceId: hexToTraceId('5b8efff798038103d269b633813fc60c'),
      spanId: hexToSpanId('eee19b7ec3c1b174'),
      flags: 1,
      eventName: 'tool.invoked',
      body: { stringValue: 'tool search called with query=secret' },
      attributes: [
        { key: 'tool.name', value: { stringValue: 'search' } },
        {
          key: 'tool.args',
          value: {
            kvlistValue: { values: [{ key: 'q', value: { stringValue: 'alice@example.com' } }] },
          },
        },
      ],
      droppedAttributesCount: 4,
    });
    const second = sl.logRecords[1];
    expect(second.severityNumber).toBe(18); // SEVERITY_NUMBER_ERROR2
    expect(second.timeUnixNano).toBe(1544712660400000000n);
    expect(second.traceId).toHaveLength(0);
    expect(second.body).toEqual({
      kvlistValue: { values: [{ key: 'error', value: { stringValue: 'boom' } }] },
    });
  });

  it('accepts snake_case and every severity name', () => {
    const data = decodeLogsJson(
      JSON.stringify({
        resource_logs: [
          {
            scope_logs: [
              {
                log_records: [
                  { severity_number: 'SEVERITY_NUMBER_FATAL4', trace_id: 'AB'.repeat(16) },
                  { severity_number: 'SEVERITY_NUMBER_TRACE' },
                  { severity_number: 'SEVERITY_NUMBER_INFO' },
                ],
              },
            ],
          },
        ],
      }),
    );
    const records = data.resourceLogs[0].scopeLogs[0].logRecords;
    expect(records.map((r) => r.severityNumber)).toEqual([24, 1, 9]);
    expect(records[0].traceId).toEqual(new Uint8Array(16).fill(0xab));
  });

  it('rejects a bad field with its path', () => {
    const doc = {
      resourceLogs: [{ scopeLogs: [{ logRecords: [{}, { spanId: 'xyz' }] }] }],
    };
    expect(() => decodeLogsJson(JSON.stringify(doc))).toThrow(
      'resourceLogs[0].scopeLogs[0].logRecords[1].spanId: expected 16 hex characters',
    );
    const body = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: 'text' }] }] }] };
    expect(() => decodeLogsJson(JSON.stringify(body))).toThrow(
      'resourceLogs[0].scopeLogs[0].logRecords[0].body: expected an object',
    );
  });

  it('matches the golden encoding', () => {
    const encoded = encodeLogsJson(decodeLogsJson(testdata('logs.json')));
    expect(JSON.parse(encoded)).toEqual(JSON.parse(testdata('logs.golden.json')));
  });

  it('round-trips any logs (model → JSON → model, property)', () => {
    fc.assert(
      fc.property(logsArb, (data) => {
        expect(decodeLogsJson(encodeLogsJson(data))).toEqual(data);
      }),
      { numRuns: 300 },
    );
  });
});
