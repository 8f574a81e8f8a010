/**
 * A real OpenTelemetry client in its own process: builds agent-shaped telemetry with the JS SDK
 * and sends it with one of the official OTLP exporters, then prints one JSON line with the
 * export result and what it sent. Run with `node --require ./bench/register.js` (the exporters
 * load their transports with dynamic import(), which Jest's module sandbox cannot do).
 *
 *   otel-send.ts <signal> <http-proto|http-json|grpc> <endpoint> <api-key|-> <count> <service> [fail]
 *
 * traces: <count> agent runs (4 spans each). logs: <count> log records, half of them inside a
 * run's trace. metrics: a counter and a histogram with <count> attribute sets.
 */
import { Metadata } from '@grpc/grpc-js';
import { context, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as LogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as MetricsJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { agentRuns } from './agent-trace';

type Exporter = {
  export(items: never, cb: (r: ExportResult) => void): void;
  shutdown(): Promise<void>;
};

class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function exporterFor(signal: string, protocol: string, endpoint: string, auth?: string): Exporter {
  const bearer: Record<string, string> = auth ? { authorization: `Bearer ${auth}` } : {};
  const headerKey: Record<string, string> = auth ? { 'x-custodian-api-key': auth } : {};
  const metadata = new Metadata();
  if (auth) metadata.set('authorization', `Bearer ${auth}`);
  const url = `${endpoint}/v1/${signal}`;
  const make: Record<string, Record<string, () => unknown>> = {
    traces: {
      'http-proto': () => new TraceProto({ url, headers: bearer }),
      'http-json': () => new TraceJson({ url, headers: headerKey }),
      grpc: () => new TraceGrpc({ url: endpoint, metadata, timeoutMillis: 5000 }),
    },
    logs: {
      'http-proto': () => new LogsProto({ url, headers: bearer }),
      'http-json': () => new LogsJson({ url, headers: headerKey }),
      grpc: () => new LogsGrpc({ url: endpoint, metadata, timeoutMillis: 5000 }),
    },
    metrics: {
      'http-proto': () => new MetricsProto({ url, headers: bearer }),
      'http-json': () => new MetricsJson({ url, headers: headerKey }),
      grpc: () => new MetricsGrpc({ url: endpoint, metadata, timeoutMillis: 5000 }),
    },
  };
  return make[signal][protocol]() as Exporter;
}

async function build(
  signal: string,
  count: number,
  service: string,
  fail: boolean,
): Promise<{ items: unknown; sent: unknown[] }> {
  const resource = resourceFromAttributes({ 'service.name': service });
  if (signal === 'traces') {
    const spans = agentRuns(count, { service, failTool: fail });
    return {
      items: spans,
      sent: spans.map((s) => ({
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
      })),
    };
  }
  if (signal === 'logs') {
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({
      resource,
      processors: [new SimpleLogRecordProcessor({ exporter: memory })],
    });
    const logger = provider.getLogger('custodian-e2e');
    const runs = agentRuns(Math.ceil(count / 2), { service });
    for (let i = 0; i < count; i++) {
      const span = i % 2 === 0 ? runs[i / 2] : undefined;
      const ctx = span
        ? trace.setSpanContext(context.active(), span.spanContext())
        : context.active();
      logger.emit({
        body: `step ${i}`,
        severityNumber: SeverityNumber.INFO,
        attributes: { i },
        context: ctx,
      });
    }
    const records = memory.getFinishedLogRecords();
    return {
      items: records,
      sent: records.map((r) => ({ body: r.body, traceId: r.spanContext?.traceId ?? '' })),
    };
  }
  const reader = new CollectingReader();
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter('custodian-e2e');
  const calls = meter.createCounter('agent.tool.calls');
  const latency = meter.createHistogram('agent.llm.latency', { unit: 'ms' });
  for (let i = 0; i < count; i++) {
    calls.add(i + 1, { tool: `tool-${i}` });
    latency.record(100 + i, { model: `m-${i}` });
  }
  const { resourceMetrics } = await reader.collect();
  return { items: resourceMetrics, sent: [{ dataPoints: count * 2 }] };
}

async function main(): Promise<void> {
  const [signal, protocol, endpoint, key, count, service, fail] = process.argv.slice(2);
  const auth = key && key !== '-' ? key : undefined;
  const { items, sent } = await build(signal, Number(count), service, fail === 'fail');
  const exporter = exporterFor(signal, protocol, endpoint, auth);
  const result = await new Promise<ExportResult>((resolve) =>
    exporter.export(items as never, resolve),
  );
  await exporter.shutdown();
  process.stdout.write(
    `${JSON.stringify({ code: result.code, error: result.error ? String(result.error.message ?? result.error) : undefined, sent })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
