/**
 * The protobuf codec on a realistic 512-span agent-run export: decodeTraces and encodeTraces
 * spans/s, with the OTel JS exporter's own serializer (@opentelemetry/otlp-transformer
 * ProtobufTraceSerializer, from SDK ReadableSpans) as the encode baseline.
 *
 *   node --require ./bench/register.js bench/otlp/codec.bench.ts
 */
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { decodeTraces, encodeTraces } from '@custodian/otlp';
import { agentRunPayload } from './agent-payload';
import { measure } from './harness';

const { spans, bytes } = agentRunPayload();
const n = spans.length;
const decoded = decodeTraces(bytes);
if (Buffer.compare(Buffer.from(encodeTraces(decoded)), Buffer.from(bytes)) !== 0) {
  throw new Error('encodeTraces(decodeTraces(x)) differs from the exporter bytes');
}
console.log(JSON.stringify({ payload: { spans: n, bytes: bytes.length } }));

measure('decodeTraces', n, bytes.length, () => decodeTraces(bytes));
measure('encodeTraces', n, bytes.length, () => encodeTraces(decoded));
measure('baseline: otlp-transformer ProtobufTraceSerializer (encode)', n, bytes.length, () =>
  ProtobufTraceSerializer.serializeRequest(spans),
);
