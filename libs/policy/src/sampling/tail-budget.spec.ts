import fc from 'fast-check';
import { batch, span, traceId } from '../../testdata/fixtures';
import type { TailSamplingConfig } from './tail-config';
import { TailBufferBudget } from './tail-budget';
import { TailSampler, type DecidedTrace } from './tail-sampler';
import { traceIdHex } from './trace-id';

const config = (over: Partial<TailSamplingConfig> = {}): TailSamplingConfig => ({
  decision_wait: '10s',
  policies: [{ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } }],
  ...over,
});

/** Every span is 100 estimated bytes, so budgets read as span counts × 100. */
const SPAN_BYTES = 100;

/** A sampler seated at `budget` for `tenant`; what others' adds evict lands in `evicted`. */
function seated(
  budget: TailBufferBudget,
  tenant: string,
  over: Partial<TailSamplingConfig> = {},
): { sampler: TailSampler; evicted: DecidedTrace[] } {
  const evicted: DecidedTrace[] = [];
  const sampler = new TailSampler(config(over), {
    spanBytes: () => SPAN_BYTES,
    budget: { budget, tenantId: tenant, onEvicted: (d) => evicted.push(...d) },
  });
  return { sampler, evicted };
}

const spans = (id: number, n: number, status = 0) =>
  batch(Array.from({ length: n }, () => span({ traceId: traceId(id), status })));

