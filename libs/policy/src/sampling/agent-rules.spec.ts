/**
 * The agent rules of issue #4 as one policy document (testdata/policies/agent-rules.yaml),
 * driven with agent-shaped traces through the compiled policy's TailSampler on simulated
 * time: every run with a failed tool span, a 401/403/429/5xx or lasting 30 s or more is kept,
 * and the rest is sampled at the configured 10 %.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Span } from '@custodian/otlp';
import { agentTrace, attr, batch } from '../../testdata/fixtures';
import { compilePolicy } from '../document/compile';
import { parsePolicy } from '../document/policy';
import type { DecidedTrace } from './tail-sampler';
import { traceIdHex } from './trace-id';

const parsed = parsePolicy(
  readFileSync(join(__dirname, '../../testdata/policies/agent-rules.yaml'), 'utf8'),
  'yaml',
);
const compiled = compilePolicy(parsed.policy!, { hmacKey: new Uint8Array(32) });

type Trouble = 'none' | 'tool_error' | 'llm_error' | 'http' | 'slow';
interface Run {
  id: Uint8Array;
  spans: Span[];
  mustKeep: boolean;
}

const NS_PER_MS = 1_000_000n;

/** A random-looking (W3C-style) 16-byte trace id, deterministic in n. */
function traceId(n: number): Uint8Array {
  const id = new Uint8Array(16);
  let s = n >>> 0;
  for (let i = 0; i < 16; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    id[i] = s >>> 24;
  }
  return id;
}

/** An agent run (20–60 spans) with at most one kind of trouble. */
function run(n: number, trouble: Trouble, httpStatus = 0, durationMs = 8_000): Run {
  const id = traceId(n);
  const spans = agentTrace(id, 20 + (n % 41), { seed: n });
  const root = spans[0];
  root.endTimeUnixNano = root.startTimeUnixNano + BigInt(durationMs) * NS_PER_MS;
  for (const s of spans.slice(1)) {
    if (s.endTimeUnixNano > root.endTimeUnixNano) s.endTimeUnixNano = root.endTimeUnixNano;
  }
  const tool = spans.find((s) => s.name === 'tool.call')!;
  const llm = spans.find((s) => s.name === 'llm.chat')!;
  if (trouble === 'tool_error') tool.status = { code: 2, message: 'tool failed' };
  if (trouble === 'llm_error') llm.status = { code: 2, message: 'model overloaded' };
  if (trouble === 'http') llm.attributes.push(attr('http.status_code', httpStatus));
  const keepHttp = [401, 403, 429].includes(httpStatus) || (httpStatus >= 500 && httpStatus < 600);
  const mustKeep =
    trouble === 'tool_error' || (trouble === 'http' && keepHttp) || durationMs >= 30_000;
  return { id, spans, mustKeep };
}

/** Feeds runs interleaved in batches of up to 32 spans, then lets decision_wait pass. */
function drive(runs: Run[]): Map<string, DecidedTrace> {
  const sampler = compiled.createTailSampler()!;
  const decided = new Map<string, DecidedTrace>();
  const collect = (out: DecidedTrace[]) => {
    for (const d of out) {
      expect(decided.has(d.traceId)).toBe(false);
      decided.set(d.traceId, d);
    }
  };
  const cursors = runs.map(() => 0);
  let now = 0;
  for (let open = runs.length; open > 0;) {
    open = 0;
    for (let r = 0; r < runs.length; r += 4) {
      const chunk: Span[] = [];
      for (let g = r; g < Math.min(r + 4, runs.length); g++) {
        const take = runs[g].spans.slice(cursors[g], cursors[g] + 8);
        cursors[g] += take.length;
        chunk.push(...take);
        if (cursors[g] < runs[g].spans.length) open++;
      }
      if (chunk.length) collect(sampler.add(batch(chunk), now));
    }
    now += 100;
  }
  collect(sampler.poll(now + 30_000));
  expect(sampler.stats.tracesBuffered).toBe(0);
  return decided;
}

describe('agent-rules.yaml', () => {
  it('is a valid policy document', () => {
    expect(parsed.problems).toEqual([]);
    expect(parsed.policy!.sampling.tail!.policies.map((p) => p.type)).toEqual([
      'span_match',
      'span_match',
      'numeric_attribute',
      'latency',
      'probabilistic',
    ]);
  });

  it('keeps every run with a failed tool span, an auth/throttling/5xx status or 30 s+', () => {
    const runs: Run[] = [];
    let n = 1;
    for (let i = 0; i < 40; i++) runs.push(run(n++, 'tool_error'));
    for (const status of [401, 403, 429, 500, 502, 503, 599])
      for (let i = 0; i < 10; i++) runs.push(run(n++, 'http', status));
    for (let i = 0; i < 30; i++) runs.push(run(n++, 'slow', 0, 30_000 + i * 1_000));
    const decided = drive(runs);
    for (const r of runs) {
      const d = decided.get(traceIdHex(r.id))!;
      expect(d.spanCount).toBe(r.spans.length);
      expect([traceIdHex(r.id), d.decision.sampled]).toEqual([traceIdHex(r.id), true]);
    }
    const by = (policy: string) =>
      [...decided.values()].filter((d) => d.decision.policy === policy).length;
    expect(by('failed-tool')).toBe(40);
    expect(by('auth-or-throttled')).toBe(30);
    expect(by('server-error')).toBe(40);
    expect(by('slow-run')).toBe(30);
  });

  it('samples the rest — healthy runs, failed LLM calls, 404s, 29 s runs — at 10 %', () => {
    const runs: Run[] = [];
    for (let n = 10_000; n < 14_000; n++) {
      const k = n % 4;
      if (k === 0) runs.push(run(n, 'none'));
      else if (k === 1) runs.push(run(n, 'llm_error'));
      else if (k === 2) runs.push(run(n, 'http', 404));
      else runs.push(run(n, 'slow', 0, 29_999));
    }
    const decided = drive(runs);
    expect(decided.size).toBe(runs.length);
    const kept = [...decided.values()].filter((d) => d.decision.sampled);
    expect(kept.every((d) => d.decision.policy === 'the-rest')).toBe(true);
    // 4000 runs at p = 0.1: sd ≈ 19, so ± 60 is over 3 sd.
    expect(Math.abs(kept.length - 400)).toBeLessThan(60);
  });

  it('property: a run is kept whenever a rule says so, and the decision depends only on the run', () => {
    const troubleArb = fc.constantFrom<Trouble>('none', 'tool_error', 'llm_error', 'http', 'slow');
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            n: fc.integer({ min: 1, max: 1_000_000 }),
            trouble: troubleArb,
            status: fc.constantFrom(200, 401, 403, 404, 429, 500, 503),
            duration: fc.integer({ min: 1_000, max: 60_000 }),
          }),
          { minLength: 1, maxLength: 24, selector: (r) => r.n },
        ),
        (specs) => {
          const make = () =>
            specs.map((s) => run(s.n, s.trouble, s.trouble === 'http' ? s.status : 0, s.duration));
          const runs = make();
          const first = drive(runs);
          const again = drive(make().reverse());
          for (const r of runs) {
            const d = first.get(traceIdHex(r.id))!;
            if (r.mustKeep) expect(d.decision.sampled).toBe(true);
            expect(again.get(traceIdHex(r.id))!.decision).toEqual(d.decision);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
