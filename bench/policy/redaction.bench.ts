/**
 * Spans/s through the redaction stage with the default platform policy, on a realistic agent
 * LLM-call span: 20 attributes, ~3 KB of GenAI message JSON (input and output), a few secrets
 * (email, card, phone, OpenAI key, an IP, an Authorization header).
 *
 * Compared, in the same run, with the engine in reference mode (`referenceScan`: the full
 * global scan of the combined pattern per string, the path before issue #4's prefilter), and
 * with a naive baseline written the obvious way: every string
 * attribute run through each built-in detector as its own regex pass (`String.replace` per
 * detector, no validators), and GenAI content always JSON-parsed and re-serialized. Also a
 * "clean" case (the same span without secrets: what most spans look like) and the cost of
 * building fresh spans alone, since redaction mutates in place and each round needs new ones.
 *
 * Target context: the worker's budget is ~25 µs per span for every stage together.
 *
 * Run: node --require ./bench/register.js bench/policy/redaction.bench.ts
 * Prints one JSON object per line: name, spans, items_per_s, ns_per_item.
 */
import type { Span, TracesData } from '@custodian/otlp';
import {
  builtinDetectorSources,
  compileRedaction,
  DEFAULT_REDACTION_CONFIG,
} from '@custodian/policy';
import { agentSpan, makeSpan, traces } from '../../libs/policy/testdata/redaction/testkit';

const SPANS = 2_000;
const ROUNDS = 7;

function batchOf(make: (i: number) => Span): TracesData {
  const spans: Span[] = [];
  for (let i = 0; i < SPANS; i++) spans.push(make(i));
  return traces(spans);
}

/** The agent span with the secrets taken out (same shape and size). */
function cleanSpan(i: number): Span {
  const s = agentSpan(i);
  for (const kv of s.attributes) {
    if (kv.value.stringValue === undefined) continue;
    kv.value.stringValue = kv.value.stringValue
      .replace(/jane\.doe\d+@example\.com/g, 'Jane Doe from accounting')
      .replace(/4111 1111 1111 1111/g, 'the visa ending 1111')
      .replace(/\+1 415 555 2671/g, 'the usual number')
      .replace(/sk-proj-[A-Za-z0-9]+/g, 'our production key')
      .replace(/10\.12\.0\.7/g, 'the gateway')
      .replace(/^Bearer .*/, 'none');
  }
  return s;
}

const naiveDetectors = builtinDetectorSources().map((d) => ({
  re: new RegExp(d.source, 'g'),
  token: `[REDACTED:${d.id}]`,
}));
const naiveContent = new Set(['gen_ai.input.messages', 'gen_ai.output.messages']);

function naiveString(s: string): string {
  for (const d of naiveDetectors) s = s.replace(d.re, d.token);
  return s;
}

function naiveJson(v: unknown): unknown {
  if (typeof v === 'string') return naiveString(v);
  if (Array.isArray(v)) return v.map(naiveJson);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, naiveJson(x)]));
  return v;
}

/** The naive baseline: a separate regex pass per detector, content always parsed. */
function naiveRedact(data: TracesData): number {
  let n = 0;
  for (const rs of data.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const span of ss.spans) {
        span.name = naiveString(span.name);
        for (const kv of span.attributes) {
          const s = kv.value.stringValue;
          if (s === undefined) continue;
          const out = naiveContent.has(kv.key)
            ? JSON.stringify(naiveJson(JSON.parse(s)))
            : naiveString(s);
          if (out !== s) n++;
          kv.value.stringValue = out;
        }
      }
  return n;
}

function measure(name: string, make: (i: number) => Span, run: (d: TracesData) => unknown): void {
  // warm-up
  for (let r = 0; r < 2; r++) run(batchOf(make));
  const perSpan: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const data = batchOf(make);
    const t0 = process.hrtime.bigint();
    run(data);
    perSpan.push(Number(process.hrtime.bigint() - t0) / SPANS);
  }
  perSpan.sort((a, b) => a - b);
  const ns = perSpan[Math.floor(ROUNDS / 2)];
  console.log(
    JSON.stringify({
      name,
      spans: SPANS,
      items_per_s: Math.round(1e9 / ns),
      ns_per_item: Math.round(ns),
    }),
  );
}

const compiled = compileRedaction(DEFAULT_REDACTION_CONFIG, {
  hmacKey: new Uint8Array(32).fill(9),
});
const bytes = agentSpan(0).attributes.reduce((n, kv) => n + (kv.value.stringValue?.length ?? 0), 0);
console.log(
  JSON.stringify({
    name: 'agent span string bytes',
    bytes,
    attributes: agentSpan(0).attributes.length,
  }),
);

measure('redaction: default policy, agent span with secrets', agentSpan, (d) =>
  compiled.redactTraces(d),
);
measure('redaction: default policy, agent span without secrets', cleanSpan, (d) =>
  compiled.redactTraces(d),
);
const reference = compileRedaction(DEFAULT_REDACTION_CONFIG, {
  hmacKey: new Uint8Array(32).fill(9),
  referenceScan: true,
});
measure('baseline: full scan (reference mode), agent span with secrets', agentSpan, (d) =>
  reference.redactTraces(d),
);
measure('baseline: full scan (reference mode), agent span without secrets', cleanSpan, (d) =>
  reference.redactTraces(d),
);
measure(
  'baseline: naive (one regex pass per detector), agent span with secrets',
  agentSpan,
  naiveRedact,
);
measure(
  'baseline: naive (one regex pass per detector), agent span without secrets',
  cleanSpan,
  naiveRedact,
);
measure(
  'reference: a span with 20 short attributes, default policy',
  (i) =>
    makeSpan(
      agentSpan(i).attributes.filter(
        (kv) => !kv.key.startsWith('gen_ai.input') && !kv.key.startsWith('gen_ai.output'),
      ),
    ),
  (d) => compiled.redactTraces(d),
);
