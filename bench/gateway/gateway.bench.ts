/**
 * Gateway throughput and latency (issue #3's benchmark): OTLP/HTTP protobuf and OTLP/gRPC,
 * 100 spans per request, ~15 attributes per span, real Kafka with acks=all, the gateway pinned
 * to one core (taskset). For each protocol:
 *   1. max: closed loop with enough concurrency to saturate the gateway → sustained spans/s,
 *      CPU seconds per million spans (from /proc), peak RSS;
 *   2. half: open loop at half the max rate → p50/p99 request latency, and for the gateway
 *      the event-loop delay over that phase (p99 and max, from the ops port's
 *      nodejs_eventloop_lag_* gauges, which prom-client resets at each scrape): what holds the
 *      loop — a long synchronous step, GC — shows there before it shows in p99.
 * Baseline in the same run: a bare node:http / grpc-js server on the same core that reads the
 * request and answers 200 (no auth, no split, no Kafka): the cost of the transport alone; and
 * the gRPC framing alone on node:http2 (baseline-grpc-node-http2), which is the gateway's gRPC
 * transport (apps/gateway/src/receivers/grpc-unary-server.ts).
 *
 * Run: npm run build && bash deploy/local/up.sh && \
 *      node --require ./bench/register.js bench/gateway/gateway.bench.ts [seconds]
 * BENCH_DIST=<dir> runs the gateway built into another directory (default dist).
 * Prints one JSON object per line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { Client, Metadata, credentials } from '@grpc/grpc-js';
import { mintApiKey } from '@custodian/auth';
import { ApiKeyRepository, TenantRepository, createPrismaClient } from '@custodian/db';
import { EVENT_LOOP_MONITOR_MS } from '@custodian/ops';
import { encodeTraces, type KeyValue, type Span, type TracesData } from '@custodian/otlp';

const ROOT = join(__dirname, '..', '..');
const SECONDS = Number(process.argv[2] ?? '10');
const CORE = process.env.BENCH_GATEWAY_CORE ?? '1';
const PEPPER = 'bench-gateway-pepper-0123456789abcdef0123456789';
const SPANS_PER_REQUEST = 100;
const GRPC_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function attr(key: string, v: string | number | boolean): KeyValue {
  if (typeof v === 'string') return { key, value: { stringValue: v } };
  if (typeof v === 'boolean') return { key, value: { boolValue: v } };
  return { key, value: { intValue: BigInt(v) } };
}

/** 100 agent-shaped spans over 10 runs, ~15 attributes each. */
function payload(): Uint8Array {
  const spans: Span[] = [];
  const now = BigInt(Date.now()) * 1_000_000n;
  for (let run = 0; run < 10; run++) {
    const traceId = randomBytes(16);
    for (let i = 0; i < 10; i++) {
      spans.push({
        traceId,
        spanId: randomBytes(8),
        traceState: '',
        parentSpanId: i === 0 ? new Uint8Array(0) : randomBytes(8),
        flags: 1,
        name: i === 0 ? 'agent.run' : i % 3 === 0 ? 'execute_tool search' : 'chat gpt-4o',
        kind: i === 0 ? 2 : 3,
        startTimeUnixNano: now,
        endTimeUnixNano: now + 1_000_000n * BigInt(i + 1),
        attributes: [
          attr('run_id', `run-${run}`),
          attr('gen_ai.system', 'openai'),
          attr('gen_ai.request.model', 'gpt-4o'),
          attr('gen_ai.response.model', 'gpt-4o-2024-08-06'),
          attr('gen_ai.usage.input_tokens', 1200 + i),
          attr('gen_ai.usage.output_tokens', 300 + i),
          attr('gen_ai.operation.name', 'chat'),
          attr('tool.name', 'search'),
          attr('prompt.version', 'v7'),
          attr('http.request.method', 'POST'),
          attr('server.address', 'api.openai.com'),
          attr('server.port', 443),
          attr('http.response.status_code', 200),
          attr('retry', false),
          attr(
            'gen_ai.input.messages',
            `[{"role":"user","content":"question ${i} about order ${run}"}]`,
          ),
        ],
        droppedAttributesCount: 0,
        events: [],
        droppedEventsCount: 0,
        links: [],
        droppedLinksCount: 0,
        status: { code: 0, message: '' },
      });
    }
  }
  const data: TracesData = {
    resourceSpans: [
      {
        resource: {
          attributes: [
            attr('service.name', 'support-agent'),
            attr('deployment.environment', 'bench'),
          ],
          droppedAttributesCount: 0,
        },
        scopeSpans: [
          {
            scope: { name: 'bench', version: '1', attributes: [], droppedAttributesCount: 0 },
            spans,
            schemaUrl: '',
          },
        ],
        schemaUrl: '',
      },
    ],
  };
  return encodeTraces(data);
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, clock ticks
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

type Send = (body: Uint8Array) => Promise<number>;
/**
 * Failed requests by answer: the HTTP status, or for gRPC 500 + the status code (514 is
 * UNAVAILABLE, 508 RESOURCE_EXHAUSTED).
 */
type Failures = Record<number, number>;

function httpSender(port: number, key: string): Send {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  return (body) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/traces',
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/x-protobuf',
            authorization: `Bearer ${key}`,
            'content-length': body.length,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

function grpcSender(port: number, key: string): Send {
  const clients = Array.from(
    { length: 4 },
    () => new Client(`127.0.0.1:${port}`, credentials.createInsecure()),
  );
  let next = 0;
  const md = new Metadata();
  md.set('authorization', `Bearer ${key}`);
  return (body) =>
    new Promise((resolve) => {
      const c = clients[next++ % clients.length];
      c.makeUnaryRequest(
        GRPC_PATH,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(body),
        md,
        (err) => resolve(err ? 500 + err.code : 200),
      );
    });
}

async function closedLoop(send: Send, bodies: Uint8Array[], concurrency: number, seconds: number) {
  const end = Date.now() + seconds * 1000;
  let ok = 0;
  let failed = 0;
  const failures: Failures = {};
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const status = await send(bodies[i++ % bodies.length]);
        if (status === 200) ok++;
        else {
          failed++;
          failures[status] = (failures[status] ?? 0) + 1;
        }
      }
    }),
  );
  return { ok, failed, failures };
}

