/**
 * Side by side with the OpenTelemetry Collector (issue #8): the same load from telemetrygen
 * (the Collector project's load generator) at rising rates against
 *   (a) the Collector (.stack/bin/otelcol-custodian, built by deploy/local/install-tools.sh with
 *       the Collector's builder) running policy.ts's processors: memory_limiter → attributes →
 *       redaction → tail_sampling → batch → otlphttp; GOMAXPROCS=1;
 *   (b) Custodian as ONE process `custodian start --target=gateway,worker`: the gateway
 *       produces to Kafka (acks=all) and the worker consumes, applies the tenant policy imported
 *       from the very same processors YAML, and exports over otlphttp.
 * Each pinned to the same single core (taskset; BENCH_CORE, default 1) so "per core" means
 * the same thing for both; one Custodian process rather than two because two processes on one
 * core would only add a second runtime's overhead to the same core (and pinning them to two
 * cores would give Custodian twice the CPU). Kafka is not pinned (it belongs to the shared
 * stack): its CPU over each step is reported beside Custodian's, the price of durability.
 * telemetrygen, the sink and Kafka run on the other core. Both export to the same counting
 * OTLP sink (otlp-sink.ts, own process), which records which trace ids arrived and when.
 *
 * Load: per step, three telemetrygen processes over OTLP/HTTP, 10 spans per trace (root + 9
 * children) with agent attributes (policy.ts): 90% healthy runs, 5% failed runs (status Error),
 * 5% slow runs (span duration 2 s); exact trace counts, so the kept sets can be checked.
 * Each (system, rate) step runs in a fresh system process, which first serves
 * BENCH_WARMUP_SECONDS of the same load untimed (drained, then the sink is reset): both systems
 * are measured warm. Per step it records: offered and
 * accepted spans/s, CPU seconds of the system process (from /proc) → spans per CPU-second and
 * CPU s per million spans, peak RSS, the system's own refusal/drop counters, end-to-end latency
 * (span start at the generator → last span of the trace at the sink) p50/p90/p99, and the kept
 * sets: every failed and every slow run must arrive (both policies keep them 100%), healthy runs
 * ~10%, and no planted secret may reach the sink.
 * A step is "sustained" when the generators kept the offered rate without export errors, the
 * system refused and dropped nothing, every failed and slow run arrived, and p99 latency stayed
 * within decision_wait + 5 s (a growing backlog shows there first).
 *
 * Run (stack up; `npm run build` or a build in BENCH_DIST; deploy/local/env.sh sourced):
 *   node --require ./bench/register.js bench/compare/compare.bench.ts
 * Options (environment):
 *   BENCH_RATES=5000,10000,20000,30000,40000,60000,80000   offered spans/s per step
 *   BENCH_STEP_SECONDS=30        load per step      BENCH_DECISION_WAIT=5s
 *   BENCH_WARMUP_SECONDS=30      untimed load at the step's rate first, drained and discarded
 *   BENCH_SYSTEMS=collector,custodian                BENCH_CORE=1  BENCH_LOAD_CORE=0
 *   BENCH_REDIS_DB=9             the Redis database Custodian uses in the bench (emptied first)
 *   BENCH_NODE_ARGS=...          node options for Custodian (e.g. --cpu-prof --cpu-prof-dir=DIR)
 *   BENCH_STDOUT=FILE            append Custodian's stdout (log lines, --trace-gc output) to FILE
 *   BENCH_STOP_AFTER=2           stop rising after this many unsustained steps in a row
 *   BENCH_OUT=bench/results/compare-<date>.jsonl     results (appended, one JSON per line)
 *   BENCH_RESUME=1               skip (system, rate) steps already in BENCH_OUT
 *   BENCH_REPORT_ONLY=1          only rebuild the .md table and .png chart from BENCH_OUT
 *   BENCH_SMOKE=1                rates 1000,2000, 6 s steps, decision_wait 2s, results in /tmp
 * Writes <out>.jsonl, <out>.md (machine, per-system summary, per-step table) and <out>.png
 * (accepted spans/s and p99 latency against offered rate), and prints the Markdown at the end.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createPrismaClient } from '@custodian/db';
import { Redis } from 'ioredis';
import { fromCollectorConfig } from '@custodian/policy';
import { groupAtEnd } from '../../test/support/worker-setup';
import {
  BIN,
  PEPPER,
  ROOT,
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
  scrape,
  sleep,
  spawnPinned,
  stopProcess,
  sumMetric,
  versionOf,
  waitUntil,
  type BenchTenant,
  type Pinned,
} from './harness';
import { AGENT_ATTRIBUTES, collectorYaml, processorsYaml } from './policy';
import { writeReport, type StepResult, type SystemName } from './report';

process.env.KAFKA_BROKERS ??= '127.0.0.1:9092';
const SMOKE = process.env.BENCH_SMOKE === '1';
const RATES = (
  process.env.BENCH_RATES ?? (SMOKE ? '1000,2000' : '5000,10000,20000,30000,40000,60000,80000')
)
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? (SMOKE ? 6 : 30));
/**
 * Untimed load before each step, at the step's rate, then drained and forgotten: both systems
 * are measured warm, as a long-running deployment is, not on their first seconds of traffic
 * (a Go binary has no such phase). 0 measures cold processes. 30 s because V8 optimizes a function
 * only after enough calls, and at 5k spans/s the per-batch ones (compression, produce, export,
 * tail decisions) get there late: with 5 s, `--trace-opt` showed ~290 TurboFan compilations and
 * 1.4 CPU-seconds of background compiling inside the measured 30 s of a 5k step — ~4.7% of a
 * core, most of what the step charged Custodian beyond its per-span cost; with 30 s, ~0.6 s.
 */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? (SMOKE ? 0 : 30));
