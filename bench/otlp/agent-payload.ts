/**
 * A realistic agent-run export, produced by the real OTel JS SDK and serialized by
 * @opentelemetry/otlp-transformer (the exact bytes the OTLP/protobuf exporter sends): 8 agent
 * runs (one trace each) × 64 spans = 512 spans, 10-20 attributes per span (run_id, tool.name,
 * llm.model, prompt.version, gen_ai.* …), LLM spans carrying a few KB of prompt and completion
 * text, tool spans carrying JSON arguments, some events and links.
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

const WORDS =
  'the agent retrieves context from the vector store then plans tool calls and summarises results for the user'.split(
    ' ',
  );

function text(bytes: number, seed: number): string {
  let s = '';
  for (let i = seed; s.length < bytes; i++) s += WORDS[(i * 7) % WORDS.length] + ' ';
  return s.slice(0, bytes);
}

export function agentRunSpans(runs = 8, spansPerRun = 64): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'support-agent',
      'service.version': '2.3.1',
      'deployment.environment': 'prod',
      'telemetry.sdk.language': 'nodejs',
      'host.name': 'agent-7f9c',
    }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const agent = provider.getTracer('agent-runtime', '2.3.1');
  const llm = provider.getTracer('gen_ai.openai', '0.9.0');
  const tools = provider.getTracer('agent-tools', '1.0.0');
  for (let r = 0; r < runs; r++) {
    const root = agent.startSpan('agent.run', {
      kind: SpanKind.SERVER,
      attributes: {
        run_id: `run-${r}`,
        'agent.name': 'support',
        'user.tier': 'pro',
        'prompt.version': 12,
      },
    });
    const ctx = trace.setSpan(context.active(), root);
    for (let i = 1; i < spansPerRun; i++) {
      const common = {
        run_id: `run-${r}`,
        step: i,
        'agent.name': 'support',
        'prompt.version': 12,
        'session.id': `sess-${r * 31}`,
        'tenant.region': 'eu-west-1',
        retry: i % 5 === 0,
        'latency.ms': 12.5 + i,
      };
      let span;
      if (i % 4 === 1) {
        span = llm.startSpan(
          'chat gpt-4o',
          {
            kind: SpanKind.CLIENT,
            attributes: {
              ...common,
              'llm.model': 'gpt-4o-2024-08-06',
              'gen_ai.system': 'openai',
              'gen_ai.request.model': 'gpt-4o',
              'gen_ai.request.temperature': 0.2,
              'gen_ai.usage.input_tokens': 1800 + i,
              'gen_ai.usage.output_tokens': 320,
              'gen_ai.response.finish_reasons': ['stop'],
              'gen_ai.prompt': text(3000, i),
              'gen_ai.completion': text(900, i + 3),
            },
          },
          ctx,
        );
        span.addEvent('gen_ai.content.prompt', { 'gen_ai.prompt.role': 'system' });
      } else if (i % 4 === 2) {
        span = tools.startSpan(
          'tool.call',
          {
            kind: SpanKind.INTERNAL,
            attributes: {
              ...common,
              'tool.name': i % 8 === 2 ? 'search_kb' : 'create_ticket',
              'tool.arguments': JSON.stringify({
                query: text(120, i),
                top_k: 5,
                filters: { lang: 'en' },
              }),
              'tool.result.count': 5,
            },
          },
          ctx,
        );
      } else {
        span = agent.startSpan(
          i % 4 === 3 ? 'rag.retrieve' : 'agent.plan',
          {
            attributes: {
              ...common,
              'rag.index': 'kb-v3',
              'rag.top_k': 5,
              'rag.doc_ids': ['d1', 'd7', 'd9', 'd12', 'd40'],
            },
            links: i % 16 === 0 ? [{ context: root.spanContext() }] : [],
          },
          ctx,
        );
      }
      span.end();
    }
    root.end();
  }
  return exporter.getFinishedSpans();
}

export function agentRunPayload(): { spans: ReadableSpan[]; bytes: Uint8Array } {
  const spans = agentRunSpans();
  return { spans, bytes: ProtobufTraceSerializer.serializeRequest(spans)! };
}