async function openLoop(
  send: Send,
  bodies: Uint8Array[],
  requestsPerSecond: number,
  seconds: number,
) {
  const latencies: number[] = [];
  let failed = 0;
  const failures: Failures = {};
  const interval = 1000 / requestsPerSecond;
  const start = performance.now();
  const total = Math.floor(requestsPerSecond * seconds);
  const pending: Promise<void>[] = [];
  const stopAt = start + seconds * 1000;
  let behind = 0;
  for (let n = 0; n < total; n++) {
    const due = start + n * interval;
    // The generator itself cannot keep the offered rate: stop at the wall-clock end and say
    // how far behind it fell, rather than stretching the run.
    if (performance.now() > stopAt) {
      behind = total - n;
      break;
    }
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    pending.push(
      send(bodies[n % bodies.length]).then((status) => {
        if (status === 200) latencies.push(performance.now() - t0);
        else {
          failed++;
          failures[status] = (failures[status] ?? 0) + 1;
        }
      }),
    );
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 100) /
    100;
  return {
    p50: q(0.5),
    p99: q(0.99),
    max: q(1),
    ok: latencies.length,
    failed,
    failures,
    behind,
  };
}

type GcCounts = Record<
  string,
  { count: number; sumMs: number; over10ms: number; over100ms: number }
>;
let gcSeen: GcCounts = {};
let gcNow: GcCounts = {};

/** GC pauses by kind so far (prom-client's nodejs_gc_duration_seconds histogram, cumulative). */
function gcPauses(text: string): GcCounts {
  const out: GcCounts = {};
  const at = (kind: string) => (out[kind] ??= { count: 0, sumMs: 0, over10ms: 0, over100ms: 0 });
  for (const m of text.matchAll(
    /^custodian_process_nodejs_gc_duration_seconds_(bucket|sum|count)\{([^}]*)\} (\S+)$/gm,
  )) {
    const labels = Object.fromEntries(
      [...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
    );
    const g = at(labels.kind ?? 'all');
    const v = Number(m[3]);
    if (m[1] === 'sum') g.sumMs = v * 1000;
    else if (m[1] === 'count') g.count = v;
    else if (labels.le === '0.01') g.over10ms -= v;
    else if (labels.le === '0.1') g.over100ms -= v;
  }
  // over10ms/over100ms hold minus the count at or under the bound; add the total.
  for (const g of Object.values(out)) {
    g.over10ms += g.count;
    g.over100ms += g.count;
  }
  return out;
}