const DECISION_WAIT = process.env.BENCH_DECISION_WAIT ?? (SMOKE ? '2s' : '5s');
const DECISION_WAIT_MS = Number(/^(\d+)s$/.exec(DECISION_WAIT)?.[1] ?? '5') * 1000;
const SYSTEMS = (process.env.BENCH_SYSTEMS ?? 'collector,custodian').split(',') as SystemName[];
const CORE = process.env.BENCH_CORE ?? '1';
const LOAD_CORE = process.env.BENCH_LOAD_CORE ?? '0';
/** Custodian's stdout (its log, and what BENCH_NODE_ARGS such as --trace-gc print), appended. */
const STDOUT = process.env.BENCH_STDOUT;
const STOP_AFTER = Number(process.env.BENCH_STOP_AFTER ?? 2);
const COLLECTOR = process.env.OTELCOL ?? join(BIN, 'otelcol-custodian');
const TELEMETRYGEN = process.env.TELEMETRYGEN ?? join(BIN, 'telemetrygen');
const DATABASE_URL =
  process.env.DATABASE_URL ?? 'postgresql://custodian:custodian@127.0.0.1:5432/custodian';
/**
 * Custodian's Redis in the bench: a database of its own (BENCH_REDIS_DB, default 9), emptied
 * before the run. On the shared stack, the default database also holds other tenants' delivery
 * lanes, e.g. retries that tests left for sinks long gone; a worker started there works those
 * off while it is measured (one such lane cost ~1% of a core).
 */
const BENCH_REDIS_URL = (() => {
  const u = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  u.pathname = `/${process.env.BENCH_REDIS_DB ?? '9'}`;
  return u.toString();
})();
const OUT =
  process.env.BENCH_OUT ??
  (SMOKE
    ? join(tmpdir(), `compare-smoke-${Date.now()}.jsonl`)
    : join(ROOT, 'bench', 'results', `compare-${new Date().toISOString().slice(0, 10)}.jsonl`));
const CHILD_SPANS = 9;
const SPANS_PER_TRACE = CHILD_SPANS + 1;
/** One telemetrygen worker (goroutine) per this many spans/s; its --rate counts spans. */
const SPANS_PER_WORKER = 2000;
const MIX = { ok: 0.9, error: 0.05, slow: 0.05 } as const;
type Category = keyof typeof MIX;

function emit(obj: Record<string, unknown>): void {
  const line = JSON.stringify({ bench: 'compare', ...obj });
  console.log(line);
  appendFileSync(OUT, `${line}\n`);
}

interface Running {
  proc: Pinned;
  /** OTLP/HTTP base URL telemetrygen sends to. */
  otlpHttp: string;
  headers: string[];
  metricsUrl: string;
  stop(): Promise<number | null>;
}

