/**
 * OTLP/JSON and Zipkin decode/encode throughput on agent-shaped spans (10 attributes, one
 * event, nested values), against baselines measured in the same run:
 * - decode: JSON.parse alone (the floor any JSON decoder pays), then our decoder;
 * - encode: @opentelemetry/otlp-transformer's JsonTraceSerializer (what the OTel JS exporter
 *   runs) from the same spans as SDK ReadableSpans, then our encoder (+ TextEncoder, like it);
 * - zipkin: JSON.parse alone, then the full Zipkin → OTLP conversion.
 * Prints one JSON object per line: name, items_per_s, ns_per_item.
 */
import { SpanKind as ApiSpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { decodeTracesJson, decodeZipkinSpansJson, encodeTracesJson } from '@custodian/otlp';

const SPANS = 2000;

function sdkSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'agent-runner', 'host.name': 'worker-7' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('custodian.agent', '1.4.0');
  const root = tracer.startSpan('agent.run', { kind: ApiSpanKind.SERVER });
  const ctx = trace.setSpan(context.active(), root);
  for (let i = 1; i < SPANS; i++) {
    const span = tracer.startSpan(
      i % 3 === 0 ? 'llm.call' : 'tool.call',
      {
        kind: ApiSpanKind.CLIENT,
        attributes: {
          run_id: 'r-42',
          'llm.model': 'gpt-4o',
          'llm.tokens.prompt': 1200 + i,
          'llm.tokens.completion': 300,
          'llm.temperature': 0.2,
          'prompt.version': 'v17',
          'tool.name': 'search',
          'tool.args': `{"q":"customer ${i} invoice","limit":10}`,
          'gen_ai.system': 'openai',
          retrieved: ['doc-1', 'doc-2', 'doc-3'],
        },
      },
      ctx,
    );
    span.addEvent('first_token', { ttft_ms: 42.5 });
    if (i % 50 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
    span.end();
  }
  root.end();
  return exporter.getFinishedSpans();
}

function zipkinDoc(): string {
  const spans = [];
  for (let i = 1; i <= SPANS; i++) {
    spans.push({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      id: (0x1000 + i).toString(16).padStart(16, '0'),
      parentId: '0000000000001000',
      kind: 'CLIENT',
      name: 'llm.call',
      timestamp: 1700000000000000 + i,
      duration: 900,
      localEndpoint: { serviceName: i % 4 === 0 ? 'tools' : 'agent-runner', ipv4: '10.1.2.3' },
      remoteEndpoint: { serviceName: 'api.openai.com', port: 443 },
      annotations: [{ timestamp: 1700000000000100 + i, value: 'first_token' }],
      tags: {
        'otel.library.name': 'custodian.agent',
        run_id: 'r-42',
        'llm.model': 'gpt-4o',
        'llm.tokens.prompt': String(1200 + i),
        'tool.args': `{"q":"customer ${i} invoice"}`,
        'prompt.version': 'v17',
      },
    });
  }
  return JSON.stringify(spans);
}

function measure(name: string, items: number, run: () => unknown): void {
  for (let i = 0; i < 20; i++) run(); // warm up
  let iterations = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < 1_000_000_000n) {
    run();
    iterations++;
    elapsed = process.hrtime.bigint() - start;
  }
  const ns = Number(elapsed) / (iterations * items);
  console.log(
    JSON.stringify({ name, items_per_s: Math.round(1e9 / ns), ns_per_item: Number(ns.toFixed(1)) }),
  );
}

const spans = sdkSpans();
const bytes = JsonTraceSerializer.serializeRequest(spans) as Uint8Array;
const text = new TextDecoder().decode(bytes);
const model = decodeTracesJson(bytes);
const encoder = new TextEncoder();
const zipkin = zipkinDoc();

measure('decode.baseline.JSON.parse', SPANS, () => JSON.parse(text));
measure('decode.decodeTracesJson(string)', SPANS, () => decodeTracesJson(text));
measure('decode.decodeTracesJson(bytes)', SPANS, () => decodeTracesJson(bytes));
measure('encode.baseline.otlp-transformer.JsonTraceSerializer', SPANS, () =>
  JsonTraceSerializer.serializeRequest(spans),
);
measure('encode.encodeTracesJson+TextEncoder', SPANS, () =>
  encoder.encode(encodeTracesJson(model)),
);
measure('zipkin.baseline.JSON.parse', SPANS, () => JSON.parse(zipkin));
measure('zipkin.decodeZipkinSpansJson', SPANS, () => decodeZipkinSpansJson(zipkin));
