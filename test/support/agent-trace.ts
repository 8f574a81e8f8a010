/**
 * Agent-shaped traces made with the real OpenTelemetry JS SDK: one run = one trace, with LLM
 * calls, tool calls and a retrieval under the run span, GenAI attributes, a prompt carrying a
 * secret, and (optionally) a failed tool call.
 */
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';

export function agentRuns(
  runs: number,
  opts: { failTool?: boolean; service?: string } = {},
): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': opts.service ?? 'support-agent',
      'deployment.environment': 'test',
    }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('custodian-e2e', '1.0.0');
  for (let r = 0; r < runs; r++) {
    const run = tracer.startSpan('agent.run', {
      attributes: { run_id: `run-${r}`, 'prompt.version': 'v7' },
    });
    const ctx = trace.setSpan(context.active(), run);
    const llm = tracer.startSpan(
      'chat gpt-4o',
      {
        attributes: {
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.usage.input_tokens': 1234,
          'gen_ai.input.messages': JSON.stringify([
            { role: 'user', content: 'my email is jane@example.com, key sk-proj-abc123' },
          ]),
        },
      },
      ctx,
    );
    llm.addEvent('gen_ai.content.prompt', { 'gen_ai.prompt': 'hello' });
    llm.end();
    const tool = tracer.startSpan(
      'execute_tool search',
      { attributes: { 'gen_ai.tool.name': 'search', 'tool.name': 'search' } },
      ctx,
    );
    if (opts.failTool) tool.setStatus({ code: SpanStatusCode.ERROR, message: 'tool timed out' });
    tool.end();
    const rag = tracer.startSpan(
      'retrieve',
      { attributes: { 'retrieval.documents': ['a', 'b'], 'retrieval.top_k': 5 } },
      ctx,
    );
    rag.end();
    run.end();
  }
  const spans = memory.getFinishedSpans();
  void provider.shutdown();
  return spans;
}