async function startCollector(sinkEndpoint: string, dir: string): Promise<Running> {
  const [receiver, health, metrics] = [await freePort(), await freePort(), await freePort()];
  const file = join(dir, 'collector.yaml');
  writeFileSync(
    file,
    collectorYaml({
      decisionWait: DECISION_WAIT,
      collectorReceiverPort: receiver,
      collectorHealthPort: health,
      collectorMetricsPort: metrics,
      sinkEndpoint,
    }),
  );
  const proc = spawnPinned(CORE, COLLECTOR, [`--config=${file}`], { GOMAXPROCS: '1' });
  await waitUntil(`collector healthy (${proc.stderr().slice(-600)})`, async () => {
    if (proc.proc.exitCode !== null) throw new Error(`collector exited: ${proc.stderr()}`);
    return httpOk(`http://127.0.0.1:${health}/`);
  });
  return {
    proc,
    otlpHttp: `127.0.0.1:${receiver}`,
    headers: [],
    metricsUrl: `http://127.0.0.1:${metrics}/metrics`,
    stop: () => stopProcess(proc),
  };
}

async function startCustodian(tenant: BenchTenant): Promise<Running> {
  const [http, grpc, zipkin, ops] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const group = `bench-compare-${randomUUID()}`;
  await groupAtEnd(group);
  let consuming = false;
  const proc = spawnPinned(
    CORE,
    process.execPath,
    [
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      cliPath(),
      'start',
      '--target=gateway,worker',
    ],
    {
      CUSTODIAN_API_KEY_PEPPER: PEPPER,
      CUSTODIAN_OTLP_HTTP_PORT: String(http),
      CUSTODIAN_OTLP_GRPC_PORT: String(grpc),
      CUSTODIAN_ZIPKIN_PORT: String(zipkin),
      CUSTODIAN_OPS_PORT: String(ops),
      CUSTODIAN_BIND_HOST: '127.0.0.1',
      CUSTODIAN_LOG_LEVEL: 'info',
      KAFKA_WORKER_GROUP: group,
      DATABASE_URL,
      REDIS_URL: BENCH_REDIS_URL,
    },
    (line) => {
      if (line.includes('"worker consuming"')) consuming = true;
      if (STDOUT) appendFileSync(STDOUT, `${line}\n`);
    },
  );
  await waitUntil(`custodian ready (${proc.stderr().slice(-600)})`, async () => {
    if (proc.proc.exitCode !== null) throw new Error(`custodian exited: ${proc.stderr()}`);
    return consuming ? httpOk(`http://127.0.0.1:${ops}/readyz`) : undefined;
  });
  return {
    proc,
    otlpHttp: `127.0.0.1:${http}`,
    headers: [`--otlp-header=authorization="Bearer ${tenant.key}"`],
    metricsUrl: `http://127.0.0.1:${ops}/metrics`,
    stop: () => stopProcess(proc, 30_000),
  };
}

interface Generated {
  category: Category;
  traces: number;
  seconds: number;
  code: number | null;
  stderr: string;
}

/**
 * One telemetrygen process: `tracesPerSec` for STEP_SECONDS, exact trace count. telemetrygen's
 * --rate limits SPANS per second per worker (root and children alike), --traces counts traces.
 */
function generate(
  target: Running,
  category: Category,
  tracesPerSec: number,
  seconds = STEP_SECONDS,
): Promise<Generated> | undefined {
  if (tracesPerSec <= 0) return undefined;
  const workers = Math.max(1, Math.ceil((tracesPerSec * SPANS_PER_TRACE) / SPANS_PER_WORKER));
  const perWorker = tracesPerSec / workers;
  const tracesEach = Math.max(1, Math.round(perWorker * seconds));
  const args = [
    'traces',
    `--otlp-endpoint=${target.otlpHttp}`,
    '--otlp-http',
    '--otlp-insecure',
    ...target.headers,
    `--workers=${workers}`,
    `--rate=${perWorker * SPANS_PER_TRACE}`,
    `--traces=${tracesEach}`,
    `--child-spans=${CHILD_SPANS}`,
    `--service=agent-${category}`,
    '--otlp-attributes=deployment.environment="bench"',
    ...AGENT_ATTRIBUTES.map((a) => `--telemetry-attributes=${a}`),
    ...(category === 'error' ? ['--status-code=Error'] : []),
    ...(category === 'slow' ? ['--span-duration=2s'] : []),
  ];
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = execFile(
      'taskset',
      ['-c', LOAD_CORE, TELEMETRYGEN, ...args],
      { timeout: (STEP_SECONDS * 3 + 60) * 1000, maxBuffer: 64 << 20 },
      (err, _stdout, stderr) => {
        resolve({
          category,
          traces: tracesEach * workers,
          seconds: (performance.now() - t0) / 1000,
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          stderr: String(stderr).slice(-1500),
        });
      },
    );
    child.stdin?.end();
  });
}

