/**
 * The benchmarks' downstream OTLP/HTTP sink, run as its own process so it never shares an event
 * loop with the system under test or the load generator: it accepts POST /v1/traces (protobuf,
 * optionally gzip), answers 200 at once, then decodes the body to count spans and remember, per
 * trace id, when the sink first saw it, the earliest span start (the generator's clock, same
 * machine), the service, the span count, whether a span carried status ERROR, and whether any
 * string attribute still held one of the known secrets (a redaction leak). Both Custodian's
 * otlphttp exporter and the Collector's otlphttp exporter deliver here, so both systems are
 * measured against the same receiver.
 *
 * Control (JSON): GET /stats → totals; GET /traces → [traceId, record][]; POST /reset.
 * Usage: node --require ./bench/register.js bench/compare/otlp-sink.ts [port]
 * Prints `{"listening":<port>}` on stdout once it accepts connections.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { decodeTraces, type AnyValue, type KeyValue } from '@custodian/otlp';

/** What the sink knows about one trace id. */
export interface SinkTrace {
  service: string;
  spans: number;
  /** Date.now() when the first span of this trace arrived at the sink. */
  firstReceiptMs: number;
  /** Date.now() when the last span of this trace arrived. */
  lastReceiptMs: number;
  /** Earliest span start time in the trace, unix ms (set by the generator). */
  minStartMs: number;
  /** Some span had status ERROR. */
  error: boolean;
  /** Some string value still contained a secret the policies redact. */
  leaked: boolean;
}

export interface SinkStats {
  requests: number;
  spans: number;
  traces: number;
  bytes: number;
  undecodable: number;
  leakedSpans: number;
  firstReceiptMs: number;
  lastReceiptMs: number;
}

/** Literal secrets the load carries; after redaction none may reach the sink. */
export const PLANTED_SECRETS = ['jane@example.com', 'sk-proj-abc123def456ghi789'];

function leaks(v: AnyValue | undefined): boolean {
  if (!v) return false;
  if (v.stringValue !== undefined) return PLANTED_SECRETS.some((s) => v.stringValue!.includes(s));
  if (v.arrayValue) return v.arrayValue.values.some(leaks);
  if (v.kvlistValue) return v.kvlistValue.values.some((kv) => leaks(kv.value));
  return false;
}

function anyLeak(attrs: readonly KeyValue[]): boolean {
  for (const a of attrs) if (leaks(a.value)) return true;
  return false;
}

function main(): void {
  const port = Number(process.argv[2] ?? '0');
  let traces = new Map<string, SinkTrace>();
  const fresh = (): SinkStats => ({
    requests: 0,
    spans: 0,
    traces: 0,
    bytes: 0,
    undecodable: 0,
    leakedSpans: 0,
    firstReceiptMs: 0,
    lastReceiptMs: 0,
  });
  let stats = fresh();

  const ingest = (body: Buffer, gzip: boolean): void => {
    const now = Date.now();
    stats.requests++;
    stats.bytes += body.length;
    if (!stats.firstReceiptMs) stats.firstReceiptMs = now;
    stats.lastReceiptMs = now;
    let data;
    try {
      data = decodeTraces(gzip ? gunzipSync(body) : body);
    } catch {
      stats.undecodable++;
      return;
    }
    for (const rs of data.resourceSpans) {
      const svc = rs.resource?.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
      const resourceLeak = anyLeak(rs.resource?.attributes ?? []);
      for (const ss of rs.scopeSpans) {
        for (const span of ss.spans) {
          stats.spans++;
          const id = Buffer.from(span.traceId).toString('hex');
          const startMs = Number(span.startTimeUnixNano / 1_000_000n);
          const leaked = resourceLeak || anyLeak(span.attributes);
          if (leaked) stats.leakedSpans++;
          let t = traces.get(id);
          if (!t) {
            t = {
              service: svc ?? '',
              spans: 0,
              firstReceiptMs: now,
              lastReceiptMs: now,
              minStartMs: startMs,
              error: false,
              leaked: false,
            };
            traces.set(id, t);
          }
          t.spans++;
          t.lastReceiptMs = now;
          if (startMs > 0 && startMs < t.minStartMs) t.minStartMs = startMs;
          if (span.status?.code === 2) t.error = true;
          if (leaked) t.leaked = true;
        }
      }
    }
    stats.traces = traces.size;
  };

  const json = (res: ServerResponse, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json' }).end(text);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/stats') return json(res, stats);
    if (req.method === 'GET' && req.url === '/traces') return json(res, [...traces.entries()]);
    if (req.method === 'POST' && req.url === '/reset') {
      traces = new Map();
      stats = fresh();
      return json(res, { ok: true });
    }
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/')) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // An empty ExportTraceServiceResponse: full success.
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end();
      if (req.url === '/v1/traces')
        ingest(Buffer.concat(chunks), req.headers['content-encoding'] === 'gzip');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => {
    const { port: bound } = server.address() as { port: number };
    process.stdout.write(`${JSON.stringify({ listening: bound })}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

if (require.main === module) main();
