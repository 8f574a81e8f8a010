/**
 * A real OpenTelemetry client in its own process: builds agent runs with the JS SDK and sends
 * them with one of the official OTLP exporters, then prints one JSON line with the export
 * result and the ids it sent. Run with `node --require ./bench/register.js` (the exporters
 * load their transports with dynamic import(), which Jest's module sandbox cannot do).
 *
 *   otel-send.ts <http-proto|http-json|grpc> <endpoint> <api-key|-> <runs> <service> [fail]
 */
import { Metadata } from '@grpc/grpc-js';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import type { ExportResult } from '@opentelemetry/core';
import { agentRuns } from './agent-trace';

async function main(): Promise<void> {
  const [protocol, endpoint, key, runs, service, fail] = process.argv.slice(2);
  const auth = key && key !== '-' ? key : undefined;
  const spans = agentRuns(Number(runs), { service, failTool: fail === 'fail' });
  let exporter: ProtoExporter | JsonExporter | GrpcExporter;
  if (protocol === 'http-proto') {
    exporter = new ProtoExporter({
      url: `${endpoint}/v1/traces`,
      headers: auth ? { authorization: `Bearer ${auth}` } : {},
    });
  } else if (protocol === 'http-json') {
    exporter = new JsonExporter({
      url: `${endpoint}/v1/traces`,
      headers: auth ? { 'x-custodian-api-key': auth } : {},
    });
  } else {
    const metadata = new Metadata();
    if (auth) metadata.set('authorization', `Bearer ${auth}`);
    exporter = new GrpcExporter({ url: endpoint, metadata, timeoutMillis: 5000 });
  }
  const result = await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
  await exporter.shutdown();
  process.stdout.write(
    `${JSON.stringify({
      code: result.code,
      error: result.error ? String(result.error.message ?? result.error) : undefined,
      spans: spans.map((s) => ({
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
      })),
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