/** The system's own refusals and drops, and the spans it accepted, from its metrics. */
function systemCounters(system: SystemName, text: string, tenant?: string) {
  if (system === 'collector') {
    const m = (n: string) => sumMetric(text, n) + sumMetric(text, `${n}_total`);
    return {
      accepted: m('otelcol_receiver_accepted_spans'),
      refused:
        m('otelcol_receiver_refused_spans') +
        m('otelcol_processor_refused_spans') +
        m('otelcol_exporter_send_failed_spans') +
        m('otelcol_exporter_enqueue_failed_spans') +
        m('otelcol_processor_tail_sampling_sampling_trace_dropped_too_early'),
      exported: m('otelcol_exporter_sent_spans'),
    };
  }
  const t: Record<string, string> = tenant ? { tenant } : {};
  const requests = sumMetric(text, 'custodian_gateway_requests_total', { signal: 'traces' });
  const ok = sumMetric(text, 'custodian_gateway_requests_total', {
    signal: 'traces',
    code: '200',
  });
  const workerDiscarded = sumMetric(text, 'custodian_worker_discarded_items_total', {
    ...t,
    signal: 'traces',
  });
  const tailSampled = sumMetric(text, 'custodian_worker_discarded_items_total', {
    ...t,
    signal: 'traces',
    reason: 'tail_sampled',
  });
  return {
    accepted: sumMetric(text, 'custodian_gateway_accepted_items_total', { ...t, signal: 'traces' }),
    refused:
      requests -
      ok +
      sumMetric(text, 'custodian_gateway_discarded_items_total', { ...t, signal: 'traces' }) +
      (workerDiscarded - tailSampled),
    exported: sumMetric(text, 'custodian_worker_routed_items_total', { ...t, signal: 'traces' }),
  };
}

/** Drained: decision_wait has passed since the last span was sent and the sink is quiet. */
async function drained(sink: SinkProcess, loadEnd: number): Promise<void> {
  let last = -1;
  await waitUntil(
    'sink quiet',
    async () => {
      const s = await sink.stats();
      const quiet =
        Date.now() - loadEnd > DECISION_WAIT_MS + 2000 &&
        s.spans === last &&
        (s.lastReceiptMs === 0 || Date.now() - s.lastReceiptMs > 2500);
      last = s.spans;
      return quiet ? true : undefined;
    },
    DECISION_WAIT_MS + 180_000,
    1000,
  );
}