/** GC pauses by kind between the last two scrapes. */
function gcDelta(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [kind, g] of Object.entries(gcNow)) {
    const b = gcSeen[kind] ?? { count: 0, sumMs: 0, over10ms: 0, over100ms: 0 };
    if (g.count === b.count) continue;
    out[kind] =
      `${g.count - b.count} pauses, ${Math.round(g.sumMs - b.sumMs)} ms, ` +
      `${g.over10ms - b.over10ms} over 10 ms, ${g.over100ms - b.over100ms} over 100 ms`;
  }
  return out;
}

type Buckets = Map<number, number>;
const histSeen = new Map<string, Buckets>();
const histNow = new Map<string, Buckets>();

/** A histogram's cumulative bucket counts (upper bound → count), summed over its labels. */
function buckets(text: string, name: string): Buckets {
  const out: Buckets = new Map();
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const le = /le="([^"]*)"/.exec(m[1])?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + Number(m[2]));
  }
  return out;
}

/**
 * The bucket bound at or under which quantile q of the observations since the previous scrape
 * fall ("≤ 25 ms"): Prometheus buckets give an upper bound, not the exact value.
 */
function quantileSince(name: string, q: number): string {
  const now = histNow.get(name);
  if (!now) return 'n/a';
  const before = histSeen.get(name) ?? new Map<number, number>();
  const bounds = [...now.keys()].sort((a, b) => a - b);
  const total = (now.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total <= 0) return 'n/a';
  for (const b of bounds) {
    if ((now.get(b) ?? 0) - (before.get(b) ?? 0) >= q * total)
      return b === Infinity ? `> ${bounds[bounds.length - 2] * 1000} ms` : `≤ ${b * 1000} ms`;
  }
  return 'n/a';
}

