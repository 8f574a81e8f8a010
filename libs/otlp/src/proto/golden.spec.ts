/**
 * Golden wire files (testdata/proto/*.bin): OTLP/protobuf requests as the OTel JS exporters
 * serialize them, with their decoded form (*.model.json, see golden-json.ts) next to them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { toGoldenJson } from './golden-json';
import { decodeLogs, encodeLogs } from './logs';
import { decodeMetrics, encodeMetrics } from './metrics';
import { goldenSpans, sdkLogRecords, sdkResourceMetrics } from './sdk-fixtures';
import { splitLogs } from './split-logs';
import { splitTraces } from './split-traces';
import { decodeTraces, encodeTraces } from './traces';

const dir = join(__dirname, '../../testdata/proto');
const bin = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
/** Compared parsed, so the files may be formatted by prettier like the rest of the repo. */
const model = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const golden = (value: unknown): unknown => JSON.parse(toGoldenJson(value));

describe('golden OTLP/protobuf files', () => {
  it('traces.bin decodes to traces.model.json and re-encodes to the same bytes', () => {
    const bytes = bin('traces.bin');
    const data = decodeTraces(bytes);
    expect(golden(data)).toEqual(model('traces.model.json'));
    expect(encodeTraces(data)).toEqual(bytes);
    const [llm, agent] = data.resourceSpans[0].scopeSpans;
    expect(agent.scope?.name).toBe('agent');
    expect(agent.schemaUrl).toBe('https://opentelemetry.io/schemas/1.26.0');
    expect(llm.spans[0].status).toEqual({ code: 2, message: 'rate limited' });
    expect(llm.spans[0].startTimeUnixNano).toBe(1_760_000_000_010_000_007n);
  });

  it('logs.bin decodes to logs.model.json and re-encodes to the same bytes', () => {
    const bytes = bin('logs.bin');
    const data = decodeLogs(bytes);
    expect(golden(data)).toEqual(model('logs.model.json'));
    expect(encodeLogs(data)).toEqual(bytes);
  });

  it('metrics.bin decodes to metrics.model.json and re-encodes to the same bytes', () => {
    const bytes = bin('metrics.bin');
    const data = decodeMetrics(bytes);
    expect(golden(data)).toEqual(model('metrics.model.json'));
    expect(encodeMetrics(data)).toEqual(bytes);
  });

  it('the OTel JS exporter still produces exactly the golden bytes from the same SDK data', async () => {
    expect(ProtobufTraceSerializer.serializeRequest(goldenSpans())).toEqual(bin('traces.bin'));
    expect(ProtobufLogsSerializer.serializeRequest(sdkLogRecords())).toEqual(bin('logs.bin'));
    expect(ProtobufMetricsSerializer.serializeRequest(await sdkResourceMetrics())).toEqual(
      bin('metrics.bin'),
    );
  });

  it('splitting a golden request into one partition returns it unchanged', () => {
    expect(splitTraces(bin('traces.bin'), { partitions: 1 }).parts[0].bytes).toEqual(
      bin('traces.bin'),
    );
    expect(
      splitLogs(bin('logs.bin'), { partitions: 1, fallbackPartition: 0 }).parts[0].bytes,
    ).toEqual(bin('logs.bin'));
  });
});