async function runStep(
  system: SystemName,
  rate: number,
  sink: SinkProcess,
  tenant: BenchTenant | undefined,
  dir: string,
): Promise<StepResult> {
  await sink.reset();
  const running =
    system === 'collector'
      ? await startCollector(sink.endpoint, dir)
      : await startCustodian(tenant!);
  const kafka = system === 'custodian' ? kafkaPid() : undefined;
  try {
    const tracesPerSec = rate / SPANS_PER_TRACE;
    if (WARMUP_SECONDS > 0) {
      await Promise.all(
        (Object.keys(MIX) as Category[])
          .map((c) => generate(running, c, tracesPerSec * MIX[c], WARMUP_SECONDS))
          .filter((g): g is Promise<Generated> => g !== undefined),
      );
      await drained(sink, Date.now());
      await sink.reset();
    }
    // the system's counters run from its start: the step counts what they add from here
    const counters0 = systemCounters(system, await scrape(running.metricsUrl), tenant?.tenantId);
    // Idle cost first (pollers, consumer fetch loops, timers): 3 s with no load.
    await sleep(500);
    const idle0 = cpuSeconds(running.proc.pid);
    await sleep(3000);
    const idleUtilization = (cpuSeconds(running.proc.pid) - idle0) / 3;
    const cpu0 = cpuSeconds(running.proc.pid);
    const kafka0 = kafka ? cpuSeconds(kafka) : 0;
    const t0 = performance.now();
    const gens = (Object.keys(MIX) as Category[])
      .map((c) => generate(running, c, tracesPerSec * MIX[c]))
      .filter((g): g is Promise<Generated> => g !== undefined);
    const generated = await Promise.all(gens);
    const loadSeconds = (performance.now() - t0) / 1000;
    await drained(sink, Date.now());
    const cpu = cpuSeconds(running.proc.pid) - cpu0;
    const wall = (performance.now() - t0) / 1000;
    const kafkaCpu = kafka ? cpuSeconds(kafka) - kafka0 : undefined;
    const after = systemCounters(system, await scrape(running.metricsUrl), tenant?.tenantId);
    const counters = {
      accepted: after.accepted - counters0.accepted,
      refused: after.refused - counters0.refused,
      exported: after.exported - counters0.exported,
    };
    const rss = peakRssMb(running.proc.pid);
    const traces = await sink.traces();
    const stats = await sink.stats();

    const sent = Object.fromEntries(generated.map((g) => [g.category, g.traces])) as Record<
      Category,
      number
    >;
    const kept: Record<Category, number> = { ok: 0, error: 0, slow: 0 };
    const latency: Record<Category | 'all', number[]> = { ok: [], error: [], slow: [], all: [] };
    let incomplete = 0;
    let leaked = 0;
    for (const t of traces.values()) {
      const c = t.service.replace(/^agent-/, '') as Category;
      if (!(c in kept)) continue;
      kept[c]++;
      if (t.spans < SPANS_PER_TRACE) incomplete++;
      if (t.leaked) leaked++;
      const l = t.lastReceiptMs - t.minStartMs;
      latency[c].push(l);
      latency.all.push(l);
    }
    const sentSpans = generated.reduce((n, g) => n + g.traces * SPANS_PER_TRACE, 0);
    const genFailed = generated.filter((g) => g.code !== 0);
    const genSlowest = Math.max(...generated.map((g) => g.seconds));
    const all = latencySummary(latency.all);
    const keptRatio = (c: Category) =>
      sent[c] ? Math.round((kept[c] / sent[c]) * 10_000) / 10_000 : null;
    const reasons: string[] = [];
    if (genFailed.length)
      reasons.push(`telemetrygen exit ${genFailed.map((g) => g.code).join(',')}`);
    if (genSlowest > STEP_SECONDS * 1.1 + 2)
      reasons.push(`generator took ${genSlowest.toFixed(1)} s for ${STEP_SECONDS} s of load`);
    if (counters.refused > 0) reasons.push(`${counters.refused} spans refused or dropped`);
    if (kept.error < (sent.error ?? 0))
      reasons.push(`failed runs kept ${kept.error}/${sent.error}`);
    if (kept.slow < (sent.slow ?? 0)) reasons.push(`slow runs kept ${kept.slow}/${sent.slow}`);
    if (all.p99_ms > DECISION_WAIT_MS + 5000) reasons.push(`p99 ${all.p99_ms} ms`);
    const result: StepResult = {
      system,
      offered_spans_per_sec: rate,
      step_seconds: STEP_SECONDS,
      warmup_seconds: WARMUP_SECONDS,
      sent_spans: sentSpans,
      accepted_spans: counters.accepted,
      // Over the offered duration, unless the generators needed longer than their start-up and
      // final flush (about 2 s) account for.
      accepted_spans_per_sec: Math.round(
        counters.accepted / Math.max(STEP_SECONDS, loadSeconds - 2),
      ),
      exported_spans: counters.exported,
      sink_spans: stats.spans,
      refused_or_dropped_spans: counters.refused,
      cpu_seconds: Math.round(cpu * 100) / 100,
      cpu_utilization: Math.round((cpu / wall) * 100) / 100,
      idle_cpu_utilization: Math.round(idleUtilization * 1000) / 1000,
      spans_per_cpu_second: cpu > 0 ? Math.round(counters.accepted / cpu) : 0,
      cpu_seconds_per_million_spans:
        counters.accepted > 0 ? Math.round((cpu / counters.accepted) * 1e6 * 100) / 100 : 0,
      kafka_broker_cpu_seconds_per_million_spans:
        kafkaCpu !== undefined && counters.accepted > 0
          ? Math.round((kafkaCpu / counters.accepted) * 1e6 * 100) / 100
          : null,
      peak_rss_mb: rss,
      latency_ms: all,
      latency_ms_by_category: {
        error: latencySummary(latency.error),
        slow: latencySummary(latency.slow),
        ok: latencySummary(latency.ok),
      },
      traces_sent: sent,
      traces_kept: kept,
      kept_ratio: { error: keptRatio('error'), slow: keptRatio('slow'), ok: keptRatio('ok') },
      incomplete_kept_traces: incomplete,
      traces_with_leaked_secret: leaked,
      generator_seconds: Math.round(genSlowest * 10) / 10,
      sustained: reasons.length === 0,
      not_sustained_because: reasons,
      generator_errors: genFailed.map((g) => g.stderr.slice(-300)),
    };
    return result;
  } finally {
    await running.stop();
  }
}