/** One gauge of the gateway's ops port (prom-client default metrics), or -1 if absent. */
function gauge(text: string, name: string): number {
  const m = new RegExp(`^custodian_process_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : -1;
}

/**
 * The gateway's event-loop delay since the previous scrape (prom-client resets its histogram
 * at each scrape), in ms beyond the monitor's sampling interval (EVENT_LOOP_MONITOR_MS), and
 * its memory split:
 * V8 heap and Buffer (external) memory, in MB.
 */
async function opsFigures(opsPort: number) {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  gcSeen = gcNow;
  gcNow = gcPauses(text);
  for (const h of ['custodian_gateway_request_seconds', 'custodian_gateway_produce_seconds']) {
    const prev = histNow.get(h);
    if (prev) histSeen.set(h, prev);
    histNow.set(h, buckets(text, h));
  }
  const ms = (name: string) =>
    Math.round(
      (gauge(text, `nodejs_eventloop_lag_${name}_seconds`) * 1000 - EVENT_LOOP_MONITOR_MS) * 100,
    ) / 100;
  const mb = (name: string) => Math.round(gauge(text, name) / 1048576);
  return {
    event_loop_delay_p99_ms: ms('p99'),
    event_loop_delay_max_ms: ms('max'),
    heap_total_mb: mb('nodejs_heap_size_total_bytes'),
    external_mb: mb('nodejs_external_memory_bytes'),
    // where a request's time goes, from the gateway's own histograms: the whole request, and
    // the wait for Kafka to acknowledge its records
    gateway_request_p99: quantileSince('custodian_gateway_request_seconds', 0.99),
    kafka_produce_p50: quantileSince('custodian_gateway_produce_seconds', 0.5),
    kafka_produce_p99: quantileSince('custodian_gateway_produce_seconds', 0.99),
    gc: gcDelta(),
  };
}

async function measure(
  name: string,
  proc: ChildProcess,
  send: Send,
  bodies: Uint8Array[],
  opsPort?: number,
) {
  // Warm up, then find the sustained maximum with a closed loop.
  await closedLoop(send, bodies, 32, 2);
  const cpu0 = cpuSeconds(proc.pid!);
  const t0 = performance.now();
  const max = await closedLoop(send, bodies, 64, SECONDS);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(proc.pid!) - cpu0;
  const spans = max.ok * SPANS_PER_REQUEST;
  const spansPerSec = Math.round(spans / elapsed);
  console.log(
    JSON.stringify({
      bench: 'gateway',
      target: name,
      mode: 'max',
      spans_per_sec: spansPerSec,
      spans_per_sec_per_core: Math.round(spans / cpu),
      requests_ok: max.ok,
      requests_failed: max.failed,
      failures_by_status: max.failures,
      cpu_seconds_per_million_spans: Math.round((cpu / spans) * 1e6 * 100) / 100,
      peak_rss_mb: peakRssMb(proc.pid!),
    }),
  );
  if (opsPort) await opsFigures(opsPort);
  const half = await openLoop(send, bodies, spansPerSec / 2 / SPANS_PER_REQUEST, SECONDS);
  const ops = opsPort ? await opsFigures(opsPort) : {};
  console.log(
    JSON.stringify({
      bench: 'gateway',
      target: name,
      mode: 'half_rate',
      offered_spans_per_sec: Math.round(spansPerSec / 2),
      p50_ms: half.p50,
      p99_ms: half.p99,
      max_ms: half.max,
      ...ops,
      requests_failed: half.failed,
      failures_by_status: half.failures,
      requests_not_sent_generator_behind: half.behind,
      peak_rss_mb: peakRssMb(proc.pid!),
    }),
  );
}

/** The baseline: the transport alone, on the same core. */
const BASELINE = `
const http = require('node:http');
const { Server, ServerCredentials } = require('@grpc/grpc-js');
const [httpPort, grpcPort, h2Port] = process.argv.slice(1).map(Number);
http.createServer((req, res) => { const c = []; req.on('data', (d) => c.push(d)); req.on('end', () => { Buffer.concat(c); res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end(); }); }).listen(httpPort, '127.0.0.1');
const s = new Server({ 'grpc.max_receive_message_length': 4 << 20 });
const id = (b) => b;
s.addService({ Export: { path: '${GRPC_PATH}', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } }, { Export: (call, cb) => cb(null, Buffer.alloc(0)) });
s.bindAsync('127.0.0.1:' + grpcPort, ServerCredentials.createInsecure(), () => {});
// gRPC framing alone on node:http2, the gateway's gRPC transport: read the message, answer an
// empty one with grpc-status 0 in trailers, with the same flow-control windows
const h2 = require('node:http2').createServer({ settings: { initialWindowSize: (4 << 20) + 5 } });
h2.on('session', (ss) => ss.setLocalWindowSize(4 * ((4 << 20) + 5)));
h2.on('stream', (st) => { const c = []; st.on('data', (d) => c.push(d)); st.on('end', () => { Buffer.concat(c); st.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true }); st.once('wantTrailers', () => st.sendTrailers({ 'grpc-status': '0' })); st.end(Buffer.alloc(5)); }); });
h2.listen(h2Port, '127.0.0.1');
`;

async function waitHttp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(url);
      if (r.status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered 200`);
}

