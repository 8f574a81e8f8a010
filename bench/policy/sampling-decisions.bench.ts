/**
 * Tail-sampling decisions per second (issue #4 target: ≥ 1M decisions/s per core with 4
 * policies). One decision = one buffered trace decided: the 4 policies evaluated over all its
 * spans, the final rule applied, the decision cached and the trace handed out.
 *
 * Workload: agent runs (one run = one trace of 20–200 spans, avg ≈ 110: plan, LLM calls,
 * tool calls, retrieval), 5% with a failed tool span, 2% with an HTTP 503, 3% slow. The
 * policies are the agent rules: a failed tool span (span_match), an HTTP 5xx
 * (numeric_attribute), runs of 30 s or more (latency), 10% of the rest (probabilistic).
 *
 * Measured in the same run:
 * - `tail.decide`: TailSampler.poll deciding every buffered trace (adding is not timed);
 * - `naive.decide (baseline)`: the same rules written the obvious way over the same traces
 *   (attributes copied into a Map per span, times as bigint per span, hex id per trace);
 * - `tail.add+decide`: the sampler end to end, buffering the spans and deciding, in traces/s
 *   and spans/s (the number that bounds a worker partition).
 *
 * Run: node --require ./bench/register.js bench/policy/sampling-decisions.bench.ts
 * Prints one JSON object per line: name, items, items_per_s, ns_per_item (+ spans_per_s).
 */
import { createHash } from 'node:crypto';
import type { Span, TracesData } from '@custodian/otlp';
import { TailSampler, validateTailSamplingConfig } from '@custodian/policy';
import { agentTrace, attr, batch } from '../../libs/policy/testdata/fixtures';

const TRACES = 4_000;
const ROUNDS = 7;

const tailConfig = validateTailSamplingConfig({
  decision_wait: '30s',
  num_traces: 100_000,
  policies: [
    {
      name: 'failed-tool',
      type: 'span_match',
      span_match: { status_codes: ['ERROR'], attributes: [{ key: 'tool.name' }] },
    },
    {
      name: 'server-error',
      type: 'numeric_attribute',
      numeric_attribute: { key: 'http.status_code', min_value: 500, max_value: 599 },
    },
    { name: 'slow-run', type: 'latency', latency: { threshold_ms: 30_000 } },
    { name: 'the-rest', type: 'probabilistic', probabilistic: { sampling_percentage: 10 } },
  ],
}).config!;

function randomId(seed: number): Uint8Array {
  const id = new Uint8Array(16);
  let s = seed >>> 0;
  for (let i = 0; i < 16; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    id[i] = s >>> 24;
  }
  return id;
}

/** One batch per trace (so adding is cheap to repeat); spans as agentTrace builds them. */
function workload(): { batches: TracesData[]; spans: number } {
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const batches: TracesData[] = [];
  let spans = 0;
  for (let t = 0; t < TRACES; t++) {
    const run = agentTrace(randomId(t + 1), 20 + Math.floor(rand() * 181), { seed: t });
    const r = rand();
    if (r < 0.05) run.find((s) => s.name === 'tool.call')!.status = { code: 2, message: 'x' };
    else if (r < 0.07) run[1].attributes.push(attr('http.status_code', 503));
    else if (r < 0.1) run[0].endTimeUnixNano = run[0].startTimeUnixNano + 40_000_000_000n;
    spans += run.length;
    batches.push(batch(run));
  }
  return { batches, spans };
}

// ---- naive baseline -------------------------------------------------------------------------

function naiveDecide(spans: Span[]): boolean {
  const maps = spans.map((s) => new Map(s.attributes.map((kv) => [kv.key, kv.value])));
  if (spans.some((s, i) => s.status?.code === 2 && maps[i].has('tool.name'))) return true;
  if (
    maps.some((m) => {
      const v = m.get('http.status_code');
      const n = v?.intValue !== undefined ? Number(v.intValue) : v?.doubleValue;
      return n !== undefined && n >= 500 && n <= 599;
    })
  )
    return true;
  const start = spans.reduce(
    (a, s) => (s.startTimeUnixNano < a ? s.startTimeUnixNano : a),
    spans[0].startTimeUnixNano,
  );
  const end = spans.reduce((a, s) => (s.endTimeUnixNano > a ? s.endTimeUnixNano : a), 0n);
  if (Number((end - start) / 1_000_000n) >= 30_000) return true;
  const hex = Buffer.from(spans[0].traceId).toString('hex');
  return createHash('sha256').update(hex).digest().readUInt32BE(0) < 0.1 * 2 ** 32;
}

// ---- measurement ----------------------------------------------------------------------------

function report(name: string, items: number, ns: number, spans?: number): void {
  const line: Record<string, unknown> = {
    name,
    items,
    items_per_s: Math.round((items / ns) * 1e9),
    ns_per_item: Math.round(ns / items),
  };
  if (spans !== undefined) line.spans_per_s = Math.round((spans / ns) * 1e9);
  console.log(JSON.stringify(line));
}

function best(rounds: number, setup: () => () => number): { ns: number; out: number } {
  let ns = Infinity;
  let out = 0;
  for (let r = 0; r < rounds + 1; r++) {
    const run = setup();
    const t0 = process.hrtime.bigint();
    out = run();
    const dt = Number(process.hrtime.bigint() - t0);
    if (r > 0) ns = Math.min(ns, dt); // round 0 warms up the JIT
  }
  return { ns, out };
}

const { batches, spans } = workload();

const decide = best(ROUNDS, () => {
  const sampler = new TailSampler(tailConfig);
  for (const b of batches) sampler.add(b, 0);
  return () => sampler.poll(30_000).length;
});
if (decide.out !== TRACES) throw new Error(`decided ${decide.out} of ${TRACES}`);
report('tail.decide (4 policies, decisions/s)', TRACES, decide.ns);

const traceSpans = batches.map((b) => b.resourceSpans[0].scopeSpans[0].spans);
const naive = best(ROUNDS, () => () => {
  let n = 0;
  for (const s of traceSpans) {
    naiveDecide(s);
    n++;
  }
  return n;
});
report('naive.decide (baseline, decisions/s)', TRACES, naive.ns);

const e2e = best(ROUNDS, () => () => {
  const sampler = new TailSampler(tailConfig);
  let out = 0;
  for (const b of batches) out += sampler.add(b, 0).length;
  return out + sampler.poll(30_000).length;
});
report('tail.add+decide (traces/s)', TRACES, e2e.ns, spans);

let sampledTraces = 0;
{
  const sampler = new TailSampler(tailConfig);
  for (const b of batches) sampler.add(b, 0);
  sampledTraces = sampler.poll(30_000).filter((d) => d.decision.sampled).length;
}
console.log(
  JSON.stringify({ name: 'workload', traces: TRACES, spans, sampled_traces: sampledTraces }),
);