function readResults(): StepResult[] {
  if (!existsSync(OUT)) return [];
  return readFileSync(OUT, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { kind?: string } & StepResult)
    .filter((r) => r.kind === 'step');
}

function readMachine(): Record<string, unknown> {
  if (!existsSync(OUT)) return {};
  for (const l of readFileSync(OUT, 'utf8').split('\n').filter(Boolean).reverse()) {
    const r = JSON.parse(l) as { kind?: string; machine?: Record<string, unknown> };
    if (r.kind === 'setup' && r.machine) return r.machine;
  }
  return {};
}

async function main(): Promise<void> {
  mkdirSync(dirname(OUT), { recursive: true });
  if (process.env.BENCH_REPORT_ONLY === '1') {
    console.log(writeReport(OUT, readResults(), readMachine(), DECISION_WAIT));
    return;
  }
  if (!existsSync(TELEMETRYGEN))
    throw new Error(`${TELEMETRYGEN} missing: run bash deploy/local/install-tools.sh`);
  const systems = SYSTEMS.filter((s) => {
    if (s === 'collector' && !existsSync(COLLECTOR)) {
      emit({ kind: 'skipped', system: s, reason: `${COLLECTOR} missing (install-tools.sh)` });
      return false;
    }
    return true;
  });
  const done = process.env.BENCH_RESUME === '1' ? readResults() : [];
  emit({
    kind: 'setup',
    machine: machine({
      collector: existsSync(COLLECTOR) ? versionOf(COLLECTOR, ['--version']) : 'missing',
      custodian_build: cliPath(),
    }),
    smoke: SMOKE,
    rates: RATES,
    step_seconds: STEP_SECONDS,
    warmup_seconds: WARMUP_SECONDS,
    decision_wait: DECISION_WAIT,
    systems,
    core: CORE,
    load_core: LOAD_CORE,
    spans_per_trace: SPANS_PER_TRACE,
    mix: MIX,
  });

  const dir = join(tmpdir(), `custodian-compare-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const sink = await SinkProcess.start(LOAD_CORE);
  let tenant: BenchTenant | undefined;
  try {
    if (systems.includes('custodian')) {
      const redis = new Redis(BENCH_REDIS_URL, { lazyConnect: true });
      await redis.connect();
      await redis.flushdb();
      redis.disconnect();
      const imported = fromCollectorConfig(processorsYaml(DECISION_WAIT));
      if (!imported.policy) throw new Error(JSON.stringify(imported.problems));
      const db = createPrismaClient(DATABASE_URL);
      tenant = await benchTenant(db, sink.endpoint, imported.policy, 'compare');
      await db.$disconnect();
      emit({
        kind: 'policy',
        collector_processors_yaml: processorsYaml(DECISION_WAIT),
        custodian_import_warnings: imported.warnings,
      });
    }
    // Rate by rate, the systems one after the other: this machine's speed drifts by tens of
    // percent over minutes, so the two steps compared at a rate are run as close in time as
    // they can be.
    const misses = new Map<SystemName, number>(systems.map((s) => [s, 0]));
    for (const rate of RATES) {
      for (const system of systems) {
        const prior = done.find((r) => r.system === system && r.offered_spans_per_sec === rate);
        if (prior) {
          misses.set(system, prior.sustained ? 0 : misses.get(system)! + 1);
          continue;
        }
        if (misses.get(system)! >= STOP_AFTER) continue;
        const r = await runStep(system, rate, sink, tenant, dir);
        emit({ kind: 'step', ...r });
        misses.set(system, r.sustained ? 0 : misses.get(system)! + 1);
      }
    }
  } finally {
    await sink.stop();
  }
  console.log(writeReport(OUT, readResults(), readMachine(), DECISION_WAIT));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