async function main(): Promise<void> {
  const db = createPrismaClient(
    process.env.DATABASE_URL ?? 'postgresql://custodian:custodian@127.0.0.1:5432/custodian',
  );
  const tenant = await new TenantRepository(db).create({
    slug: `bench-${randomBytes(3).toString('hex')}`,
    name: 'bench',
  });
  await db.tenant.update({
    where: { id: tenant.id },
    data: { limits: { spansPerSecond: 100_000_000 } },
  });
  const minted = mintApiKey(PEPPER);
  await new ApiKeyRepository(db).create(tenant.id, {
    id: minted.id,
    name: 'bench',
    secretHash: minted.secretHash,
  });
  await db.$disconnect();
  const bodies = Array.from({ length: 64 }, payload);
  if (!process.env.BENCH_QUIET_HEADER)
    console.log(
      JSON.stringify({
        bench: 'gateway',
        machine: {
          cores: cpus().length,
          cpu: cpus()[0].model,
          node: process.version,
        },
        request_bytes: bodies[0].length,
        spans_per_request: SPANS_PER_REQUEST,
        seconds: SECONDS,
        gateway_core: CORE,
      }),
    );

  const [httpPort, grpcPort, zipkinPort, opsPort, bHttp, bGrpc, bH2] = await Promise.all(
    Array.from({ length: 7 }, freePort),
  );
  const baseline = spawn(
    'taskset',
    ['-c', CORE, process.execPath, '-e', BASELINE, String(bHttp), String(bGrpc), String(bH2)],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  const gateway = spawn(
    'taskset',
    [
      '-c',
      CORE,
      process.execPath,
      // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the gateway.
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      join(ROOT, process.env.BENCH_DIST ?? 'dist', 'apps/custodian/src/main.js'),
      'start',
      '--target=gateway',
    ],
    {
      cwd: ROOT,
      // BENCH_GATEWAY_STDOUT=FILE appends the gateway's stdout (e.g. with --trace-gc) to FILE.
      stdio: [
        'ignore',
        process.env.BENCH_GATEWAY_STDOUT
          ? openSync(process.env.BENCH_GATEWAY_STDOUT, 'a')
          : 'ignore',
        'inherit',
      ],
      env: {
        ...process.env,
        CUSTODIAN_API_KEY_PEPPER: PEPPER,
        CUSTODIAN_OTLP_HTTP_PORT: String(httpPort),
        CUSTODIAN_OTLP_GRPC_PORT: String(grpcPort),
        CUSTODIAN_ZIPKIN_PORT: String(zipkinPort),
        CUSTODIAN_OPS_PORT: String(opsPort),
        CUSTODIAN_BIND_HOST: '127.0.0.1',
        CUSTODIAN_LOG_LEVEL: 'warn',
      },
    },
  );
  try {
    await waitHttp(`http://127.0.0.1:${opsPort}/readyz`);
    await new Promise((r) => setTimeout(r, 500));
    // taskset execs node in place, so the pid is the node process.
    // BENCH_ONLY=custodian-otlp-http (comma list) runs a subset, e.g. while profiling.
    const only = process.env.BENCH_ONLY?.split(',');
    const targets: [string, ChildProcess, Send, number?][] = [
      ['baseline-http', baseline, httpSender(bHttp, minted.key)],
      ['custodian-otlp-http', gateway, httpSender(httpPort, minted.key), opsPort],
      ['baseline-grpc', baseline, grpcSender(bGrpc, minted.key)],
      ['baseline-grpc-node-http2', baseline, grpcSender(bH2, minted.key)],
      ['custodian-otlp-grpc', gateway, grpcSender(grpcPort, minted.key), opsPort],
    ];
    for (const [name, proc, send, ops] of targets) {
      if (!only || only.includes(name)) await measure(name, proc, send, bodies, ops);
    }
  } finally {
    gateway.kill('SIGTERM');
    baseline.kill('SIGKILL');
    const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
      gateway.once('exit', (c, s) => r([c, s])),
    );
    if (code !== 0) console.error(JSON.stringify({ bench: 'gateway', gateway_exit: code, signal }));
  }
}

/**
 * Each target runs in a fresh load-generator process, so one measurement's leftovers (heap,
 * sockets, GC debt of hundreds of thousands of requests) cannot slow the next one.
 */
async function runEachTargetApart(): Promise<void> {
  for (const target of [
    'baseline-http',
    'custodian-otlp-http',
    'baseline-grpc',
    'baseline-grpc-node-http2',
    'custodian-otlp-grpc',
  ]) {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        process.execArgv.concat([__filename, String(SECONDS)]),
        {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'inherit'],
          env: {
            ...process.env,
            BENCH_ONLY: target,
            BENCH_QUIET_HEADER: target === 'baseline-http' ? '' : '1',
          },
        },
      );
      child.stdout!.pipe(process.stdout);
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`${target} exited ${code}`)),
      );
    });
  }
}

(process.env.BENCH_ONLY ? main() : runEachTargetApart()).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
