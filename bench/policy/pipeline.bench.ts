/**
 * Issue #4's benchmark shape: attributes + redaction (`CompiledPolicy.prepareTraces`) on a
 * realistic mix of agent spans — per run 1 root, 2–3 LLM calls with ~2 KB of prompt JSON and 2
 * events, 3–4 tool calls, 1 retrieval; 15 attributes per span; secrets and PII in 5% of the
 * prompts (libs/policy/testdata/redaction/agent-runs.ts). Target: ≥ 250k spans/s per core
 * (≈ 4 µs per span).
 *
 * Policies:
 * - DEFAULT_POLICY: every built-in detector, credential keys masked, GenAI content restricted;
 * - default + agent platform: the same redaction with agent-platform.yaml's attribute actions
 *   (insert, hash, delete by pattern, extract, convert; upsert on the resource) and tail
 *   sampling (compiled, but the tail stage runs after prepareTraces and is not timed here);
 * - agent-platform.yaml as written (adds a tenant RE2 pattern, which runs through re2js).
 * Baselines, in the same run: the same stages with the redaction engine in reference mode (the
 * full global scan of the combined pattern per string, and every JSON string parsed and walked —
 * the path before the prefilter and the unparsed-JSON fast path); and the default policy with
 * the prefilter's character pass in JavaScript instead of WebAssembly SIMD (prefilter.wat),
 * timed in turn with the default, round by round.
 *
 * Each round builds fresh spans (redaction works in place), decoded from OTLP protobuf as the
 * worker's are, and times prepareTraces only.
 * Prints one JSON object per line: name, spans, items_per_s, ns_per_item, us_per_span.
 *
 * Run: node --require ./bench/register.js bench/policy/pipeline.bench.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTraces, encodeTraces, type TracesData } from '@custodian/otlp';
import {
  compilePolicy,
  compileRedaction,
  DEFAULT_POLICY,
  parsePolicy,
  type PolicyDocument,
} from '@custodian/policy';
import { agentRuns, spanCount } from '../../libs/policy/testdata/redaction/agent-runs';

const RUNS_PER_BATCH = 100; // ≈ 900 spans
const ROUNDS = 25;
const HMAC_KEY = new Uint8Array(32).fill(9);
const ctx = { tenantId: 'tenant-a' };

type Prepare = (d: TracesData) => unknown;

/**
 * Times `prepare` of each variant on the same batches, round by round in turn, so every variant
 * sees the same machine: this machine's speed drifts by tens of percent within a minute, and
 * variants measured one after the other would compare the drift.
 */
function measure(
  variants: [name: string, prepare: Prepare][],
  secretRate = 0.05,
  reshape: (d: TracesData) => TracesData = (d) => d,
): void {
  // Each round decodes its batch from OTLP protobuf, untimed, as the worker does before
  // prepareTraces: the strings are then flat, as decoded ones are, not the concatenations and
  // slices the generator builds (whose flattening would otherwise land in the timed region).
  const batch = (seed: number): TracesData =>
    decodeTraces(encodeTraces(reshape(agentRuns({ runs: RUNS_PER_BATCH, secretRate, seed }))));
  for (let r = 0; r < 3; r++) for (const [, prepare] of variants) prepare(batch(r + 1)); // warm-up
  const perSpan = variants.map((): number[] => []);
  let spans = 0;
  for (let r = 0; r < ROUNDS; r++) {
    variants.forEach(([, prepare], v) => {
      const data = batch(100 + r);
      spans = spanCount(data);
      const t0 = process.hrtime.bigint();
      prepare(data);
      perSpan[v].push(Number(process.hrtime.bigint() - t0) / spans);
    });
  }
  variants.forEach(([name], v) => {
    const sorted = perSpan[v].sort((a, b) => a - b);
    const ns = sorted[Math.floor(ROUNDS / 2)];
    console.log(
      JSON.stringify({
        name,
        spans,
        items_per_s: Math.round(1e9 / ns),
        ns_per_item: Math.round(ns),
        us_per_span: Math.round(ns / 10) / 100,
      }),
    );
  });
}

