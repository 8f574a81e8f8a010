/**
 * The worker's pure per-record hot path without any I/O (issue #5 profiling): the bytes of a
 * Kafka record → decodeTraces → prepareTraces (attributes + redaction, the platform default
 * policy) → encodeTraces (the export). The pipeline benchmark (bench/worker/pipeline.bench.ts)
 * profiled with --cpu-prof shows these stages plus GC as most of the worker's CPU; this bench
 * times them in isolation so a codec or redaction change can be compared in one run.
 *
 * Variants, in the same run (each the median of 15 rounds; GC included, since allocation is
 * a large part of the cost):
 *   - decoder with the key/name interner (the default) vs without (`interner: null`: every
 *     key decoded afresh; this baseline already has the native slicing of 9+ byte strings);
 *   - decode only, decode + prepareTraces, decode + prepareTraces + encode.
 *   - held vs not held: decode + prepare, the batch then kept in a FIFO as the tail sampler keeps
 *     it for decision_wait (HOLD batches ≈ 120k spans ≈ 5 s at the worker's rate) before a quarter
 *     of it is encoded (the kept share), against the same work with nothing held. The difference
 *     is what holding decoded objects costs the garbage collector: every object that outlives a
 *     young-generation collection is copied (twice, on its way to the old generation).
 * Payload: 100 agent runs (~900 spans, ~2 KB prompts, 15 attributes per span, secrets in 5%),
 * libs/policy/testdata/redaction/agent-runs.ts, encoded once with encodeTraces.
 *
 * Measured 2026-11-24 (2-core Xeon, shared): decode 4.1 vs 6.0 µs/span, decode + prepare +
 * encode 14.8 vs 16.2 µs/span. Against the decoder before issue #5's changes (HEAD's libs/otlp,
 * same process, interleaved): decode 8.9–12.0 → 5.5–5.8 µs/span, decode + prepare + encode
 * 23.8–25.0 → 15.6–15.8 µs/span.
 *
 * Held vs not held, 2026-11-24 (third session, shared machine): 12.3 vs 16.0 µs/span; on the
 * pipeline benchmark's smaller spans (15 attributes, every span redacted) 9.8 vs 18.2 µs/span —
 * holding decoded spans is the largest single cost after redaction, and the case for keeping
 * the tail buffer compact (fewer, smaller objects per buffered span).
 *
 * Run: node --require ./bench/register.js bench/worker/hot-path.bench.ts
 * Prints one JSON object per line: name, items/s (spans), ns/item, MB/s of record bytes.
 */
import { decodeTraces, encodeTraces, StringInterner, type TracesData } from '@custodian/otlp';
import { compilePolicy, DEFAULT_POLICY } from '@custodian/policy';
import { agentRuns, spanCount } from '../../libs/policy/testdata/redaction/agent-runs';
import { measure } from '../otlp/harness';

const HMAC_KEY = new Uint8Array(32).fill(9);
const ctx = { tenantId: 'tenant-a' };
const data = agentRuns({ runs: 100, secretRate: 0.05, seed: 7 });
const spans = spanCount(data);
const bytes = encodeTraces(data);
const policy = compilePolicy(DEFAULT_POLICY, { hmacKey: HMAC_KEY });
console.log(JSON.stringify({ payload: { spans, bytes: bytes.length } }));

const variants: [string, StringInterner | null][] = [
  ['interned (default)', new StringInterner()],
  ['baseline: no interner', null],
];
for (const stage of ['decode', 'decode+prepare', 'decode+prepare+encode'] as const) {
  for (const [label, interner] of variants) {
    measure(`${stage}: ${label}`, spans, bytes.length, () => {
      const d = decodeTraces(bytes, { interner });
      if (stage === 'decode') return d;
      policy.prepareTraces(d, ctx);
      return stage === 'decode+prepare' ? d : encodeTraces(d);
    });
  }
}

// Held vs not held (see above): the same decode + prepare per call, a quarter encoded.
const HOLD = Number(process.env.BENCH_HOLD ?? 150);
for (const hold of [0, HOLD]) {
  const fifo: TracesData[] = [];
  let call = 0;
  const step = () => {
    const d = decodeTraces(bytes);
    policy.prepareTraces(d, ctx);
    fifo.push(d);
    const old = fifo.length > hold ? fifo.shift() : undefined;
    if (old && call++ % 4 === 0)
      return encodeTraces(policy.deliverTraces(old.resourceSpans)[0].data);
    return old;
  };
  for (let i = 0; i < hold; i++) step(); // the buffer full before timing starts
  measure(
    `decode+prepare, ${hold ? `held (${hold} batches)` : 'not held'}, 1/4 encoded`,
    spans,
    bytes.length,
    step,
  );
}
