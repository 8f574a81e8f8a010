/**
 * The worker pipeline benchmark (issue #5 "Benchmark"): Kafka → one worker pinned to one core
 * (taskset) running the platform default policy (every detector masks, GenAI content restricted)
 * plus tail sampling (errors, slow runs, 10% of the rest; decision_wait 5 s; a byte budget) →
 * otlphttp → a counting sink in its own process (bench/compare/otlp-sink.ts), so the sink is
 * never the bottleneck. Load goes in the way production load does: agent-run-shaped requests
 * (10 runs × 10 spans, ~15 attributes, a prompt carrying an email and an API key, one run in
 * ten failing, one in ten slow) POSTed to a real gateway pinned to the other core.
 *
 * Phases, each with a fresh tenant and a fresh consumer group positioned at the topic ends:
 *   1. baseline: the same pipeline WITHOUT tail sampling (default policy only). N spans are
 *      produced through the gateway first, then a worker starts and drains the backlog.
 *   2. tail: the default policy + tail sampling, drained the same way. Reported: spans/s
 *      (wall), spans per worker CPU-second (utime+stime from /proc from the moment the worker
 *      logs "worker consuming", so boot is excluded), CPU seconds per million spans, peak RSS
 *      against the worker's memory budget (CUSTODIAN_WORKER_MEMORY_MIB, with the heap flag
 *      the Helm chart passes), the peak V8 heap, external memory and tail-buffer bytes sampled
 *      during the drain, early (budget) decisions, and the Kafka broker's CPU over the phase
 *      (durability costs outside the worker).
 *   3. latency: through the gateway at half the rate measured in 2 (open loop), the time from
 *      the gateway's 200 to the sink receiving the last span of the trace, p50/p99 over kept
 *      traces. Target: p99 ≤ decision_wait + 2 s.
 * Target to compare against: ≥ 40k spans/s per core of worker CPU.
 *
 * Run (the stack up, a build in dist/ or BENCH_DIST, deploy/local/env.sh sourced):
 *   node --require ./bench/register.js bench/worker/pipeline.bench.ts
 * Options (environment): BENCH_SPANS (default 1000000), BENCH_DECISION_WAIT (5s),
 * BENCH_LATENCY_SECONDS (30), BENCH_BUFFER_MB (the policy's max_buffered_bytes, 256),
 * BENCH_WORKER_MEMORY_MIB (the worker's memory budget, 512; 0 = unbounded, the old behaviour:
 * no CUSTODIAN_WORKER_MEMORY_MIB beyond its default and no heap flag),
 * BENCH_ONLY (baseline or tail: that phase only), BENCH_WORKER_CORE (1), BENCH_LOAD_CORE (0), BENCH_DIST (dist), BENCH_SMOKE=1 (20k spans,
 * decision_wait 2s, 4 s of latency load: checks the harness, measures nothing).
 * Prints one JSON object per line and, at the end, a Markdown table; both are also written to
 * BENCH_OUT (default bench/results/worker-pipeline-<date>.jsonl, and .md beside it).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { createPrismaClient, type PrismaClient } from '@custodian/db';
import { encodeTraces, type KeyValue, type Span, type TracesData } from '@custodian/otlp';
import { DEFAULT_POLICY, parsePolicy, type PolicyDocument } from '@custodian/policy';
import {
  PEPPER,
  SinkProcess,
  benchTenant,
  cliPath,
  cpuSeconds,
  freePort,
  httpOk,
  kafkaPid,
  latencySummary,
  machine,
  peakRssMb,
  rssMb,
  scrape,
  sleep,
  spawnPinned,
  stopProcess,
  sumMetric,
  waitUntil,
  type BenchTenant,
  type Pinned,
} from '../compare/harness';
import { groupAtEnd } from '../../test/support/worker-setup';
import { heapFlags, workerMemoryPlan } from '../../apps/worker/src/consume/memory-budget';

process.env.KAFKA_BROKERS ??= '127.0.0.1:9092';
const SMOKE = process.env.BENCH_SMOKE === '1';
const SPANS = Number(process.env.BENCH_SPANS ?? (SMOKE ? 20_000 : 1_000_000));
const DECISION_WAIT = process.env.BENCH_DECISION_WAIT ?? (SMOKE ? '2s' : '5s');
const DECISION_WAIT_MS = Number(/^(\d+)s$/.exec(DECISION_WAIT)?.[1] ?? '5') * 1000;
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? (SMOKE ? 4 : 30));
const BUFFER_MB = Number(process.env.BENCH_BUFFER_MB ?? 256);
/** BENCH_ONLY=baseline or tail: run that phase only (quicker A/B of one setting). */
const ONLY = process.env.BENCH_ONLY as 'baseline' | 'tail' | undefined;
const WORKER_MEMORY_MIB = Number(process.env.BENCH_WORKER_MEMORY_MIB ?? 512);
const MEMORY_PLAN = WORKER_MEMORY_MIB > 0 ? workerMemoryPlan(WORKER_MEMORY_MIB) : undefined;
const WORKER_CORE = process.env.BENCH_WORKER_CORE ?? '1';
const LOAD_CORE = process.env.BENCH_LOAD_CORE ?? '0';
const RUNS_PER_REQUEST = 10;
const SPANS_PER_RUN = 10;
const SPANS_PER_REQUEST = RUNS_PER_REQUEST * SPANS_PER_RUN;
const DATABASE_URL =
  process.env.DATABASE_URL ?? 'postgresql://custodian:custodian@127.0.0.1:5432/custodian';