const agentYaml = readFileSync(
  join(__dirname, '../../libs/policy/testdata/policies/agent-platform.yaml'),
  'utf8',
);
const agentDoc = parsePolicy(agentYaml, 'yaml').policy;
if (!agentDoc) throw new Error('agent-platform.yaml does not parse');
const defaultPlus: PolicyDocument = {
  ...structuredClone(DEFAULT_POLICY),
  attributes: structuredClone(agentDoc.attributes),
  sampling: structuredClone(agentDoc.sampling),
};

const policies: [string, PolicyDocument][] = [
  ['DEFAULT_POLICY', DEFAULT_POLICY],
  ['default + agent platform (5 attribute actions, tail sampling)', defaultPlus],
  ['agent-platform.yaml (adds a tenant RE2 pattern)', agentDoc],
];

const sample = agentRuns({ runs: RUNS_PER_BATCH, seed: 1 });
let chars = 0;
for (const s of sample.resourceSpans[0].scopeSpans[0].spans)
  for (const a of s.attributes) chars += a.value.stringValue?.length ?? 0;
console.log(
  JSON.stringify({
    name: 'agent runs: shape',
    spans_per_batch: spanCount(sample),
    string_chars_per_span: Math.round(chars / spanCount(sample)),
  }),
);

for (const [label, doc] of policies) {
  const policy = compilePolicy(doc, { hmacKey: HMAC_KEY });
  // the path before the prefilter: same stages, redaction engine in reference (full scan) mode
  const reference = compileRedaction(doc.redaction, { hmacKey: HMAC_KEY, referenceScan: true });
  measure([
    [`prepareTraces (attributes + redaction): ${label}`, (d) => policy.prepareTraces(d, ctx)],
    [
      `baseline, full-scan redaction: ${label}`,
      (d) => {
        if (!policy.attributes.isEmpty) policy.attributes.applyToTraces(d, ctx);
        return reference.redactTraces(d);
      },
    ],
  ]);
}

const policy = compilePolicy(DEFAULT_POLICY, { hmacKey: HMAC_KEY });
// the prefilter's character pass as JavaScript: where WebAssembly SIMD is unavailable, and the
// path before prefilter.wat
const jsPass = compilePolicy(DEFAULT_POLICY, { hmacKey: HMAC_KEY, simdPrefilter: false });
measure([
  [
    'prepareTraces: DEFAULT_POLICY (prefilter pass in WebAssembly SIMD)',
    (d) => policy.prepareTraces(d, ctx),
  ],
  ['baseline: DEFAULT_POLICY, prefilter pass in JavaScript', (d) => jsPass.prepareTraces(d, ctx)],
]);
measure(
  [['prepareTraces: DEFAULT_POLICY, no secrets at all', (d) => policy.prepareTraces(d, ctx)]],
  0,
);
measure(
  [['prepareTraces: DEFAULT_POLICY, secrets in every prompt', (d) => policy.prepareTraces(d, ctx)]],
  1,
);
// real prompts are multi-line: their JSON is full of \n escapes, so it is parsed (compile.ts)
const multiline = (d: TracesData): TracesData => {
  for (const s of d.resourceSpans[0].scopeSpans[0].spans)
    for (const a of s.attributes)
      if (a.key.startsWith('gen_ai.') && a.value.stringValue?.startsWith('['))
        a.value.stringValue = a.value.stringValue.replace(/\. /g, '.\\n');
  return d;
};
measure(
  [
    [
      'prepareTraces: DEFAULT_POLICY, multi-line prompts (\\n escapes in the JSON)',
      (d) => policy.prepareTraces(d, ctx),
    ],
  ],
  0.05,
  multiline,
);