describe('TailBufferBudget', () => {
  it('bounds several samplers together: past the global budget the oldest trace is decided early', () => {
    const budget = new TailBufferBudget({ maxBytes: 1_000, tenantMaxBytes: 900 });
    const p0 = seated(budget, 't1');
    const p1 = seated(budget, 't1');
    const other = seated(budget, 'u');
    p0.sampler.add(spans(1, 4, 2), 0); // t1 400, the oldest; an error trace
    p1.sampler.add(spans(2, 3), 1); // t1 700
    other.sampler.add(spans(3, 2), 2); // u 200, total 900
    const out = p1.sampler.add(spans(4, 2), 3); // t1 900 (within its cap), total 1,100
    expect(out).toEqual([]);
    // The oldest trace of the largest tenant was in the other partition's sampler: it went to
    // that seat's listener, decided on what had arrived (kept: an error), cause `budget`.
    expect(p0.evicted.map((d) => [d.traceId, d.cause, d.decision.sampled, d.spanCount])).toEqual([
      [traceIdHex(traceId(1)), 'budget', true, 4],
    ]);
    expect(other.evicted).toEqual([]);
    expect(budget.bytes).toBe(700);
    expect(budget.bytes).toBe(
      p0.sampler.stats.bytesBuffered +
        p1.sampler.stats.bytesBuffered +
        other.sampler.stats.bytesBuffered,
    );
    expect(budget.evictions().get('t1')).toEqual({ tenant: 0, global: 1, spans: 4 });
    expect(p0.sampler.stats.earlyDecisions.budget).toBe(1);
  });

  it("decides the LARGEST tenant's traces first, so one tenant's spike does not evict the others", () => {
    const budget = new TailBufferBudget({ maxBytes: 1_000, tenantMaxBytes: 1_000 });
    const quiet = seated(budget, 'quiet');
    const spiky = seated(budget, 'spiky');
    quiet.sampler.add(spans(1, 2), 0); // the oldest trace of all, 200
    spiky.sampler.add(spans(2, 3), 1);
    spiky.sampler.add(spans(3, 3), 2);
    const out = spiky.sampler.add(spans(4, 3), 3); // spiky 900 + quiet 200 > 1,000
    expect(out.map((d) => [d.traceId, d.cause])).toEqual([[traceIdHex(traceId(2)), 'budget']]);
    expect(quiet.evicted).toEqual([]);
    expect(quiet.sampler.stats.tracesBuffered).toBe(1);
    expect(budget.tenantBytes()).toEqual(
      new Map([
        ['quiet', 200],
        ['spiky', 600],
      ]),
    );
    expect(budget.evictions().get('spiky')).toEqual({ tenant: 0, global: 1, spans: 3 });
    expect(budget.evictions().get('quiet')).toEqual({ tenant: 0, global: 0, spans: 0 });
  });

  it("caps one tenant at its share, or at its policy's smaller max_buffered_bytes", () => {
    const budget = new TailBufferBudget({ maxBytes: 10_000 });
    expect(budget.tenantMaxBytes).toBe(5_000);
    const big = seated(budget, 'big');
    for (let i = 0; i < 6; i++) big.sampler.add(spans(i, 10), i);
    expect(budget.tenantBytes().get('big')).toBe(5_000);
    expect(budget.evictions().get('big')).toMatchObject({ tenant: 1, global: 0 });

    // max_buffered_bytes 300 is this tenant's cap across ALL its samplers (two partitions).
    const small0 = seated(budget, 'small', { max_buffered_bytes: 300 });
    const small1 = seated(budget, 'small', { max_buffered_bytes: 300 });
    expect(budget.tenantCap('small')).toBe(300);
    small0.sampler.add(spans(100, 2), 10);
    small1.sampler.add(spans(101, 2), 11);
    expect(small0.evicted.map((d) => d.traceId)).toEqual([traceIdHex(traceId(100))]);
    expect(budget.tenantBytes().get('small')).toBe(200);
    expect(budget.evictions().get('small')).toMatchObject({ tenant: 1, global: 0, spans: 2 });
  });

  it('frees what a sampler holds when it leaves (partition revoked, policy replaced)', () => {
    const budget = new TailBufferBudget({ maxBytes: 1_000 });
    const a = seated(budget, 't');
    const b = seated(budget, 't');
    a.sampler.add(spans(1, 3), 0);
    b.sampler.add(spans(2, 2), 0);
    a.sampler.leaveBudget();
    expect(budget.bytes).toBe(200);
    expect(budget.tenantBytes().get('t')).toBe(200);
    // A left sampler is never chosen again, and its later flush does not count twice.
    a.sampler.flushAll(1);
    expect(budget.bytes).toBe(200);
    b.sampler.flushAll(1);
    expect(budget.bytes).toBe(0);
  });

  it('property: never loses a span, stays within the budget after each add, counts every early decision', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            sampler: fc.integer({ min: 0, max: 5 }),
            trace: fc.integer({ min: 0, max: 40 }),
            spans: fc.integer({ min: 1, max: 6 }),
            poll: fc.boolean(),
          }),
          { maxLength: 120 },
        ),
        (steps) => {
          const budget = new TailBufferBudget({ maxBytes: 2_000, tenantMaxBytes: 1_200 });
          // Six samplers: tenants a, b, c on two partitions each.
          const seats = [0, 1, 2, 3, 4, 5].map((i) => seated(budget, 'abc'[i % 3]));
          const out: DecidedTrace[] = [];
          let added = 0;
          let now = 0;
          for (const st of steps) {
            now += 100;
            const s = seats[st.sampler];
            // Trace ids are per tenant, as the worker keys samplers per tenant.
            const id = st.trace * 3 + (st.sampler % 3);
            out.push(...s.sampler.add(spans(id, st.spans), now));
            added += st.spans;
            if (st.poll) out.push(...s.sampler.poll(now));
            // Largest trace is 6 spans = 600 bytes: at most that over after an add is not
            // allowed; the budget decides until within bounds.
            expect(budget.bytes).toBeLessThanOrEqual(2_000);
            for (const bytes of budget.tenantBytes().values())
              expect(bytes).toBeLessThanOrEqual(1_200);
            expect(budget.bytes).toBe(seats.reduce((n, x) => n + x.sampler.stats.bytesBuffered, 0));
          }
          for (const s of seats) out.push(...s.evicted, ...s.sampler.flushAll(now));
          expect(out.reduce((n, d) => n + d.spanCount, 0)).toBe(added);
          expect(budget.bytes).toBe(0);
          const budgetEarly = seats.reduce((n, s) => n + s.sampler.stats.earlyDecisions.budget, 0);
          let counted = 0;
          for (const e of budget.evictions().values()) counted += e.tenant + e.global;
          expect(counted).toBe(budgetEarly);
          expect(out.filter((d) => d.cause === 'budget')).toHaveLength(budgetEarly);
        },
      ),
      { numRuns: 200 },
    );
  });
});