/** Results file (JSON lines; the Markdown table goes beside it as .md); none in smoke mode. */
const OUT =
  process.env.BENCH_OUT ??
  (SMOKE
    ? undefined
    : join(
        __dirname,
        '..',
        'results',
        `worker-pipeline-${new Date().toISOString().slice(0, 10)}.jsonl`,
      ));

function emit(obj: Record<string, unknown>): void {
  const line = JSON.stringify({ bench: 'worker-pipeline', ...obj });
  console.log(line);
  if (OUT) appendFileSync(OUT, `${line}\n`);
}

function attr(key: string, v: string | number | boolean): KeyValue {
  if (typeof v === 'string') return { key, value: { stringValue: v } };
  if (typeof v === 'boolean') return { key, value: { boolValue: v } };
  return { key, value: { intValue: BigInt(v) } };
}

/**
 * One request's template: 10 agent runs of 10 spans (run, LLM calls, tool calls), run 0 with a
 * failed tool call, run 1 lasting 10 s (slow), prompts carrying an email and an API key. The
 * trace ids are placeholders whose byte offsets are found once, so each request gets fresh
 * trace ids by overwriting 16 bytes per run instead of re-encoding.
 */
function template(): { bytes: Buffer; idOffsets: number[][] } {
  const ids = Array.from({ length: RUNS_PER_REQUEST }, () => randomBytes(16));
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans: Span[] = [];
  for (let run = 0; run < RUNS_PER_REQUEST; run++) {
    for (let i = 0; i < SPANS_PER_RUN; i++) {
      const root = i === 0;
      const durationMs = root ? (run === 1 ? 10_000 : 2_000) : 50 * (i + 1);
      spans.push({
        traceId: ids[run],
        spanId: randomBytes(8),
        traceState: '',
        parentSpanId: root ? new Uint8Array(0) : randomBytes(8),
        flags: 1,
        name: root ? 'agent.run' : i % 3 === 0 ? 'execute_tool search' : 'chat gpt-4o',
        kind: root ? 2 : 3,
        startTimeUnixNano: now,
        endTimeUnixNano: now + 1_000_000n * BigInt(durationMs),
        attributes: [
          attr('run_id', `run-${run}`),
          attr('gen_ai.system', 'openai'),
          attr('gen_ai.request.model', 'gpt-4o'),
          attr('gen_ai.response.model', 'gpt-4o-2024-08-06'),
          attr('gen_ai.usage.input_tokens', 1200 + i),
          attr('gen_ai.usage.output_tokens', 300 + i),
          attr('gen_ai.operation.name', i % 3 === 0 ? 'execute_tool' : 'chat'),
          attr('tool.name', 'search'),
          attr('prompt.version', 'v7'),
          attr('http.request.method', 'POST'),
          attr('server.address', 'api.openai.com'),
          attr('server.port', 443),
          attr('http.response.status_code', 200),
          attr('user.note', `order ${run}-${i} for jane@example.com`),
          attr(
            'gen_ai.input.messages',
            `[{"role":"user","content":"my key is sk-proj-abc123def456ghi789, question ${i}"}]`,
          ),
        ],
        droppedAttributesCount: 0,
        events: [],
        droppedEventsCount: 0,
        links: [],
        droppedLinksCount: 0,
        status:
          run === 0 && i === 3 ? { code: 2, message: 'tool timed out' } : { code: 0, message: '' },
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
  const bytes = Buffer.from(encodeTraces(data));
  const idOffsets = ids.map((id) => {
    const at: number[] = [];
    for (let o = bytes.indexOf(id); o >= 0; o = bytes.indexOf(id, o + 1)) at.push(o);
    if (at.length !== SPANS_PER_RUN) throw new Error(`trace id found ${at.length} times`);
    return at;
  });
  return { bytes, idOffsets };
}

/** A request body with fresh trace ids; returns the body and its trace ids (hex). */
function freshBody(t: { bytes: Buffer; idOffsets: number[][] }): {
  body: Buffer;
  traceIds: string[];
} {
  const body = Buffer.from(t.bytes);
  const traceIds: string[] = [];
  for (const offsets of t.idOffsets) {
    const id = randomBytes(16);
    for (const o of offsets) id.copy(body, o);
    traceIds.push(id.toString('hex'));
  }
  return { body, traceIds };
}

type Send = (body: Buffer) => Promise<number>;

function httpSender(port: number, key: string): Send {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  return (body) =>
    new Promise((resolve) => {
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
      req.on('error', () => resolve(0));
      req.end(body);
    });
}

/** Produces `spans` spans through the gateway, closed loop; retries what the gateway refused. */
async function fill(send: Send, spans: number): Promise<{ seconds: number; refused: number }> {
  const t = template();
  const requests = Math.ceil(spans / SPANS_PER_REQUEST);
  let next = 0;
  let refused = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < requests) {
        next++;
        const { body } = freshBody(t);
        for (;;) {
          const status = await send(body);
          if (status === 200) break;
          refused++;
          await sleep(100);
        }
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, refused };
}

class Worker {
  consumingAt?: { t: number; cpu: number };
  constructor(
    readonly p: Pinned,
    readonly opsPort: number,
  ) {}

  static async start(group: string): Promise<Worker> {
    const opsPort = await freePort();
    const holder: { w?: Worker } = {};
    const p = spawnPinned(
      WORKER_CORE,
      process.execPath,
      [
        ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        // What the Helm chart puts in NODE_OPTIONS for the worker.
        ...(MEMORY_PLAN ? heapFlags(MEMORY_PLAN) : []),
        cliPath(),
        'start',
        '--target=worker',
      ],
      {
        KAFKA_WORKER_GROUP: group,
        CUSTODIAN_OPS_PORT: String(opsPort),
        CUSTODIAN_BIND_HOST: '127.0.0.1',
        CUSTODIAN_LOG_LEVEL: 'info',
        ...(MEMORY_PLAN ? { CUSTODIAN_WORKER_MEMORY_MIB: String(WORKER_MEMORY_MIB) } : {}),
        DATABASE_URL,
      },
      (line) => {
        // The consumer has joined its group and fetches from here on: CPU counts from now.
        const w = holder.w;
        if (w && !w.consumingAt && line.includes('"worker consuming"'))
          w.consumingAt = { t: performance.now(), cpu: cpuSeconds(w.p.pid) };
      },
    );
    const w = new Worker(p, opsPort);
    holder.w = w;
    await waitUntil(
      `worker consuming (stderr: ${p.stderr().slice(-400)})`,
      () => w.consumingAt,
      90_000,
      20,
    );
    return w;
  }

  metrics(): Promise<string> {
    return scrape(`http://127.0.0.1:${this.opsPort}/metrics`);
  }
}

/** Spans of `tenant` the worker has decided: handed to a sink or discarded with a reason. */
function processed(text: string, tenant: string): number {
  return (
    sumMetric(text, 'custodian_worker_routed_items_total', { tenant, signal: 'traces' }) +
    sumMetric(text, 'custodian_worker_discarded_items_total', { tenant, signal: 'traces' })
  );
}

async function drain(
  name: string,
  worker: Worker,
  tenant: BenchTenant,
  sink: SinkProcess,
  spans: number,
  waitMs: number,
): Promise<{ spansPerSec: number; row: Record<string, unknown> }> {
  const kafka = kafkaPid();
  const kafkaCpu0 = kafka ? cpuSeconds(kafka) : 0;
  const start = worker.consumingAt!;
  let maxBuffered = 0;
  let maxRss = 0;
  let maxHeap = 0;
  let maxExternal = 0;
  let maxBufferedBytes = 0;
  let maxPending = 0;
  let maxPendingBytes = 0;
  let text = '';
  const budgetMs = Math.max(120_000, spans / 2);
  await waitUntil(
    `${name}: ${spans} spans decided`,
    async () => {
      text = await worker.metrics();
      maxBuffered = Math.max(maxBuffered, sumMetric(text, 'custodian_worker_buffered_traces'));
      maxRss = Math.max(maxRss, rssMb(worker.p.pid));
      maxHeap = Math.max(maxHeap, sumMetric(text, 'custodian_process_nodejs_heap_size_used_bytes'));
      maxExternal = Math.max(
        maxExternal,
        sumMetric(text, 'custodian_process_nodejs_external_memory_bytes'),
      );
      maxBufferedBytes = Math.max(
        maxBufferedBytes,
        sumMetric(text, 'custodian_worker_buffered_bytes'),
      );
      maxPending = Math.max(maxPending, sumMetric(text, 'custodian_worker_delivery_pending_items'));
      maxPendingBytes = Math.max(
        maxPendingBytes,
        sumMetric(text, 'custodian_worker_delivery_pending_bytes'),
      );
      return processed(text, tenant.tenantId) >= spans ? true : undefined;
    },
    budgetMs,
    250,
  );
  // Decided is not done: the worker's work ends when the sink has every routed span (encoding
  // and export come after the decision), so the clocks stop only then.
  const routed = sumMetric(text, 'custodian_worker_routed_items_total', {
    tenant: tenant.tenantId,
    signal: 'traces',
  });
  await waitUntil(
    `${name}: ${routed} routed spans at the sink`,
    async () => ((await sink.stats()).spans >= routed ? true : undefined),
    budgetMs,
    100,
  );
  const elapsed = (performance.now() - start.t) / 1000;
  const cpu = cpuSeconds(worker.p.pid) - start.cpu;
  const kafkaCpu = kafka ? cpuSeconds(kafka) - kafkaCpu0 : undefined;
  // The last decisions are due decision_wait after the last record was read.
  const busy = Math.max(0.001, elapsed - waitMs / 1000);
  text = await worker.metrics();
  const s = await sink.stats();
  const discardedBy = (reason: string) =>
    sumMetric(text, 'custodian_worker_discarded_items_total', {
      tenant: tenant.tenantId,
      signal: 'traces',
      reason,
    });
  const decisions = (cause: string) =>
    sumMetric(text, 'custodian_worker_tail_decisions_total', { tenant: tenant.tenantId, cause });
  const spansPerSec = Math.round(spans / busy);
  const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));
  const peakRss = peakRssMb(worker.p.pid);
  const row = {
    phase: name,
    spans,
    spans_per_sec: spansPerSec,
    spans_per_sec_per_core: Math.round(spans / cpu),
    cpu_seconds_per_million_spans: Math.round((cpu / spans) * 1e6 * 100) / 100,
    worker_cpu_seconds: Math.round(cpu * 100) / 100,
    drain_seconds: Math.round(elapsed * 10) / 10,
    decision_wait_ms: waitMs,
    peak_rss_mb: peakRss,
    max_sampled_rss_mb: maxRss,
    memory_budget_mb: MEMORY_PLAN ? WORKER_MEMORY_MIB : null,
    peak_rss_within_budget: MEMORY_PLAN ? peakRss <= WORKER_MEMORY_MIB : null,
    heap_limit_mb: MEMORY_PLAN ? MEMORY_PLAN.heapMiB : null,
    tail_buffer_budget_mb: MEMORY_PLAN ? mb(MEMORY_PLAN.tailBufferBytes) : null,
    policy_max_buffered_mb: waitMs ? BUFFER_MB : null,
    max_sampled_heap_used_mb: mb(maxHeap),
    max_sampled_external_mb: mb(maxExternal),
    max_sampled_buffered_mb: mb(maxBufferedBytes),
    max_sampled_delivery_pending_items: maxPending,
    max_sampled_delivery_pending_mb: mb(maxPendingBytes),
    early_decisions_memory_global: sumMetric(
      text,
      'custodian_worker_memory_early_decisions_total',
      {
        tenant: tenant.tenantId,
        bound: 'global',
      },
    ),
    early_decisions_memory_tenant: sumMetric(
      text,
      'custodian_worker_memory_early_decisions_total',
      {
        tenant: tenant.tenantId,
        bound: 'tenant',
      },
    ),
    max_buffered_traces: maxBuffered,
    early_decisions_budget: decisions('budget'),
    early_decisions_num_traces: decisions('num_traces'),
    routed_spans: sumMetric(text, 'custodian_worker_routed_items_total', {
      tenant: tenant.tenantId,
      signal: 'traces',
    }),
    discarded_tail_sampled: discardedBy('tail_sampled'),
    sink_spans: s.spans,
    sink_leaked_spans: s.leakedSpans,
    kafka_broker_cpu_seconds: kafkaCpu === undefined ? null : Math.round(kafkaCpu * 100) / 100,
  };
  emit(row);
  return { spansPerSec, row };
}

/** Open loop at `spansPerSec` through the gateway; ack time per trace id. */
async function latencyLoad(
  send: Send,
  spansPerSec: number,
  seconds: number,
): Promise<{ acks: Map<string, number>; failed: number; behind: number }> {
  const t = template();
  const acks = new Map<string, number>();
  let failed = 0;
  const perSec = spansPerSec / SPANS_PER_REQUEST;
  const total = Math.max(1, Math.floor(perSec * seconds));
  const interval = 1000 / perSec;
  const start = performance.now();
  const stopAt = start + seconds * 1000;
  const pending: Promise<void>[] = [];
  let behind = 0;
  for (let n = 0; n < total; n++) {
    if (performance.now() > stopAt) {
      behind = total - n;
      break;
    }
    const wait = start + n * interval - performance.now();
    if (wait > 1) await sleep(wait);
    const { body, traceIds } = freshBody(t);
    pending.push(
      send(body).then((status) => {
        const at = Date.now();
        if (status === 200) for (const id of traceIds) acks.set(id, at);
        else failed++;
      }),
    );
  }
  await Promise.all(pending);
  return { acks, failed, behind };
}

function tailPolicy(): PolicyDocument {
  const doc = structuredClone(DEFAULT_POLICY) as PolicyDocument & { sampling: unknown };
  doc.sampling = {
    tail: {
      decision_wait: DECISION_WAIT,
      max_buffered_bytes: BUFFER_MB * 1024 * 1024,
      policies: [
        { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
        { name: 'slow', type: 'latency', latency: { threshold_ms: 5000 } },
        { name: 'rest', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } },
      ],
    },
  };
  const { policy, problems } = parsePolicy(JSON.stringify(doc), 'json');
  if (!policy) throw new Error(`bench policy invalid: ${JSON.stringify(problems)}`);
  return policy;
}

async function main(): Promise<void> {
  emit({
    phase: 'setup',
    machine: machine(),
    smoke: SMOKE,
    spans: SPANS,
    decision_wait: DECISION_WAIT,
    latency_seconds: LATENCY_SECONDS,
    worker_core: WORKER_CORE,
    load_core: LOAD_CORE,
    spans_per_request: SPANS_PER_REQUEST,
    worker_memory_mib: WORKER_MEMORY_MIB || null,
    memory_plan: MEMORY_PLAN ?? null,
    cli: cliPath(),
  });
  const db: PrismaClient = createPrismaClient(DATABASE_URL);
  const sink = await SinkProcess.start(LOAD_CORE);
  const basePolicy = parsePolicy(JSON.stringify(DEFAULT_POLICY), 'json').policy!;
  const [baseline, tail, latency] = [
    await benchTenant(db, sink.endpoint, basePolicy, 'base'),
    await benchTenant(db, sink.endpoint, tailPolicy(), 'tail'),
    await benchTenant(db, sink.endpoint, tailPolicy(), 'lat'),
  ];
  await db.$disconnect();

  const ports = { http: 0, grpc: 0, zipkin: 0, ops: 0 };
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const gateway = spawnPinned(
    LOAD_CORE,
    process.execPath,
    [cliPath(), 'start', '--target=gateway'],
    {
      CUSTODIAN_API_KEY_PEPPER: PEPPER,
      CUSTODIAN_OTLP_HTTP_PORT: String(ports.http),
      CUSTODIAN_OTLP_GRPC_PORT: String(ports.grpc),
      CUSTODIAN_ZIPKIN_PORT: String(ports.zipkin),
      CUSTODIAN_OPS_PORT: String(ports.ops),
      CUSTODIAN_BIND_HOST: '127.0.0.1',
      CUSTODIAN_LOG_LEVEL: 'warn',
      DATABASE_URL,
    },
  );
  const workers: Worker[] = [];
  const table: string[] = [
    '| phase | spans/s | spans per worker CPU-second | CPU s per 1M spans | peak RSS (memory budget) | p50 / p99 gateway ack → sink |',
    '| --- | --: | --: | --: | --: | --: |',
  ];
  const n = (v: unknown) => Number(v).toLocaleString('en-US');
  try {
    await waitUntil(`gateway ready (${gateway.stderr().slice(-400)})`, () =>
      httpOk(`http://127.0.0.1:${ports.ops}/readyz`),
    );

    for (const [name, tenant, waitMs] of (
      [
        ['baseline-no-tail-sampling', baseline, 0],
        ['default-policy+tail-sampling', tail, DECISION_WAIT_MS],
      ] as const
    ).filter(([, , w]) => ONLY === undefined || (ONLY === 'tail') === w > 0)) {
      const group = `bench-pipeline-${randomUUID()}`;
      await groupAtEnd(group);
      await sink.reset();
      const f = await fill(httpSender(ports.http, tenant.key), SPANS);
      emit({
        phase: `${name}:fill`,
        spans: SPANS,
        seconds: Math.round(f.seconds * 10) / 10,
        gateway_spans_per_sec: Math.round(SPANS / f.seconds),
        refused_requests: f.refused,
      });
      const worker = await Worker.start(group);
      workers.push(worker);
      const { spansPerSec, row } = await drain(name, worker, tenant, sink, SPANS, waitMs);
      const cells = `| ${name} | ${n(row.spans_per_sec)} | ${n(row.spans_per_sec_per_core)} | ${String(row.cpu_seconds_per_million_spans)} | ${String(row.peak_rss_mb)} MB (${MEMORY_PLAN ? `${WORKER_MEMORY_MIB} MiB` : 'unbounded'}) |`;
      if (waitMs === 0) {
        table.push(`${cells} – |`);
        await stopProcess(worker.p);
        continue;
      }

      // Latency at half the measured max rate, on the same (warm) worker.
      await sink.reset();
      const rate = Math.max(SPANS_PER_REQUEST, Math.round(spansPerSec / 2));
      const load = await latencyLoad(httpSender(ports.http, latency.key), rate, LATENCY_SECONDS);
      const quietMs = DECISION_WAIT_MS + 5000;
      // Nothing can be quiet before the last traces' decision_wait has passed (a sink that has
      // received nothing yet is not done).
      await sleep(DECISION_WAIT_MS + 1000);
      let last = -1;
      await waitUntil(
        'sink quiet after the latency load',
        async () => {
          const s = await sink.stats();
          const quiet = s.spans === last && Date.now() - s.lastReceiptMs > 2000;
          last = s.spans;
          return quiet ? true : undefined;
        },
        quietMs + 60_000,
        Math.max(1000, quietMs / 4),
      );
      const got = await sink.traces();
      const lat: number[] = [];
      let incomplete = 0;
      for (const [id, at] of load.acks) {
        const tr = got.get(id);
        if (!tr) continue;
        if (tr.spans < SPANS_PER_RUN) incomplete++;
        lat.push(tr.lastReceiptMs - at);
      }
      const summary = latencySummary(lat);
      emit({
        phase: 'latency-at-half-rate',
        offered_spans_per_sec: rate,
        seconds: LATENCY_SECONDS,
        traces_acked: load.acks.size,
        traces_kept: lat.length,
        kept_fraction: load.acks.size ? Math.round((lat.length / load.acks.size) * 1000) / 1000 : 0,
        incomplete_kept_traces: incomplete,
        requests_failed: load.failed,
        requests_not_sent_generator_behind: load.behind,
        ack_to_sink: summary,
        target_p99_ms: DECISION_WAIT_MS + 2000,
        p99_within_target: summary.p99_ms <= DECISION_WAIT_MS + 2000,
        peak_rss_mb: peakRssMb(worker.p.pid),
      });
      table.push(
        `${cells} ${n(summary.p50_ms)} / ${n(summary.p99_ms)} ms at ${n(rate)} spans/s (target p99 ≤ ${n(DECISION_WAIT_MS + 2000)} ms) |`,
      );
    }
    console.log(`\n${table.join('\n')}\n`);
    if (OUT) writeFileSync(OUT.replace(/\.jsonl$/, '.md'), `${table.join('\n')}\n`);
  } finally {
    for (const w of workers) await stopProcess(w.p);
    const code = await stopProcess(gateway);
    if (code !== 0) emit({ phase: 'teardown', gateway_exit: code });
    await sink.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
